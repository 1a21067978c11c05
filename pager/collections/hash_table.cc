#include "pager/collections/hash_table.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "pager/collections/list_leaf.h"
#include "pager/util/coding.h"
#include "pager/util/error.h"
#include "pager/values/stable_hash.h"
#include "pager/values/value_format.h"

namespace pagefs {
namespace {

constexpr uint64_t kMaxEntries = UINT32_MAX;  // entry numbers are u32 in the index
constexpr uint64_t kScanChunk = 128;          // entries read from the log per call
constexpr uint64_t kMinDeadToCompact = 64;

bool IsAbsent(std::string_view v) {
  return !v.empty() && v[0] == static_cast<char>(ValueTag::kAbsent);
}

void CheckOne(std::string_view v, const char* what) {
  if (v.empty() || EncodedSize(reinterpret_cast<const uint8_t*>(v.data()), v.size()) != v.size()) {
    throw Error(ErrorCode::kInvalidArgument, std::string("not one encoded value: ") + what);
  }
}

std::string IdValue(PageId id) {
  std::string s;
  EncodeInt(s, static_cast<int64_t>(id));
  return s;
}

}  // namespace

struct HashTable::Fields {
  PageId directory;
  uint64_t live;
  uint32_t level;
  uint32_t width;
  uint64_t split;
  uint64_t generation;
  uint64_t log_size;  // values in the log
  ListTree::Root log;
  uint64_t buckets() const { return (uint64_t{1} << level) + split; }
  uint64_t entries() const { return log_size / width; }
};

HashTable::HashTable(Heap& heap, PageId header, BucketCache* cache, ReadHints* hints)
    : heap_(heap),
      space_(heap.space()),
      header_(header),
      page_size_(space_.page_size()),
      capacity_(HashBucket::Capacity(page_size_)),
      cache_(cache),
      log_(heap, header, nullptr, hints) {}

void HashTable::Corrupt(const std::string& what) const {
  throw Error(ErrorCode::kCorruption, "hash collection " + std::to_string(header_) + ": " + what);
}

void HashTable::Init(Heap& heap, PageGuard& header, uint32_t width) {
  PageSpace& space = heap.space();
  PageId dir;
  {
    PageGuard d = space.Allocate();
    std::memset(d.mutable_data() + ListHeaderFields::kSize, 0, 24);
    dir = d.id();
  }
  PageId bucket;
  {
    PageGuard b = space.Allocate();
    HashBucket(b.mutable_data(), space.page_size()).Init();
    bucket = b.id();
  }
  ListTree(heap, dir).Append(IdValue(bucket), 1);
  uint8_t* h = header.mutable_data();
  std::memset(h + ListHeaderFields::kSize, 0, 24);
  SetField<uint64_t>(h, HashHeaderFields::kDirectory, dir);
  SetField<uint64_t>(h, HashHeaderFields::kLive, 0);
  SetField<uint32_t>(h, HashHeaderFields::kLevel, 0);
  SetField<uint32_t>(h, HashHeaderFields::kWidth, width);
  SetField<uint64_t>(h, HashHeaderFields::kSplit, 0);
  SetField<uint64_t>(h, HashHeaderFields::kGeneration, 0);
}

HashTable::Fields HashTable::Load() {
  PageGuard g = space_.Read(header_);
  const uint8_t* h = g.data();
  Fields f{Field<uint64_t>(h, HashHeaderFields::kDirectory),
           Field<uint64_t>(h, HashHeaderFields::kLive),
           Field<uint32_t>(h, HashHeaderFields::kLevel),
           Field<uint32_t>(h, HashHeaderFields::kWidth),
           Field<uint64_t>(h, HashHeaderFields::kSplit),
           Field<uint64_t>(h, HashHeaderFields::kGeneration),
           Field<uint64_t>(h, ListHeaderFields::kSize),
           ListTree::RootOf(h)};
  if ((f.width != 1 && f.width != 2) || f.level > 31 || f.split >= (uint64_t{1} << f.level) ||
      f.directory == kNoPage || f.log_size % f.width != 0) {
    Corrupt("bad header fields");
  }
  return f;
}

uint64_t HashTable::size() { return Load().live; }
uint32_t HashTable::width() { return Load().width; }
uint64_t HashTable::generation() { return Load().generation; }
uint64_t HashTable::log_entries() { return Load().entries(); }
uint64_t HashTable::version() {
  PageGuard g = space_.Read(header_);
  return Field<uint64_t>(g.data(), HashHeaderFields::kVersion);
}
void HashTable::BumpVersion() {
  PageGuard g = space_.Write(header_);
  SetField<uint64_t>(g.mutable_data(), HashHeaderFields::kVersion,
                     Field<uint64_t>(g.data(), HashHeaderFields::kVersion) + 1);
}

void HashTable::PrefetchBucket(PageId page, uint64_t bucket, uint32_t lo, const Fields& f) {
  // A lookup's bucket page is two cache misses, its header and the line of
  // entries where lo sits (HashBucket::FindHash guesses it from the count);
  // fetching both while the pin waits turns two waits into one. The count
  // is guessed too: in linear hashing a bucket split this round (below the
  // split pointer, or its new twin) holds about half what an unsplit one
  // holds, live / 2**(level+1) against live / 2**level.
  const uint8_t* p = space_.WhereResident(page);
  if (p == nullptr) return;
  __builtin_prefetch(p);
  const bool split = bucket < f.split || bucket >= (uint64_t{1} << f.level);
  const uint64_t count = std::min<uint64_t>(f.live >> (f.level + (split ? 1 : 0)), capacity_);
  const uint64_t at =
      HashBucket::kHeaderSize + ((uint64_t{lo} * count) >> 32) * HashBucket::kEntrySize;
  if (at < page_size_) __builtin_prefetch(p + at);
}

uint64_t HashTable::BucketOf(uint32_t lo, const Fields& f) const {
  uint64_t b = lo & ((uint64_t{1} << f.level) - 1);
  if (b < f.split) b = lo & ((uint64_t{1} << (f.level + 1)) - 1);
  return b;
}

PageId HashTable::BucketPage(uint64_t bucket) { return BucketPage(bucket, Load().directory); }

PageId HashTable::BucketPage(uint64_t bucket, PageId directory) {
  if (cache_ != nullptr) {
    cache_->Check(space_.view_generation(), directory);
    if (const PageId first = cache_->Get(bucket); first != kNoPage) return first;
  }
  // The directory holds small ints only: read in place, no visitor.
  uint32_t at = 0;
  const PageGuard g = ListTree(heap_, directory).PinLeaf(bucket, &at);
  const PageId first = DirectoryEntry(ListLeaf(g.data(), page_size_).value(at));
  if (cache_ != nullptr) cache_->Put(bucket, first);
  return first;
}

void HashTable::ReloadLog(Fields& f) {
  const PageGuard g = space_.Read(header_);
  f.log = ListTree::RootOf(g.data());
}

PageId HashTable::DirectoryEntry(std::string_view v) const {
  const ValueView view = Decode(reinterpret_cast<const uint8_t*>(v.data()), v.size());
  if (view.kind != ValueView::Kind::kInt || view.i <= 0) Corrupt("bad bucket directory entry");
  return static_cast<PageId>(view.i);
}

void HashTable::ReadEntry(uint64_t entry, std::string* key, std::string* value) {
  ReadEntry(entry, width(), key, value);
}

void HashTable::ReadEntry(uint64_t entry, uint32_t w, std::string* key, std::string* value) {
  uint32_t k = 0;
  log_.Scan(entry * w, entry * w + w, [&](std::string_view v) {
    if (k == 0 && key) key->assign(v);
    if (k == 1 && value) value->assign(v);
    ++k;
  });
  if (k != w) Corrupt("entry " + std::to_string(entry) + " is past the log");
}

std::optional<HashTable::Slot> HashTable::Find(std::string_view form, uint64_t hash,
                                               std::string* value) {
  return Find(form, hash, Load(), value);
}

std::optional<HashTable::Slot> HashTable::Find(std::string_view form, uint64_t hash,
                                               const Fields& f, std::string* value,
                                               PageId* bucket) {
  const auto lo = static_cast<uint32_t>(hash);
  const uint64_t which = BucketOf(lo, f);
  if (bucket && *bucket == kNoPage) *bucket = BucketPage(which, f.directory);
  const PageId first = bucket ? *bucket : BucketPage(which, f.directory);
  PrefetchBucket(first, which, lo, f);
  for (PageId page = first; page != kNoPage;) {
    PageGuard g = space_.Read(page);
    HashBucket b(g.data(), page_size_);
    if (!b.sane()) Corrupt("bucket page " + std::to_string(page) + " has a bad count");
    const uint32_t n = b.count();
    for (uint32_t j = b.FindHash(0, lo); j < n; j = b.FindHash(j + 1, lo)) {
      const IndexEntry e = b.at(j);
      if (e.entry >= f.entries())
        Corrupt("bucket page " + std::to_string(page) + " names an entry past the log");
      // The key is compared where it lies on the page (no copy); the value
      // is copied out only for the entry that matches. The usual entry, its
      // values inline and side by side on one leaf, is read in place.
      {
        uint32_t at = 0;
        const PageGuard lg = log_.PinLeaf(f.log, e.entry * f.width, &at);
        const ListLeaf leaf(lg.data(), page_size_);
        if (at + f.width <= leaf.count()) {
          const std::string_view k = leaf.value(at);
          const std::string_view v = leaf.value(at + f.width - 1);
          if (!NeedsInlining(static_cast<uint8_t>(k[0])) &&
              !NeedsInlining(static_cast<uint8_t>(v[0]))) {
            if (IsAbsent(k))
              Corrupt("bucket page " + std::to_string(page) + " names a deleted entry");
            std::string k_scratch;
            if (k == form || KeyFormOf(k, k_scratch) == form) {
              if (value) value->assign(v);
              return Slot{page, j, e.entry};
            }
            continue;
          }
        }
      }
      uint32_t k = 0;
      bool absent = false, match = false;
      log_.Scan(e.entry * f.width, e.entry * f.width + f.width, [&](std::string_view v) {
        if (k++ == 0) {
          absent = IsAbsent(v);
          // A key stored in its canonical form (the usual case: strs, ints)
          // is its own key form: equal bytes, equal keys, no form to build.
          std::string v_scratch;
          match = !absent && (v == form || KeyFormOf(v, v_scratch) == form);
          if (match && value && f.width == 1) value->assign(v);
        } else if (match && value) {
          value->assign(v);
        }
      });
      if (k != f.width) Corrupt("entry " + std::to_string(e.entry) + " is past the log");
      if (absent) Corrupt("bucket page " + std::to_string(page) + " names a deleted entry");
      if (match) return Slot{page, j, e.entry};
    }
    page = b.next();
  }
  return std::nullopt;
}

// ---- bucket chains ------------------------------------------------------------

void HashTable::AddToChain(PageId first, IndexEntry e) {
  PageId page = first;
  for (;;) {
    PageGuard g = space_.Write(page);
    HashBucket b(g.mutable_data(), page_size_);
    if (!b.sane()) Corrupt("bucket page " + std::to_string(page) + " has a bad count");
    if (!b.full()) {
      b.Insert(e);
      return;
    }
    if (b.next() == kNoPage) {
      PageGuard fresh = space_.Allocate();
      HashBucket nb(fresh.mutable_data(), page_size_);
      nb.Init();
      nb.Insert(e);
      b.set_next(fresh.id());
      return;
    }
    page = b.next();
  }
}

void HashTable::RemoveFromChain(PageId first, PageId page, uint32_t at) {
  // The chain's last entry fills the hole; an overflow page left empty goes.
  PageId prev = kNoPage, last = first;
  for (;;) {
    PageGuard g = space_.Read(last);
    const PageId next = HashBucket(g.data(), page_size_).next();
    if (next == kNoPage) break;
    prev = last;
    last = next;
  }
  PageGuard lg = space_.Write(last);
  HashBucket lb(lg.mutable_data(), page_size_);
  if (lb.count() == 0)
    Corrupt("bucket page " + std::to_string(last) + " is an empty overflow page");
  if (!lb.sane()) Corrupt("bucket page " + std::to_string(last) + " has a bad count");
  if (last == page) {
    // The hole closes up on the page itself.
    if (at >= lb.count()) Corrupt("bucket page " + std::to_string(page) + " has no entry there");
    if (lb.sorted()) {
      lb.Remove(at);
    } else {
      lb.put(at, lb.at(lb.count() - 1));
      lb.set_count(lb.count() - 1);
    }
  } else {
    // The chain's last entry (the largest of a sorted page) fills the hole.
    const IndexEntry moved = lb.at(lb.count() - 1);
    lb.set_count(lb.count() - 1);
    PageGuard g = space_.Write(page);
    HashBucket b(g.mutable_data(), page_size_);
    if (!b.sane() || at >= b.count())
      Corrupt("bucket page " + std::to_string(page) + " has no entry there");
    if (b.sorted()) {
      b.Remove(at);
      b.Insert(moved);
    } else {
      b.put(at, moved);
    }
  }
  if (lb.count() == 0 && prev != kNoPage) {
    lg.Release();
    space_.Free(last);
    PageGuard pg = space_.Write(prev);
    HashBucket(pg.mutable_data(), page_size_).set_next(kNoPage);
  }
}

std::vector<IndexEntry> HashTable::ReadChain(PageId first) {
  std::vector<IndexEntry> out;
  for (PageId page = first; page != kNoPage;) {
    PageGuard g = space_.Read(page);
    HashBucket b(g.data(), page_size_);
    if (!b.sane()) Corrupt("bucket page " + std::to_string(page) + " has a bad count");
    for (uint32_t j = 0; j < b.count(); ++j) out.push_back(b.at(j));
    page = b.next();
  }
  return out;
}

void HashTable::WriteChain(PageId first, std::vector<IndexEntry> entries) {
  // In hash order, so that every page of the chain is sorted.
  std::sort(entries.begin(), entries.end(), HashBucket::InHashOrder);
  size_t k = 0;
  for (PageId page = first;;) {
    PageGuard g = space_.Write(page);
    HashBucket b(g.mutable_data(), page_size_);
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(capacity_, entries.size() - k));
    for (uint32_t j = 0; j < n; ++j) b.put(j, entries[k + j]);
    b.set_count(n);
    b.set_flags(b.flags() | HashBucket::kSorted);
    k += n;
    if (k == entries.size()) {
      const PageId rest = b.next();
      b.set_next(kNoPage);
      g.Release();
      if (rest != kNoPage) FreeChain(rest);
      return;
    }
    if (b.next() == kNoPage) {
      PageGuard fresh = space_.Allocate();
      HashBucket(fresh.mutable_data(), page_size_).Init();
      b.set_next(fresh.id());
    }
    page = b.next();
  }
}

