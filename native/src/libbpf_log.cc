// libbpf_log.cc: routes libbpf_set_print() output to a thread-local sink and extracts one-line
// reasons from it. libbpf has a single process-wide print hook; the hook itself holds no state, so
// instances of the addon in different worker threads never see each other's messages.
#include "libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <vector>

namespace socktop {

namespace {

thread_local std::string* tls_sink = nullptr;

int PrintToSink(enum libbpf_print_level level, const char* format, va_list args) {
  // Debug output is megabytes of relocation chatter; warnings carry the verifier log.
  if (level == LIBBPF_DEBUG || tls_sink == nullptr) return 0;
  char line[1024];
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(line, sizeof line, format, copy);
  va_end(copy);
  if (n < 0) return 0;
  if (static_cast<size_t>(n) < sizeof line) {
    tls_sink->append(line, n);
  } else {  // verifier logs can be long: format again into a buffer of the right size
    std::string big(n + 1, '\0');
    vsnprintf(&big[0], big.size(), format, args);
    big.resize(n);
    tls_sink->append(big);
  }
  return n;
}

void InstallPrintHook() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(PrintToSink); });
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string StripPrefix(std::string line, const std::string& prefix) {
  if (line.rfind(prefix, 0) == 0) line.erase(0, prefix.size());
  return line;
}

// The name inside the last "<kind> '<name>'" mention, e.g. kind "prog" or "map".
std::string LastNamed(const std::vector<std::string>& lines, const std::string& kind) {
  const std::string marker = kind + " '";
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    size_t at = it->find(marker);
    if (at == std::string::npos) continue;
    size_t start = at + marker.size();
    size_t end = it->find('\'', start);
    if (end != std::string::npos) return it->substr(start, end - start);
  }
  return "";
}

bool IsVerifierFooter(const std::string& line) {
  return line.rfind("processed ", 0) == 0 || line.rfind("verification time", 0) == 0 ||
         line.rfind("stack depth", 0) == 0 || line.rfind("max_states_per_insn", 0) == 0;
}

// The verifier's last complaint: the last line of the program load log that is not a summary.
std::string VerifierReason(const std::vector<std::string>& lines) {
  std::string reason;
  bool inside = false;
  for (const auto& line : lines) {
    if (line.find("-- BEGIN PROG LOAD LOG --") != std::string::npos) { inside = true; continue; }
    if (line.find("-- END PROG LOAD LOG --") != std::string::npos) { inside = false; continue; }
    if (inside && !IsVerifierFooter(line)) reason = line;
  }
  return reason;
}

// libbpf's first warning about `prog` that says more than "failed to load: -N".
std::string ProgramWarning(const std::vector<std::string>& lines, const std::string& prog) {
  const std::string prefix = "libbpf: prog '" + prog + "': ";
  for (const auto& line : lines) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::string rest = line.substr(prefix.size());
    if (rest.rfind("failed to load", 0) == 0 || rest.rfind("-- ", 0) == 0) continue;
    return rest;
  }
  return "";
}

// What follows `marker` on the last line that contains it.
std::string LastLineAbout(const std::vector<std::string>& lines, const std::string& marker) {
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    size_t at = it->find(marker);
    if (at != std::string::npos) return it->substr(at + marker.size());
  }
  return "";
}

// The last line libbpf warned about, without the "libbpf: " prefix ("" when the log is empty).
std::string LastWarning(const std::vector<std::string>& lines) {
  return lines.empty() ? "" : StripPrefix(lines.back(), "libbpf: ");
}

}  // namespace

LogCapture::LogCapture() : previous_(tls_sink) {
  InstallPrintHook();
  tls_sink = &buffer_;
}

LogCapture::~LogCapture() { tls_sink = previous_; }

LoadFailure DescribeLoadFailure(const std::string& log) {
  auto lines = Lines(log);
  std::string prog = LastNamed(lines, "prog");
  if (!prog.empty()) {
    std::string reason = VerifierReason(lines);
    if (reason.empty()) reason = ProgramWarning(lines, prog);
    return {"BPF program " + prog, reason};
  }
  std::string map = LastNamed(lines, "map");
  if (!map.empty()) return {"BPF map " + map, LastLineAbout(lines, "map '" + map + "': ")};
  return {"BPF object", LastWarning(lines)};
}

}  // namespace socktop
