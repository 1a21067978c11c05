// Heap: blobs, and the conversion of values between their inline and stored
// forms.
#include <algorithm>
#include <cstring>

#include "pager/util/error.h"
#include "pager/collections/heap.h"

namespace pagefs {
namespace {

constexpr uint32_t kBlobLink = 8;  // each blob page starts with the next page's id

PageId NextBlobPage(const PageGuard& g) {
  PageId next;
  std::memcpy(&next, g.data(), sizeof next);
  return next;
}

uint64_t BlobPages(uint64_t length, uint32_t chunk) {
  return std::max<uint64_t>(1, (length + chunk - 1) / chunk);
}

}  // namespace

PageId Heap::WriteBlob(std::string_view payload) {
  const uint32_t chunk = space_.page_size() - kBlobLink;
  PageGuard g = space_.Allocate();
  const PageId first = g.id();
  for (size_t pos = 0;;) {
    size_t n = std::min<size_t>(chunk, payload.size() - pos);
    std::memcpy(g.mutable_data() + kBlobLink, payload.data() + pos, n);
    pos += n;
    if (pos == payload.size()) break;
    PageGuard next = space_.Allocate();
    PageId id = next.id();
    std::memcpy(g.mutable_data(), &id, sizeof id);
    g = std::move(next);
  }
  return first;
}

void Heap::ReadBlob(PageId first, uint64_t length, std::string& out) {
  const uint32_t chunk = space_.page_size() - kBlobLink;
  out.reserve(out.size() + length);
  PageId id = first;
  for (uint64_t left = length; left > 0;) {
    if (id == kNoPage) throw Error(ErrorCode::kCorruption, "blob at page " + std::to_string(first) + " is short");
    PageGuard g = space_.Read(id);
    uint64_t n = std::min<uint64_t>(chunk, left);
    out.append(reinterpret_cast<const char*>(g.data()) + kBlobLink, n);
    left -= n;
    id = NextBlobPage(g);
  }
}

void Heap::FreeBlob(PageId first, uint64_t length) {
  PageId id = first;
  for (uint64_t n = BlobPages(length, space_.page_size() - kBlobLink); n > 0; --n) {
    if (id == kNoPage) throw Error(ErrorCode::kCorruption, "blob at page " + std::to_string(first) + " is short");
    PageId next;
    {
      PageGuard g = space_.Read(id);
      next = NextBlobPage(g);
    }
    space_.Free(id);
    id = next;
  }
}

std::string_view Heap::ToStored(std::string_view v, std::string& scratch) {
  if (!MayTouchHeap(static_cast<uint8_t>(v[0]))) return v;
  ValueView view = Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size());
  switch (view.kind) {
    case ValueView::Kind::kStr:
    case ValueView::Kind::kBytes:
    case ValueView::Kind::kBigInt: {
      if (view.data.size() <= blob_threshold()) return v;
      PageId first = WriteBlob(view.data);
      scratch.clear();
      EncodeBlob(scratch, view.kind, view.data.size(), first);
      return scratch;
    }
    case ValueView::Kind::kRef:
      CheckHeader(view.ref_id, view.ref_kind);
      OnStored(view);
      return v;
    case ValueView::Kind::kBlobStr:
    case ValueView::Kind::kBlobBytes:
    case ValueView::Kind::kBlobBigInt:
      throw Error(ErrorCode::kInvalidArgument, "blob forms cannot be stored directly");
    default:
      return v;
  }
}

std::string_view Heap::ToInline(std::string_view stored, std::string& scratch) {
  ValueView view = Decode(reinterpret_cast<const uint8_t*>(stored.data()), stored.size());
  ValueView::Kind kind;
  switch (view.kind) {
    case ValueView::Kind::kBlobStr: kind = ValueView::Kind::kStr; break;
    case ValueView::Kind::kBlobBytes: kind = ValueView::Kind::kBytes; break;
    case ValueView::Kind::kBlobBigInt: kind = ValueView::Kind::kBigInt; break;
    default: return stored;
  }
  std::string payload;
  ReadBlob(view.blob_page, view.blob_length, payload);
  scratch.clear();
  EncodeInlinePayload(scratch, kind, payload);
  return scratch;
}

}  // namespace pagefs