void HashTable::FreeChain(PageId first) {
  for (PageId page = first; page != kNoPage;) {
    PageId next;
    {
      PageGuard g = space_.Read(page);
      next = HashBucket(g.data(), page_size_).next();
    }
    space_.Free(page);
    page = next;
  }
}

// ---- growing and shrinking ------------------------------------------------------

void HashTable::SplitOne() {
  Fields f = Load();
  if (f.level == 31 && f.split + 1 == (uint64_t{1} << 31))
    return;  // 2**32 buckets: the hash has no more bits
  const uint64_t src = f.split;
  const PageId src_page = BucketPage(src);
  std::vector<IndexEntry> stay, move;
  for (const IndexEntry& e : ReadChain(src_page))
    ((e.hash_lo >> f.level) & 1 ? move : stay).push_back(e);
  PageId fresh;
  {
    PageGuard g = space_.Allocate();
    HashBucket(g.mutable_data(), page_size_).Init();
    fresh = g.id();
  }
  ListTree(heap_, f.directory).Append(IdValue(fresh), 1);
  if (cache_ != nullptr) {
    cache_->Check(space_.view_generation(), f.directory);
    cache_->Put(f.buckets(), fresh);
  }
  WriteChain(src_page, stay);
  WriteChain(fresh, move);
  if (++f.split == (uint64_t{1} << f.level)) {
    ++f.level;
    f.split = 0;
  }
  PageGuard h = space_.Write(header_);
  SetField<uint32_t>(h.mutable_data(), HashHeaderFields::kLevel, f.level);
  SetField<uint64_t>(h.mutable_data(), HashHeaderFields::kSplit, f.split);
}

