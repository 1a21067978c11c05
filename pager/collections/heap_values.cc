// Heap: the conversion of values between their inline and stored forms
// (blobs for long payloads, reference counts for references).
#include <string>

#include "pager/collections/heap.h"
#include "pager/util/error.h"

namespace pagefs {

std::string_view Heap::ToStored(std::string_view v, std::string& scratch) {
  if (!MayTouchHeap(static_cast<uint8_t>(v[0]))) return v;
  ValueView view = Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size());
  switch (view.kind) {
    case ValueView::Kind::kStr:
    case ValueView::Kind::kBytes:
    case ValueView::Kind::kBigInt: {
      if (view.data.size() <= blobs_.threshold()) return v;
      PageId first = blobs_.Write(view.data);
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
  blobs_.Read(view.blob_page, view.blob_length, payload);
  scratch.clear();
  EncodeInlinePayload(scratch, kind, payload);
  return scratch;
}

}  // namespace pagefs
