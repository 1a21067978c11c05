// PageFilter: a reversible rewrite of a page before a tier compresses it,
// for page layouts a general-purpose compressor codes poorly, as column
// stores put a delta codec before zstd. A list leaf's offset array, say, is a
// run of descending u16s that zstd stores at about two bytes each; rewritten
// as value lengths it costs almost nothing. The remote tier stores the id a
// filter returns with each frame (docs/remote_format.md), so a frame decodes
// with the filter that made it, or not at all.
//
// Filters know page layouts of layers above the tier; the composition root
// hands one down. Thread safety: both methods may be called from several
// threads at once.
#pragma once

#include <cstdint>

namespace pagefs {

class PageFilter {
 public:
  virtual ~PageFilter() = default;

  // Writes the filtered page (size bytes) to out and returns the filter's id
  // for it (1..255), or returns 0, leaving out as it was, for a page it does
  // not rewrite.
  virtual uint8_t Encode(const uint8_t* page, uint32_t size, uint8_t* out) const = 0;
  // Writes the page Encode turned into in (under id) to out; false when id
  // is not one of its ids or in is not what Encode could have written.
  virtual bool Decode(uint8_t id, const uint8_t* in, uint32_t size, uint8_t* out) const = 0;
};

}  // namespace pagefs