void HashTable::MergeOne() {
  Fields f = Load();
  if (f.buckets() <= 1) return;
  if (f.split == 0) {
    --f.level;
    f.split = uint64_t{1} << f.level;
  }
  --f.split;
  const uint64_t src = f.split + (uint64_t{1} << f.level);
  const PageId src_page = BucketPage(src), dst_page = BucketPage(f.split);
  if (cache_ != nullptr) cache_->Forget(src);
  std::vector<IndexEntry> all = ReadChain(dst_page);
  for (const IndexEntry& e : ReadChain(src_page)) all.push_back(e);
  WriteChain(dst_page, all);
  FreeChain(src_page);
  ListTree(heap_, f.directory).Erase(src, src + 1);
  PageGuard h = space_.Write(header_);
  SetField<uint32_t>(h.mutable_data(), HashHeaderFields::kLevel, f.level);
  SetField<uint64_t>(h.mutable_data(), HashHeaderFields::kSplit, f.split);
}

void HashTable::AfterErase() {
  Fields f = Load();
  const uint64_t dead = f.entries() - f.live;
  if (dead >= kMinDeadToCompact && dead > f.live) return Compact();
  if (f.buckets() > 1 && f.live * 10 < f.buckets() * capacity_ * 3) MergeOne();
}

void HashTable::TrimTail() {
  const uint32_t w = width();
  for (;;) {
    const uint64_t n = log_entries();
    if (n == 0) return;
    std::string key;
    ReadEntry(n - 1, &key, nullptr);
    if (!IsAbsent(key)) return;
    log_.Erase((n - 1) * w, n * w);
  }
}

