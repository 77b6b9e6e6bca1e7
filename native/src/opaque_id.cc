// opaque_id.cc: SipHash-2-4 (Aumasson and Bernstein) of one 64-bit word. See opaque_id.h.
#include "opaque_id.h"

#include <sys/random.h>

#include <chrono>
#include <cstring>

namespace socktop {

namespace {

inline uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

inline void Round(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1; v1 = Rotl(v1, 13); v1 ^= v0; v0 = Rotl(v0, 32);
  v2 += v3; v3 = Rotl(v3, 16); v3 ^= v2;
  v0 += v3; v3 = Rotl(v3, 21); v3 ^= v0;
  v2 += v1; v1 = Rotl(v1, 17); v1 ^= v2; v2 = Rotl(v2, 32);
}

constexpr uint64_t kIdMask = (uint64_t(1) << 53) - 1;

}  // namespace

OpaqueIds::OpaqueIds() {
  uint64_t key[2] = {0, 0};
  if (getrandom(key, sizeof key, 0) != ssize_t(sizeof key)) {
    // No entropy source (very old kernel): still unpredictable enough to hide the layout.
    key[0] = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) * 0x9e3779b97f4a7c15ull;
    key[1] = reinterpret_cast<uintptr_t>(&key) ^ 0xbf58476d1ce4e5b9ull;
  }
  k0_ = key[0];
  k1_ = key[1];
}

uint64_t OpaqueIds::Of(uint64_t address) const {
  if (address == 0) return 0;
  uint64_t v0 = 0x736f6d6570736575ull ^ k0_, v1 = 0x646f72616e646f6dull ^ k1_;
  uint64_t v2 = 0x6c7967656e657261ull ^ k0_, v3 = 0x7465646279746573ull ^ k1_;
  const uint64_t m = address;
  v3 ^= m;
  Round(v0, v1, v2, v3);
  Round(v0, v1, v2, v3);
  v0 ^= m;
  const uint64_t b = uint64_t(8) << 56;  // message length 8, no tail bytes
  v3 ^= b;
  Round(v0, v1, v2, v3);
  Round(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < 4; i++) Round(v0, v1, v2, v3);
  uint64_t id = (v0 ^ v1 ^ v2 ^ v3) & kIdMask;
  return id != 0 ? id : 1;
}

}  // namespace socktop
