#!/bin/busybox sh
# /init of the VM test's guest (see test/vm/run.sh). Console: ttyS0. Results: ttyS1.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
ip link set lo up
stty -F /dev/ttyS1 raw -echo 2>/dev/null
. /etc/socktop-vm.env
export SOCKTOP_VM_N SOCKTOP_VM_M SOCKTOP_VM_PROBES SOCKTOP_VM_RAW
export SOCKTOP_VM_RESULTS=/dev/ttyS1
echo "GUEST: kernel $(uname -r), $(nproc) cpus, up $(cut -d' ' -f1 /proc/uptime) s"
cd /socktop
/usr/bin/node dist/test/vm/guest.js
echo "GUEST: guest.js exit=$?, up $(cut -d' ' -f1 /proc/uptime) s"
sleep 1 # let the serial ports drain before the power goes
poweroff -f
