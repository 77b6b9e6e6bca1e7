// open_error.h: the one exception type for expected failures while opening a BPF session.
// `code` becomes the JS Error's code (EPERM, ENOENT, ENOBTF, ELOAD); `message` is one line;
// `details` keeps libbpf's full log (verifier output) for --verbose, never for the user's eyes.
#pragma once

#include <stdexcept>
#include <string>

namespace socktop {

class OpenError : public std::runtime_error {
 public:
  OpenError(std::string code, const std::string& message, std::string details = "")
      : std::runtime_error(message), code_(std::move(code)), details_(std::move(details)) {}

  const std::string& code() const { return code_; }
  const std::string& details() const { return details_; }

 private:
  std::string code_;
  std::string details_;
};

}  // namespace socktop
