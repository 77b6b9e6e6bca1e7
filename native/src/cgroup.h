// cgroup.h: the cgroup v2 hierarchy whose root the cgroup backend's programs attach to.
#pragma once

#include <string>
#include <vector>

namespace socktop {

struct CgroupRoot {
  std::string path;      // e.g. /sys/fs/cgroup (unified host) or /sys/fs/cgroup/unified (hybrid)
  bool mounted = false;  // socktop mounted it (there was no cgroup2 mount)
};

// The mounts of file system type `fstype` in /proc/self/mountinfo whose root is the file system's
// root ("/"), in mount order. Read-only: no privileges needed.
std::vector<std::string> FindMounts(const std::string& fstype);

// FindMount("cgroup2"): the cgroup v2 root (socktop check uses it).
std::string FindCgroup2Mount();

// FindCgroup2Mount(), or a new cgroup2 mount at /run/socktop/cgroup2 when there is none. Throws
// OpenError (open_error.h) with code EPERM when it has to mount and lacks the capabilities for it
// (CAP_SYS_ADMIN; CAP_DAC_OVERRIDE too for a non-root user, to create the mount point in /run),
// std::runtime_error for any other failure.
CgroupRoot EnsureCgroup2();

}  // namespace socktop
