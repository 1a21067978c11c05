// Heap: the conversion of values between their inline and stored forms
// (blobs for long payloads, reference counts for references).
#include <string>

#include "pager/collections/heap.h"
#include "pager/util/error.h"

namespace pagefs {

namespace {

// Calls fn(encoding) for each element of a tuple; Error(kCorruption) when
// the elements are not exactly count well-formed values.
template <typename Fn>
void ForEachElement(const ValueView& tuple, Fn&& fn) {
  const auto* p = reinterpret_cast<const uint8_t*>(tuple.data.data());
  uint64_t n = 0;
  for (size_t pos = 0; pos < tuple.data.size(); ++n) {
    const size_t len = EncodedSize(p + pos, tuple.data.size() - pos);
    fn(tuple.data.substr(pos, len));
    pos += len;
  }
  if (n != tuple.count)
    throw Error(ErrorCode::kCorruption, "a tuple's count does not match its elements");
}

}  // namespace

void Heap::CheckStorable(std::string_view v) {
  const auto tag = static_cast<uint8_t>(v[0]);
  if (IsStoredOnlyForm(tag) && tag != static_cast<uint8_t>(ValueTag::kAbsent)) {
    throw Error(ErrorCode::kInvalidArgument, "blob forms cannot be stored directly");
  }
  if (tag == static_cast<uint8_t>(ValueTag::kRef)) {
    const ValueView view = Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size());
    CheckHeader(view.ref_id, view.ref_kind);
  } else if (tag == static_cast<uint8_t>(ValueTag::kTuple)) {
    const ValueView view = Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size());
    ForEachElement(view, [&](std::string_view e) { CheckStorable(e); });
  }
}

std::string Heap::StoreElements(const ValueView& tuple) {
  std::string elements, scratch;
  ForEachElement(tuple, [&](std::string_view e) {
    elements.append(MayTouchHeap(static_cast<uint8_t>(e[0])) ? StoreChecked(e, scratch) : e);
  });
  return elements;
}

std::string_view Heap::StoreChecked(std::string_view v, std::string& scratch) {
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
    case ValueView::Kind::kRef: OnStored(view); return v;
    case ValueView::Kind::kTuple: {
      std::string stored;
      EncodeTuple(stored, view.count, StoreElements(view));
      scratch.clear();
      if (stored.size() <= blobs_.threshold()) {
        scratch = std::move(stored);
      } else {
        // A long tuple goes out of line whole, its elements in stored form.
        EncodeBlob(scratch, ValueView::Kind::kTuple, stored.size(), blobs_.Write(stored));
      }
      return scratch;
    }
    default: return v;
  }
}

std::string_view Heap::ToStored(std::string_view v, std::string& scratch) {
  if (!MayTouchHeap(static_cast<uint8_t>(v[0]))) return v;
  // Check everything first (refs name collections, no blob forms), so a
  // refusal leaves no reference counted and no blob written.
  CheckStorable(v);
  return StoreChecked(v, scratch);
}

std::string_view Heap::ToInline(std::string_view stored, std::string& scratch) {
  ValueView view = Decode(reinterpret_cast<const uint8_t*>(stored.data()), stored.size());
  ValueView::Kind kind;
  switch (view.kind) {
    case ValueView::Kind::kBlobStr: kind = ValueView::Kind::kStr; break;
    case ValueView::Kind::kBlobBytes: kind = ValueView::Kind::kBytes; break;
    case ValueView::Kind::kBlobBigInt: kind = ValueView::Kind::kBigInt; break;
    case ValueView::Kind::kBlobTuple: {
      std::string tuple;
      blobs_.Read(view.blob_page, view.blob_length, tuple);
      if (tuple.empty() || tuple[0] != static_cast<char>(ValueTag::kTuple) ||
          EncodedSize(reinterpret_cast<const uint8_t*>(tuple.data()), tuple.size()) !=
              tuple.size()) {
        throw Error(ErrorCode::kCorruption,
                    "blob at page " + std::to_string(view.blob_page) + " is not a tuple");
      }
      std::string inner;
      std::string_view in = ToInline(tuple, inner);
      scratch.assign(in);
      return scratch;
    }
    case ValueView::Kind::kTuple: {
      bool plain = true;
      ForEachElement(view, [&](std::string_view e) {
        plain = plain && !NeedsInlining(static_cast<uint8_t>(e[0]));
      });
      if (plain) return stored;
      std::string elements, inner;
      ForEachElement(view, [&](std::string_view e) {
        elements.append(NeedsInlining(static_cast<uint8_t>(e[0])) ? ToInline(e, inner) : e);
      });
      scratch.clear();
      EncodeTuple(scratch, view.count, elements);
      return scratch;
    }
    default: return stored;
  }
  std::string payload;
  blobs_.Read(view.blob_page, view.blob_length, payload);
  scratch.clear();
  EncodeInlinePayload(scratch, kind, payload);
  return scratch;
}

void Heap::DropTuple(const ValueView& tuple) {
  ForEachElement(tuple, [&](std::string_view e) {
    if (OwnsHeapObject(static_cast<uint8_t>(e[0]))) {
      OnDropped(Decode(reinterpret_cast<const uint8_t*>(e.data()), e.size()));
    }
  });
}

void Heap::DropBlobTuple(const ValueView& blob) {
  std::string tuple;
  blobs_.Read(blob.blob_page, blob.blob_length, tuple);
  DropTuple(Decode(reinterpret_cast<const uint8_t*>(tuple.data()), tuple.size()));
  blobs_.Free(blob.blob_page, blob.blob_length);
}

}  // namespace pagefs