void HashTable::ResetIndex(uint64_t expected) {
  Fields f = Load();
  ListTree dir(heap_, f.directory);
  const uint64_t buckets = f.buckets();
  for (uint64_t b = 0; b < buckets; ++b) FreeChain(BucketPage(b));
  if (cache_ != nullptr) cache_->Clear();
  dir.Clear();
  // About half full: room to grow before the first split.
  uint32_t level = 0;
  while (level < 31 && (uint64_t{1} << level) * capacity_ < expected * 2) ++level;
  std::string run;
  for (uint64_t b = 0; b < (uint64_t{1} << level); ++b) {
    PageGuard g = space_.Allocate();
    HashBucket(g.mutable_data(), page_size_).Init();
    run += IdValue(g.id());
  }
  dir.Append(run, uint64_t{1} << level);
  PageGuard h = space_.Write(header_);
  SetField<uint32_t>(h.mutable_data(), HashHeaderFields::kLevel, level);
  SetField<uint64_t>(h.mutable_data(), HashHeaderFields::kSplit, 0);
  SetField<uint64_t>(h.mutable_data(), HashHeaderFields::kGeneration, f.generation + 1);
}

// Rewrites the log without its absent entries (entry numbers change), then
// files every entry again.
void HashTable::Compact() {
  const Fields f = Load();
  const uint32_t w = f.width;
  PageId scratch;
  {
    PageGuard g = space_.Allocate();
    std::memset(g.mutable_data() + ListHeaderFields::kSize, 0, 24);
    scratch = g.id();
  }
  ListTree fresh(heap_, scratch);
  for (uint64_t from = 0; from < f.entries();) {
    std::string run;
    uint64_t count = 0;
    from = ScanFrom(from, kScanChunk, [&](uint64_t, std::string_view key, std::string_view value) {
      run += key;
      if (w == 2) run += value;
      count += w;
    });
    if (count) fresh.Append(run, count);
  }
  {
    // The header takes the new log; the scratch page the old one, to clear.
    PageGuard h = space_.Write(header_);
    PageGuard s = space_.Write(scratch);
    uint8_t tmp[24];
    std::memcpy(tmp, h.data() + ListHeaderFields::kSize, 24);
    std::memcpy(h.mutable_data() + ListHeaderFields::kSize, s.data() + ListHeaderFields::kSize, 24);
    std::memcpy(s.mutable_data() + ListHeaderFields::kSize, tmp, 24);
  }
  fresh.Clear();
  space_.Free(scratch);
  const uint64_t live = f.live;
  ResetIndex(live);
  const Fields nf = Load();
  for (uint64_t from = 0; from < nf.entries();) {
    std::vector<IndexEntry> filed;
    from = ScanFrom(from, kScanChunk, [&](uint64_t e, std::string_view key, std::string_view) {
      filed.push_back({static_cast<uint32_t>(StableHash(key)), static_cast<uint32_t>(e)});
    });
    for (const IndexEntry& e : filed) AddToChain(BucketPage(BucketOf(e.hash_lo, nf)), e);
  }
}

