// HashTable: the structure behind pagefs dicts and sets, on one collection
// header page (docs/hash_format.md). It has no locks of its own: its owner
// (PersistentHash) takes them.
//
// Two parts, as CPython's compact dict:
// - the *entry log*: a list tree (list_tree.h) rooted in the header page
//   itself, holding `width` values per entry (a set: the key; a dict: key,
//   value) in insertion order. A deleted entry's slots become the absent form
//   (value_format.h); trailing absent entries are cut off at once, so the
//   last entry is always live (popitem is LIFO), and when absent entries
//   outnumber the live ones the log is rewritten without them and the index
//   rebuilt (amortised O(1) per delete).
// - the *index*: linear hashing over bucket pages (hash_bucket.h) that map
//   the low 32 bits of a key's stable hash (stable_hash.h) to entry numbers.
//   Buckets split one at a time when the index passes 3/4 full and merge back
//   below 3/10, so it grows and shrinks by pages; a bucket that overflows
//   chains another page. The bucket directory is a list tree of page ids on
//   a page of its own.
// A lookup touches the directory path (none when the bucket's page is in the
// collection's BucketCache, bucket_cache.h), one bucket page (rarely a
// chain), and the log path of the candidate entries: O(1) expected in n.
//
// Keys are compared by key form (stable_hash.h), so 1, 1.0 and True are one
// key; the first key stored stays (as in a dict).
//
// REQUIRES for every method: the caller holds the heap's op lock (shared)
// and the collection's mutex, and has checked that the heap is open. Visitors
// must not call back into the collection. Values come and go in inline form.
// Errors: Error(kInvalidArgument) for an unhashable key or bad input,
// Error(kCorruption) for pages that are not what the table expects, plus
// what the PageSpace throws.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pager/collections/bucket_cache.h"
#include "pager/collections/hash_bucket.h"
#include "pager/collections/heap.h"
#include "pager/collections/list_tree.h"

namespace pagefs {

// Layout of the hash-specific part of the header page, after the log's
// list fields (ListHeaderFields, bytes 32..55).
struct HashHeaderFields {
  static constexpr uint32_t kDirectory = 56;   // u64 page of the bucket directory's list tree
  static constexpr uint32_t kLive = 64;        // u64 live entries
  static constexpr uint32_t kLevel = 72;       // u32 linear hashing level L
  static constexpr uint32_t kWidth = 76;       // u32 values per entry: 1 (set) or 2 (dict)
  static constexpr uint32_t kSplit = 80;       // u64 next bucket to split, < 2**L
  static constexpr uint32_t kGeneration = 88;  // u64 bumped when entry numbers change
  static constexpr uint32_t kVersion = 96;     // u64 bumped by every change
};

// What Verify found, for tests and `pagefs check`.
struct HashShape {
  uint64_t live = 0;
  uint64_t log_entries = 0;  // live and absent
  uint64_t buckets = 0;
  uint64_t bucket_pages = 0;  // buckets and their overflow pages
};

class HashTable {
 public:
  using Visitor = std::function<void(std::string_view encoded)>;
  // Called per entry: its number, the key and (dicts) the value.
  using EntryVisitor =
      std::function<void(uint64_t entry, std::string_view key, std::string_view value)>;

  // cache, when given, is the collection's BucketCache (CollectionState),
  // which the table reads and keeps up to date; hints its read hints.
  HashTable(Heap& heap, PageId header, BucketCache* cache = nullptr, ReadHints* hints = nullptr);

  // Lays out an empty table of width 1 or 2 on a fresh header page.
  static void Init(Heap& heap, PageGuard& header, uint32_t width);

  uint64_t size();
  uint32_t width();
  // Changes whenever entry numbers do (a rewrite of the log, a clear): an
  // iterator holding an entry number compares it.
  uint64_t generation();
  // Changes with every change of the table (a value set included): an
  // iterator holding entries read ahead reads them again when it moved.
  uint64_t version();
  uint64_t log_entries();

