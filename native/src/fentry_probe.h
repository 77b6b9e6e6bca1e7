// fentry_probe.h: does this kernel accept fentry (BPF_PROG_TYPE_TRACING) programs? For `check`.
#pragma once

namespace socktop {

// Loads and attaches a do-nothing fentry program on a common kernel function, then drops it.
// False on any failure (no BTF, no privileges, kernel refuses trampolines, ...).
bool ProbeFentry();

}  // namespace socktop
