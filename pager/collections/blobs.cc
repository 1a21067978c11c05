#include "pager/collections/blobs.h"

#include <cstring>

#include "pager/util/error.h"

namespace pagefs {
namespace {

PageId NextPage(const PageGuard& g) {
  PageId next;
  std::memcpy(&next, g.data(), sizeof next);
  return next;
}

[[noreturn]] void Short(PageId first) {
  throw Error(ErrorCode::kCorruption, "blob at page " + std::to_string(first) + " is short");
}

}  // namespace

PageId Blobs::Write(std::string_view payload) {
  const uint32_t chunk = space_.page_size() - kLinkBytes;
  PageGuard g = space_.Allocate();
  const PageId first = g.id();
  for (size_t pos = 0;;) {
    size_t n = std::min<size_t>(chunk, payload.size() - pos);
    std::memcpy(g.mutable_data() + kLinkBytes, payload.data() + pos, n);
    pos += n;
    if (pos == payload.size()) break;
    PageGuard next = space_.Allocate();
    PageId id = next.id();
    std::memcpy(g.mutable_data(), &id, sizeof id);
    g = std::move(next);
  }
  return first;
}

void Blobs::Read(PageId first, uint64_t length, std::string& out) {
  const uint32_t chunk = space_.page_size() - kLinkBytes;
  out.reserve(out.size() + length);
  PageId id = first;
  for (uint64_t left = length; left > 0;) {
    if (id == kNoPage) Short(first);
    PageGuard g = space_.Read(id);
    uint64_t n = std::min<uint64_t>(chunk, left);
    out.append(reinterpret_cast<const char*>(g.data()) + kLinkBytes, n);
    left -= n;
    id = NextPage(g);
  }
}

void Blobs::Free(PageId first, uint64_t length) {
  PageId id = first;
  for (uint64_t n = Pages(length, space_.page_size()); n > 0; --n) {
    if (id == kNoPage) Short(first);
    PageId next;
    {
      PageGuard g = space_.Read(id);
      next = NextPage(g);
    }
    space_.Free(id);
    id = next;
  }
}

}  // namespace pagefs
