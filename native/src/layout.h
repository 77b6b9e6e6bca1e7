// layout.h: offsetof() of every field of struct socktop_event, for the TypeScript mirror's test.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace socktop {

// (field name exactly as in bpf/socktop.h, offset); the last entry is ("size", sizeof).
std::vector<std::pair<const char*, size_t>> EventLayout();

}  // namespace socktop