// ---- operations -----------------------------------------------------------------

bool HashTable::Get(std::string_view key, const Visitor& fn) {
  CheckOne(key, "key");
  std::string scratch;
  const std::string_view form = KeyFormOf(key, scratch);
  std::string value;
  if (!Find(form, StableHashOfForm(form), &value)) return false;
  fn(value);
  return true;
}

bool HashTable::Contains(std::string_view key) {
  CheckOne(key, "key");
  std::string scratch;
  const std::string_view form = KeyFormOf(key, scratch);
  return Find(form, StableHashOfForm(form)).has_value();
}

bool HashTable::Set(std::string_view key, std::string_view value) {
  CheckOne(key, "key");
  // The header's fields, loaded once: only Compact changes them before the
  // entry is filed (appending to the log changes the log's own fields).
  Fields f = Load();
  if (f.width == 2) CheckOne(value, "value");
  std::string scratch;
  const std::string_view form = KeyFormOf(key, scratch);
  const uint64_t hash = StableHashOfForm(form);
  PageId bucket = kNoPage;
  if (const std::optional<Slot> s = Find(form, hash, f, nullptr, &bucket)) {
    if (f.width == 2) {
      log_.Set(s->entry * 2 + 1, value);
      BumpVersion();
    }
    return false;
  }
  if (f.entries() >= kMaxEntries) {
    Compact();
    f = Load();
    bucket = BucketPage(BucketOf(static_cast<uint32_t>(hash), f), f.directory);
    if (f.entries() >= kMaxEntries)
      throw Error(ErrorCode::kInvalidArgument,
                  "a pagefs dict or set holds at most 2**32-1 entries");
  }
  // Check both values before the first is stored, so a refusal stores neither.
  heap_.CheckStorable(key);
  if (f.width == 2) heap_.CheckStorable(value);
  // The entry's values back to back; on the stack when short (the usual).
  const std::string_view vals = f.width == 2 ? value : std::string_view();
  char small[256];
  std::string large;
  std::string_view run;
  if (key.size() + vals.size() <= sizeof(small)) {
    std::memcpy(small, key.data(), key.size());
    if (!vals.empty()) std::memcpy(small + key.size(), vals.data(), vals.size());
    run = std::string_view(small, key.size() + vals.size());
  } else {
    large.append(key).append(vals);
    run = large;
  }
  const uint64_t entry = f.entries();
  log_.Append(run, f.width);
  const auto lo = static_cast<uint32_t>(hash);
  AddToChain(bucket, {lo, static_cast<uint32_t>(entry)});
  {
    // One write of the header: the live count and the version.
    PageGuard h = space_.Write(header_);
    uint8_t* p = h.mutable_data();
    SetField<uint64_t>(p, HashHeaderFields::kLive, ++f.live);
    SetField<uint64_t>(p, HashHeaderFields::kVersion,
                       Field<uint64_t>(p, HashHeaderFields::kVersion) + 1);
  }
  if (f.live * 4 > f.buckets() * capacity_ * 3) SplitOne();
  return true;
}

