// ParseSize: the one grammar of sizes that people type, wherever they type
// one (pagefs.init(cache_size=...), Store(), set_cache_size, the mount's
// `-o cache_size=` and its .control file):
//
//   size   := space* number space* unit? space*
//   number := digit+ ( "." digit+ )?
//   unit   := ( "K" | "M" | "G" | "T" ) ( "B" | "iB" )?  |  "B"      (any case)
//
// K, M, G and T are powers of 1024 (KiB, MiB, ...); a fraction is taken
// exactly and rounded down to whole bytes ("1.5K" is 1536, "0.3K" is 307).
// So "4096", "64M", "64 MiB", "1.5g" and " 2 tb " are sizes; "64X", "M",
// ".5G", "1e6" and "" are not.
#pragma once

#include <cstdint>
#include <string_view>

namespace pagefs {

// The number of bytes text says. what names the thing in messages ("cache
// size"). Throws Error(kInvalidArgument) for text outside the grammar or a
// negative number, quoting the text and giving the accepted forms, and
// Error(kTooLarge) for a size past 2**64 - 1 bytes.
uint64_t ParseSize(std::string_view text, std::string_view what = "size");

}  // namespace pagefs
