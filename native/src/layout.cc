// layout.cc: the compiler's view of bpf/socktop.h, so the TS mirror is checked, not trusted.
#include "layout.h"

#include <linux/types.h>

#include <cstddef>

#include "../../bpf/socktop.h"

namespace socktop {

// Every field of struct socktop_event, once. A field added to the header but not here trips the
// static_assert below (the header promises no padding, so the sizes must add up to the record).
#define SOCKTOP_FIELDS(X)                                                                   \
  X(ts_ns) X(sock) X(bytes_sent) X(bytes_received) X(duration_ns) X(pid) X(tid) X(uid)     \
  X(error) X(kind) X(family) X(proto) X(old_state) X(new_state) X(flags) X(lport) X(rport) \
  X(backend) X(flags2) X(count) X(laddr) X(raddr) X(comm) X(serial)    \
  X(cgroup_id) X(netns) X(reason) X(retries) X(reserved0) X(queue_len) X(queue_max) \
  X(peer_pid) X(path_id)

#define SOCKTOP_OFFSET(name) {#name, offsetof(struct socktop_event, name)},
#define SOCKTOP_SIZE(name) +sizeof(static_cast<struct socktop_event*>(nullptr)->name)

static_assert(0 SOCKTOP_FIELDS(SOCKTOP_SIZE) == sizeof(struct socktop_event),
              "native/src/layout.cc does not list every field of struct socktop_event");
static_assert(sizeof(struct socktop_event) == SOCKTOP_RECORD_SIZE, "record size drifted");

std::vector<std::pair<const char*, size_t>> EventLayout() {
  return {SOCKTOP_FIELDS(SOCKTOP_OFFSET){"size", sizeof(struct socktop_event)}};
}

#undef SOCKTOP_OFFSET
#undef SOCKTOP_SIZE
#undef SOCKTOP_FIELDS

}  // namespace socktop
