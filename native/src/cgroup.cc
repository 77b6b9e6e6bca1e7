// cgroup.cc: finding (or mounting) the cgroup v2 root. See cgroup.h.
#include "cgroup.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "open_error.h"
#include "privileges.h"

namespace socktop {

namespace {

const char* const kOwnMount = "/run/socktop/cgroup2";

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
std::string Unescape(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); i++) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      out += char(std::stoi(field.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> FindMounts(const std::string& wanted) {
  std::vector<std::string> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mountpoint options [optional fields...] - fstype source superopts
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, dev, root, mountpoint, fstype;
    if (!(head >> id >> parent >> dev >> root >> mountpoint) || !(tail >> fstype)) continue;
    if (fstype == wanted && root == "/") found.push_back(Unescape(mountpoint));
  }
  return found;
}

std::string FindCgroup2Mount() {
  std::vector<std::string> mounts = FindMounts("cgroup2");
  return mounts.empty() ? "" : mounts.front();
}

CgroupRoot EnsureCgroup2() {
  std::string found = FindCgroup2Mount();
  if (!found.empty()) return {found, false};
  // Say every capability the mount needs at once, before trying (a failed mkdir would hide the rest).
  std::string missing;
  if (!HasCapability(kCapSysAdmin)) missing = "CAP_SYS_ADMIN";
  if (geteuid() != 0 && !HasCapability(kCapDacOverride)) missing += std::string(missing.empty() ? "" : "+") + "CAP_DAC_OVERRIDE";
  if (!missing.empty()) {
    throw OpenError("EPERM", std::string("no cgroup v2 hierarchy is mounted, and mounting one at ") + kOwnMount +
                                 " needs " + missing + " (or mount it first: mount -t cgroup2 none /sys/fs/cgroup)");
  }
  if (mkdir("/run/socktop", 0700) != 0 && errno != EEXIST) {
    throw std::runtime_error(std::string("cannot create /run/socktop: ") + strerror(errno));
  }
  if (mkdir(kOwnMount, 0700) != 0 && errno != EEXIST) {
    throw std::runtime_error(std::string("cannot create ") + kOwnMount + ": " + strerror(errno));
  }
  if (mount("cgroup2", kOwnMount, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    throw std::runtime_error(std::string("no cgroup v2 hierarchy is mounted and mounting one at ") +
                             kOwnMount + " failed: " + strerror(errno));
  }
  return {kOwnMount, true};
}

}  // namespace socktop
