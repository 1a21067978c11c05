// The page size of the unit tests that need only one: the engine's smallest.
#pragma once

#include <cstdint>

namespace pagefs {

inline constexpr uint32_t kPage = 4096;

}  // namespace pagefs
