// cgroup.cc: finding (or mounting) the cgroup v2 root. See cgroup.h.
#include "cgroup.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

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

std::string FindCgroup2Mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mountpoint options [optional fields...] - fstype source superopts
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, dev, root, mountpoint, fstype;
    if (!(head >> id >> parent >> dev >> root >> mountpoint) || !(tail >> fstype)) continue;
    if (fstype == "cgroup2" && root == "/") return Unescape(mountpoint);
  }
  return "";
}

CgroupRoot EnsureCgroup2() {
  std::string found = FindCgroup2Mount();
  if (!found.empty()) return {found, false};
  mkdir("/run/socktop", 0700);
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
