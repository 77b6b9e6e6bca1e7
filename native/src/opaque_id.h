// opaque_id.h: turns a kernel struct sock address into an opaque socket id before any record leaves
// the reader, so that no kernel address reaches JavaScript, the terminal, JSON or a recording.
//
// The id is SipHash-2-4 of the address under a key drawn from getrandom() once per session: stable
// for the socket's life (so events of one socket share it), unrelated across sessions, and not
// invertible without the key. It is cut to 53 bits so that JavaScript holds it exactly as a number;
// the chance that two of a million sockets collide is about 1 in 10^4.
#pragma once

#include <cstdint>

namespace socktop {

class OpaqueIds {
 public:
  OpaqueIds();  // draws the key
  // 0 stays 0 ("no socket"); any other address maps to 1 .. 2^53-1.
  uint64_t Of(uint64_t address) const;

 private:
  uint64_t k0_ = 0, k1_ = 0;
};

}  // namespace socktop
