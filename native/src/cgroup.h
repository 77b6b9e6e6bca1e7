// cgroup.h: the cgroup v2 hierarchy whose root the cgroup backend's programs attach to.
#pragma once

#include <string>

namespace socktop {

struct CgroupRoot {
  std::string path;      // e.g. /sys/fs/cgroup (unified host) or /sys/fs/cgroup/unified (hybrid)
  bool mounted = false;  // socktop mounted it (there was no cgroup2 mount)
};

// The first cgroup2 mount in /proc/self/mountinfo whose root is the hierarchy's root ("/"), or ""
// when there is none. Read-only: no privileges needed (socktop check uses it).
std::string FindCgroup2Mount();

// FindCgroup2Mount(), or a new cgroup2 mount at /run/socktop/cgroup2 when there is none (root only).
// Throws std::runtime_error when it has to mount and cannot.
CgroupRoot EnsureCgroup2();

}  // namespace socktop