  // fn(value) (dicts) or fn(key) (sets) for key, and true; false if absent.
  bool Get(std::string_view key, const Visitor& fn);
  bool Contains(std::string_view key);
  // Stores value under key (sets: value is ignored, pass ""), keeping the
  // key already there. True when the key is new.
  bool Set(std::string_view key, std::string_view value);
  // Set of each (key, value) of run (sets: keys only), count entries of
  // encoded values; the number of new keys. Stops at the first bad pair,
  // keeping what came before it (as dict.update does).
  uint64_t SetRun(std::string_view run, uint64_t count);
  // If key is absent, stores value under it; then fn(the value under key).
  void SetDefault(std::string_view key, std::string_view value, const Visitor& fn);
  // Removes key, fn(its value) first (dicts; sets: fn(key)); false if absent.
  bool Erase(std::string_view key, const Visitor& fn);
  // Removes the last entry (LIFO), visiting it first; false when empty.
  bool PopLast(const EntryVisitor& fn);
  void Clear();
  // Visits live entries with numbers >= from, in order, at most max of them;
  // returns the number to continue from (log_entries() at the end).
  uint64_t ScanFrom(uint64_t from, uint64_t max, const EntryVisitor& fn);
  // Visits live entries with numbers < before, backwards, at most max;
  // returns the number to continue before (0 at the start).
  uint64_t ScanBefore(uint64_t before, uint64_t max, const EntryVisitor& fn);
  // Checks every invariant (Error(kCorruption) naming the first broken one).
  HashShape Verify();
  // Frees every page of the table but the header, dropping its values.
  void FreeAll();

 private:
  struct Slot {
    PageId page = kNoPage;
    uint32_t at = 0;
    uint64_t entry = 0;
  };
  struct Fields;
  Fields Load();
  // The slot of the entry whose key has this form and hash. value, when
  // given, receives the entry's last value (a dict's value, a set's key),
  // read with the key in one pass over the log.
  std::optional<Slot> Find(std::string_view form, uint64_t hash, std::string* value = nullptr);
  // bucket, when given, is the first page of the key's bucket, or kNoPage
  // for Find to look it up and store it there.
  std::optional<Slot> Find(std::string_view form, uint64_t hash, const Fields& f,
                           std::string* value, PageId* bucket = nullptr);
  PageId BucketPage(uint64_t bucket, PageId directory);
  // Starts fetching the cache lines of bucket's first page (page) a lookup of
  // lo reads.
  void PrefetchBucket(PageId page, uint64_t bucket, uint32_t lo, const Fields& f);
  PageId DirectoryEntry(std::string_view encoded) const;
  // The log's root, read again after the log changed under a Fields.
  void ReloadLog(Fields& f);
  // The buckets' first pages for one SetRun: read whole up front when the
  // run is large against the table, else one lookup per key.
  class Directory {
   public:
    Directory(HashTable& table, const Fields& f, uint64_t keys);
    // Stable until the next call. A split keeps every bucket's first page.
    PageId* Page(uint64_t bucket);
    void Grew(const Fields& f);  // after a split appended a bucket

   private:
    HashTable& table_;
    const PageId directory_;
    bool whole_ = false;
    std::vector<PageId> pages_;
    PageId one_ = kNoPage;
  };
  // A new entry of a SetRun: its key and value, views of the run.
  struct NewEntry {
    std::string_view key, value;
    uint64_t hash;
  };
  static std::string_view TakeValue(std::string_view run, const uint8_t* p, size_t& pos,
                                    const char* what);
  void FileNew(Fields& f, Directory& dir, const std::vector<NewEntry>& fresh, bool changed);
  uint64_t BucketOf(uint32_t hash_lo, const Fields& f) const;
  PageId BucketPage(uint64_t bucket);
  void AddToChain(PageId first, IndexEntry e);
  void RemoveFromChain(PageId first, PageId page, uint32_t at);
  std::vector<IndexEntry> ReadChain(PageId first);
  void WriteChain(PageId first, std::vector<IndexEntry> entries);
  void FreeChain(PageId first);
  void SplitOne();
  void MergeOne();
  void AfterErase();
  void TrimTail();
  void Compact();
  void ResetIndex(uint64_t expected);
  void BumpVersion();
  void ReadEntry(uint64_t entry, std::string* key, std::string* value);
  void ReadEntry(uint64_t entry, uint32_t width, std::string* key, std::string* value);
  [[noreturn]] void Corrupt(const std::string& what) const;

  Heap& heap_;
  PageSpace& space_;
  const PageId header_;
  const uint32_t page_size_;
  const uint32_t capacity_;
  BucketCache* const cache_;
  ListTree log_;
};

}  // namespace pagefs
