// PersistentHash: a handle on a pagefs dict or set (a HashTable, hash_table.h).
// A set is a table of width 1 (keys), a dict of width 2 (key, value).
//
// As PersistentList: several handles on one id share one CollectionState and
// so one lock; every method takes the heap's op lock shared, checks the heap
// is open (Error(kClosed)) and takes the collection's mutex, so methods are
// safe from any thread. Visitors run with the collection locked: they must
// not call back into it nor close a handle; they may open handles on the
// collections a value references (ReferencedLists::Open).
// Errors: an absent key is a return value, not an error; Error(kInvalidArgument)
// for an unhashable key, plus what HashTable and the PageSpace throw.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "pager/collections/hash_table.h"
#include "pager/collections/heap.h"
#include "pager/collections/kind_registry.h"

namespace pagefs {

class PersistentHash {
 public:
  using Visitor = HashTable::Visitor;
  using EntryVisitor = HashTable::EntryVisitor;

  // Creates an empty dict (kind kDict) or set (kSet), refcount 0, on the
  // orphan list, and returns its id.
  static uint64_t Create(Heap& heap, CollectionKind kind);
  // Opens a handle on collection id of kind. Error(kCorruption) when id is
  // not one.
  PersistentHash(Heap& heap, uint64_t id, CollectionKind kind);
  // Adopts a handle already opened (ReferencedLists::AdoptState); takes no
  // lock and reads no page.
  PersistentHash(Heap& heap, uint64_t id, CollectionKind kind,
                 std::shared_ptr<CollectionState> opened);
  // REQUIRES the calling thread does not hold the heap's op lock.
  ~PersistentHash();
  PersistentHash(const PersistentHash&) = delete;
  PersistentHash& operator=(const PersistentHash&) = delete;

  uint64_t id() const { return id_; }
  CollectionKind kind() const { return kind_; }
  Heap& heap() { return heap_; }

  uint64_t size();
  // What an iterator checks between steps, in one locked read.
  struct IterationState {
    uint64_t generation;  // HashTable::generation
    uint64_t size;
    uint64_t version;  // HashTable::version
  };
  IterationState iteration_state();
  bool Get(std::string_view key, const Visitor& fn);
  bool Contains(std::string_view key);
  bool Set(std::string_view key, std::string_view value);
  // Sets each (key, value) of a run of 2*count (dicts) or count (sets)
  // values under one lock; the pairs before a refused one stay set, as
  // dict.update leaves them. Returns how many keys were new.
  uint64_t SetRun(std::string_view run, uint64_t count);
  void SetDefault(std::string_view key, std::string_view value, const Visitor& fn);
  bool Erase(std::string_view key, const Visitor& fn);
  bool PopLast(const EntryVisitor& fn);
  void Clear();
  uint64_t ScanFrom(uint64_t from, uint64_t max, const EntryVisitor& fn);
  uint64_t ScanBefore(uint64_t before, uint64_t max, const EntryVisitor& fn);
  HashShape Verify();

  // Frees every page of the collection id and drops its references (the heap).
  static void Destroy(Heap& heap, uint64_t id);
  // Registers the dict and set kinds: destroyed by Destroy, verified by
  // CheckHashTable (hash_check.h).
  static void RegisterKinds(KindRegistry& kinds);

 private:
  // Runs fn(table) under the collection's OpScope; on a failure part way,
  // drops the cached bucket directory.
  template <typename Fn>
  auto Locked(Fn&& fn);
  // The same for fn that changes nothing, inside a ReadOnlyOpScope
  // (util/read_only_op.h).
  template <typename Fn>
  auto Reading(Fn&& fn);

  Heap& heap_;
  const uint64_t id_;
  const CollectionKind kind_;
  std::shared_ptr<CollectionState> state_;
};

}  // namespace pagefs
