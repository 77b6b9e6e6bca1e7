#!/bin/sh
# bench/netns.sh <cmd...>: run a command in a fresh network namespace (only lo, brought up; the
# whole 127.0.0.0/8 is routed to it), deleted again when the command ends or the script is
# interrupted (INT/TERM/HUP are passed to the command as SIGTERM). Needs root (or CAP_SYS_ADMIN +
# CAP_NET_ADMIN) and iproute2. The command's exit status is passed through.
#   bench/netns.sh bench/loadgen --rate 10000 --duration 3
#   bench/netns.sh sh -c 'ip -br addr; ss -s'
set -eu
if [ "$#" -eq 0 ]; then
	echo "usage: $0 <command> [args...]" >&2
	exit 2
fi
ns="socktop-bench-$$"
cleanup() {
	ip netns delete "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up

# Run in the background so a signal to this script is handled at once; an asynchronous command
# would get /dev/null as stdin, so hand it the script's stdin through fd 3.
exec 3<&0
ip netns exec "$ns" "$@" <&3 3<&- &
child=$!
exec 3<&-
trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM HUP
set +e
wait "$child"
rc=$?
# A trapped signal interrupts wait: wait again for the command's own status.
while kill -0 "$child" 2>/dev/null; do
	wait "$child"
	rc=$?
done
set -e
exit "$rc"