uint64_t HashTable::SetRun(std::string_view run, uint64_t count) {
  Fields f = Load();
  const uint32_t w = f.width;
  const auto* p = reinterpret_cast<const uint8_t*>(run.data());
  // Near the entry limit a Set may have to compact the log first: one at a
  // time, as Set does it.
  if (f.entries() + count >= kMaxEntries) {
    uint64_t added = 0, n = 0;
    for (size_t pos = 0; pos < run.size(); ++n) {
      const std::string_view key = TakeValue(run, p, pos, "run ends inside a value");
      const std::string_view value =
          w == 2 ? TakeValue(run, p, pos, "run ends inside a pair") : std::string_view();
      added += Set(key, value) ? 1 : 0;
    }
    if (n != count) throw Error(ErrorCode::kInvalidArgument, "run does not hold count entries");
    return added;
  }
  // New keys are gathered, then appended to the log in one go and filed in
  // the index: one walk down the log's right edge per run, not per key. A key
  // met twice in the run is one new entry with the last value (the first key
  // stays), as a dict's update leaves it.
  Directory dir(*this, f, count);
  std::vector<NewEntry> fresh;
  fresh.reserve(count);
  // The new keys met so far, by hash: open addressing over indexes into
  // fresh (plus one; 0 is empty), at most half full.
  std::vector<uint32_t> in_run(std::bit_ceil(std::max<uint64_t>(count, 8) * 2), 0);
  uint64_t mask = in_run.size() - 1;
  bool changed = false;
  uint64_t n = 0;
  std::string form_scratch, other_scratch;
  try {
    for (size_t pos = 0; pos < run.size(); ++n) {
      const std::string_view key = TakeValue(run, p, pos, "run ends inside a value");
      const std::string_view value =
          w == 2 ? TakeValue(run, p, pos, "run ends inside a pair") : std::string_view();
      CheckOne(key, "key");
      if (w == 2) CheckOne(value, "value");
      const std::string_view form = KeyFormOf(key, form_scratch);
      const uint64_t hash = StableHashOfForm(form);
      uint64_t slot = hash & mask;
      bool again = false;
      for (; in_run[slot] != 0; slot = (slot + 1) & mask) {
        NewEntry& e = fresh[in_run[slot] - 1];
        if (e.hash == hash && KeyFormOf(e.key, other_scratch) == form) {
          if (w == 2) e.value = value;  // the first key stays, the last value wins
          again = true;
          break;
        }
      }
      if (again) continue;
      if (const std::optional<Slot> s =
              Find(form, hash, f, nullptr, dir.Page(BucketOf(static_cast<uint32_t>(hash), f)))) {
        if (w == 2) {
          log_.Set(s->entry * 2 + 1, value);
          ReloadLog(f);  // the set may have split a leaf, and so the root
          changed = true;
        }
        continue;
      }
      heap_.CheckStorable(key);
      if (w == 2) heap_.CheckStorable(value);
      fresh.push_back({key, value, hash});
      in_run[slot] = static_cast<uint32_t>(fresh.size());
      if (fresh.size() * 2 > in_run.size()) {
        // More entries than count said: a table twice the size.
        in_run.assign(in_run.size() * 2, 0);
        mask = in_run.size() - 1;
        for (size_t k = 0; k < fresh.size(); ++k) {
          uint64_t at = fresh[k].hash & mask;
          while (in_run[at] != 0) at = (at + 1) & mask;
          in_run[at] = static_cast<uint32_t>(k + 1);
        }
      }
    }
    if (n != count) throw Error(ErrorCode::kInvalidArgument, "run does not hold count entries");
  } catch (...) {
    // What came before the bad pair stays stored, as with dict.update.
    FileNew(f, dir, fresh, changed);
    throw;
  }
  FileNew(f, dir, fresh, changed);
  return fresh.size();
}

std::string_view HashTable::TakeValue(std::string_view run, const uint8_t* p, size_t& pos,
                                      const char* what) {
  if (pos >= run.size()) throw Error(ErrorCode::kInvalidArgument, what);
  const size_t len = EncodedSize(p + pos, run.size() - pos);
  const std::string_view v = run.substr(pos, len);
  pos += len;
  return v;
}

