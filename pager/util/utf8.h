// UTF-8 validity as Python decodes it, for bytes the engine stores as str
// (checked by pagefs check) and names it must hand to Python (prefixes).
#pragma once

#include <string_view>

namespace pagefs {

// kAllowed: as Python's "surrogatepass" (what a str's bytes may hold);
// kRefused: strict UTF-8, what os.fsdecode and JSON need.
enum class Surrogates { kAllowed, kRefused };

// No overlong forms, nothing above U+10FFFF, no truncated sequence.
bool ValidUtf8(std::string_view s, Surrogates surrogates);

}  // namespace pagefs
