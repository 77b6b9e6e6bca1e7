// privileges.h: whether this thread may load and attach BPF tracing programs.
#pragma once

namespace socktop {

// True with CAP_SYS_ADMIN, or with both CAP_BPF and CAP_PERFMON (kernel >= 5.8), in CapEff.
bool HasBpfPrivileges();

extern const char* const kPrivilegeHint;  // "needs root or CAP_BPF+CAP_PERFMON"

}  // namespace socktop