void HashTable::FileNew(Fields& f, Directory& dir, const std::vector<NewEntry>& fresh,
                        bool changed) {
  if (!fresh.empty()) {
    size_t bytes = 0;
    for (const NewEntry& e : fresh) bytes += e.key.size() + e.value.size();
    std::string run;
    run.reserve(bytes);
    for (const NewEntry& e : fresh) {
      run += e.key;
      if (f.width == 2) run += e.value;
    }
    const uint64_t first = f.entries();
    log_.Append(run, fresh.size() * f.width);
    uint64_t live = f.live;
    for (size_t k = 0; k < fresh.size(); ++k) {
      const auto lo = static_cast<uint32_t>(fresh[k].hash);
      AddToChain(*dir.Page(BucketOf(lo, f)), {lo, static_cast<uint32_t>(first + k)});
      ++live;
      if (live * 4 > f.buckets() * capacity_ * 3) {
        SplitOne();
        const uint64_t kept = live;
        f = Load();  // the level and the split point moved
        f.live = kept;
        dir.Grew(f);
      }
    }
    f.live = live;
  }
  if (fresh.empty() && !changed) return;
  PageGuard h = space_.Write(header_);
  uint8_t* hp = h.mutable_data();
  SetField<uint64_t>(hp, HashHeaderFields::kLive, f.live);
  SetField<uint64_t>(hp, HashHeaderFields::kVersion,
                     Field<uint64_t>(hp, HashHeaderFields::kVersion) + 1);
}

HashTable::Directory::Directory(HashTable& table, const Fields& f, uint64_t keys)
    : table_(table), directory_(f.directory) {
  // Reading the whole directory pays when the run touches most buckets.
  if (keys * 4 < f.buckets()) return;
  ListTree(table.heap_, f.directory).Scan(0, f.buckets(), [&](std::string_view v) {
    pages_.push_back(table.DirectoryEntry(v));
  });
  whole_ = true;
}

PageId* HashTable::Directory::Page(uint64_t bucket) {
  if (whole_ && bucket < pages_.size()) return &pages_[bucket];
  one_ = table_.BucketPage(bucket, directory_);
  return &one_;
}

void HashTable::Directory::Grew(const Fields& f) {
  if (!whole_) return;
  while (pages_.size() < f.buckets())
    pages_.push_back(table_.BucketPage(pages_.size(), directory_));
}

void HashTable::SetDefault(std::string_view key, std::string_view value, const Visitor& fn) {
  if (!Get(key, fn)) {
    Set(key, value);
    fn(width() == 2 ? value : key);
  }
}

bool HashTable::Erase(std::string_view key, const Visitor& fn) {
  CheckOne(key, "key");
  std::string scratch;
  const std::string_view form = KeyFormOf(key, scratch);
  const uint64_t hash = StableHashOfForm(form);
  const std::optional<Slot> s = Find(form, hash);
  if (!s) return false;
  const Fields f = Load();
  // The visitor sees the value while it still holds what it references.
  log_.Get(s->entry * f.width + (f.width - 1), fn);
  RemoveFromChain(BucketPage(BucketOf(static_cast<uint32_t>(hash), f)), s->page, s->at);
  std::string absent;
  EncodeAbsent(absent);
  for (uint32_t k = 0; k < f.width; ++k) log_.Set(s->entry * f.width + k, absent);
  {
    PageGuard h = space_.Write(header_);
    SetField<uint64_t>(h.mutable_data(), HashHeaderFields::kLive, f.live - 1);
  }
  BumpVersion();
  TrimTail();
  AfterErase();
  return true;
}

bool HashTable::PopLast(const EntryVisitor& fn) {
  const Fields f = Load();
  if (f.live == 0) return false;
  const uint64_t entry = f.entries() - 1;
  std::string key, value;
  ReadEntry(entry, &key, &value);
  if (IsAbsent(key)) Corrupt("the last entry of the log is deleted");
  const auto lo = static_cast<uint32_t>(StableHash(key));
  const PageId first = BucketPage(BucketOf(lo, f));
  bool found = false;
  for (PageId page = first; page != kNoPage && !found;) {
    PageGuard g = space_.Read(page);
    HashBucket b(g.data(), page_size_);
    for (uint32_t j = 0; j < b.count(); ++j) {
      if (b.at(j).entry == entry) {
        g.Release();
        RemoveFromChain(first, page, j);
        found = true;
        break;
      }
    }
    if (!found) page = b.next();
  }
  if (!found) Corrupt("entry " + std::to_string(entry) + " is not in the index");
  fn(entry, key, value);
  log_.Erase(entry * f.width, (entry + 1) * f.width);
  {
    PageGuard h = space_.Write(header_);
    SetField<uint64_t>(h.mutable_data(), HashHeaderFields::kLive, f.live - 1);
  }
  BumpVersion();
  TrimTail();
  AfterErase();
  return true;
}

void HashTable::Clear() {
  log_.Clear();
  ResetIndex(0);
  PageGuard h = space_.Write(header_);
  SetField<uint64_t>(h.mutable_data(), HashHeaderFields::kLive, 0);
  h.Release();
  BumpVersion();
}

uint64_t HashTable::ScanFrom(uint64_t from, uint64_t max, const EntryVisitor& fn) {
  const Fields f = Load();
  const uint32_t w = f.width;
  const uint64_t n = f.entries();
  uint64_t visited = 0;
  while (from < n && visited < max) {
    const uint64_t stop = std::min(n, from + kScanChunk);
    std::vector<std::string> values;
    log_.Scan(from * w, stop * w, [&](std::string_view v) { values.emplace_back(v); });
    uint64_t e = from;
    for (; e < stop && visited < max; ++e) {
      const std::string& key = values[(e - from) * w];
      if (IsAbsent(key)) continue;
      fn(e, key, w == 2 ? std::string_view(values[(e - from) * w + 1]) : std::string_view());
      ++visited;
    }
    from = e;
  }
  return from;
}

uint64_t HashTable::ScanBefore(uint64_t before, uint64_t max, const EntryVisitor& fn) {
  const Fields f = Load();
  const uint32_t w = f.width;
  before = std::min(before, f.entries());
  uint64_t visited = 0;
  while (before > 0 && visited < max) {
    const uint64_t start = before > kScanChunk ? before - kScanChunk : 0;
    std::vector<std::string> values;
    log_.Scan(start * w, before * w, [&](std::string_view v) { values.emplace_back(v); });
    uint64_t e = before;
    for (; e > start && visited < max; --e) {
      const std::string& key = values[(e - 1 - start) * w];
      if (IsAbsent(key)) continue;
      fn(e - 1, key,
         w == 2 ? std::string_view(values[(e - 1 - start) * w + 1]) : std::string_view());
      ++visited;
    }
    before = e;
  }
  return before;
}

HashShape HashTable::Verify() {
  const Fields f = Load();
  log_.Verify();
  HashShape shape;
  shape.log_entries = f.entries();
  shape.buckets = f.buckets();
  std::vector<bool> live(shape.log_entries, false);
  std::string absent;
  EncodeAbsent(absent);
  for (uint64_t from = 0; from < shape.log_entries; from += kScanChunk) {
    const uint64_t stop = std::min(shape.log_entries, from + kScanChunk);
    uint64_t k = 0;
    bool entry_absent = false;
    log_.Scan(from * f.width, stop * f.width, [&](std::string_view v) {
      const uint64_t e = from + k / f.width;
      if (k % f.width == 0) {
        entry_absent = IsAbsent(v);
        live[e] = !entry_absent;
        if (!entry_absent) ++shape.live;
      } else if (IsAbsent(v) != entry_absent) {
        Corrupt("entry " + std::to_string(e) + " is half deleted");
      }
      ++k;
    });
  }
  if (shape.live != f.live)
    Corrupt("the header counts " + std::to_string(f.live) + " entries, the log holds " +
            std::to_string(shape.live));
  if (shape.log_entries > 0 && !live[shape.log_entries - 1])
    Corrupt("the last entry of the log is deleted");
  if (ListTree(heap_, f.directory).size() != shape.buckets)
    Corrupt("the bucket directory does not hold every bucket");
  uint64_t indexed = 0;
  std::vector<bool> seen(shape.log_entries, false);
  for (uint64_t bucket = 0; bucket < shape.buckets; ++bucket) {
    for (PageId page = BucketPage(bucket); page != kNoPage;) {
      ++shape.bucket_pages;
      PageGuard g = space_.Read(page);
      HashBucket b(g.data(), page_size_);
      if (!b.sane()) Corrupt("bucket page " + std::to_string(page) + " has a bad count");
      if (b.count() == 0 && page != BucketPage(bucket))
        Corrupt("bucket page " + std::to_string(page) + " is an empty overflow page");
      for (uint32_t j = 0; j < b.count(); ++j) {
        const IndexEntry e = b.at(j);
        const std::string where =
            "entry " + std::to_string(e.entry) + " in bucket " + std::to_string(bucket);
        if (BucketOf(e.hash_lo, f) != bucket) Corrupt(where + " belongs to another bucket");
        if (e.entry >= shape.log_entries || !live[e.entry]) Corrupt(where + " is not a live entry");
        if (seen[e.entry]) Corrupt(where + " is indexed twice");
        seen[e.entry] = true;
        std::string key;
        ReadEntry(e.entry, &key, nullptr);
        if (static_cast<uint32_t>(StableHash(key)) != e.hash_lo)
          Corrupt(where + " is filed under another hash");
        ++indexed;
      }
      // A lookup's binary search would miss entries of a page out of order.
      if (b.sorted() && !b.InOrder())
        Corrupt("bucket page " + std::to_string(page) + " is marked sorted but out of order");
      page = b.next();
    }
  }
  if (indexed != shape.live)
    Corrupt("the index holds " + std::to_string(indexed) + " entries of " +
            std::to_string(shape.live));
  return shape;
}

void HashTable::FreeAll() {
  const Fields f = Load();
  log_.Clear();
  for (uint64_t b = 0; b < f.buckets(); ++b) FreeChain(BucketPage(b));
  ListTree(heap_, f.directory).Clear();
  space_.Free(f.directory);
  if (cache_ != nullptr) cache_->Clear();
}

}  // namespace pagefs
