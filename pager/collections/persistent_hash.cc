#include "pager/collections/persistent_hash.h"

#include <mutex>
#include <shared_mutex>
#include <utility>

#include "pager/collections/hash_check.h"
#include "pager/collections/op_scope.h"
#include "pager/util/error.h"
#include "pager/util/read_only_op.h"
#include "pager/values/value_format.h"

namespace pagefs {

// The locking discipline of every operation, as PersistentList's.
template <typename Fn>
auto PersistentHash::Locked(Fn&& fn) {
  OpScope scope(heap_, state_->mu);
  HashTable table(heap_, id_, &state_->buckets, &state_->hints);
  try {
    return fn(table);
  } catch (const WouldWait&) {
    throw;  // refused before anything changed
  } catch (...) {
    // A change that failed part way may have left the directory other than
    // the cache says.
    state_->buckets.Clear();
    throw;
  }
}

template <typename Fn>
auto PersistentHash::Reading(Fn&& fn) {
  return Locked([&](HashTable& table) {
    ReadOnlyOpScope reading;  // pages may come in place
    return fn(table);
  });
}

uint64_t PersistentHash::Create(Heap& heap, CollectionKind kind) {
  if (kind != CollectionKind::kDict && kind != CollectionKind::kSet) {
    throw Error(ErrorCode::kInvalidArgument, "a hash collection is a dict or a set");
  }
  if (heap.forked()) heap.CheckOpen();
  std::shared_lock op(heap.op_lock());
  heap.CheckOpen();
  PageGuard header = heap.CreateHeader(kind);
  HashTable::Init(heap, header, kind == CollectionKind::kSet ? 1 : 2);
  return header.id();
}

PersistentHash::PersistentHash(Heap& heap, uint64_t id, CollectionKind kind)
    : heap_(heap), id_(id), kind_(kind) {
  heap.FollowCommits();
  std::shared_lock op(heap.op_lock());
  heap.CheckOpen();
  heap.CheckHeader(id, kind);
  state_ = heap.OpenHandle(id);
}

PersistentHash::PersistentHash(Heap& heap, uint64_t id, CollectionKind kind,
                               std::shared_ptr<CollectionState> opened)
    : heap_(heap), id_(id), kind_(kind), state_(std::move(opened)) {}

PersistentHash::~PersistentHash() {
  try {
    heap_.CloseHandle(id_);
  } catch (...) {
    // A failed free leaves an orphan, which the next CollectOrphans frees.
  }
}

uint64_t PersistentHash::size() {
  return Reading([](HashTable& t) { return t.size(); });
}
PersistentHash::IterationState PersistentHash::iteration_state() {
  return Reading([](HashTable& t) {
    return IterationState{t.generation(), t.size(), t.version()};
  });
}
bool PersistentHash::Get(std::string_view key, const Visitor& fn) {
  return Reading([&](HashTable& t) { return t.Get(key, fn); });
}
bool PersistentHash::Contains(std::string_view key) {
  return Reading([&](HashTable& t) { return t.Contains(key); });
}
bool PersistentHash::Set(std::string_view key, std::string_view value) {
  return Locked([&](HashTable& t) { return t.Set(key, value); });
}
uint64_t PersistentHash::SetRun(std::string_view run, uint64_t count) {
  return Locked([&](HashTable& t) { return t.SetRun(run, count); });
}
void PersistentHash::SetDefault(std::string_view key, std::string_view value, const Visitor& fn) {
  Locked([&](HashTable& t) { t.SetDefault(key, value, fn); });
}
bool PersistentHash::Erase(std::string_view key, const Visitor& fn) {
  return Locked([&](HashTable& t) { return t.Erase(key, fn); });
}
bool PersistentHash::PopLast(const EntryVisitor& fn) {
  return Locked([&](HashTable& t) { return t.PopLast(fn); });
}
void PersistentHash::Clear() {
  Locked([](HashTable& t) { t.Clear(); });
}
uint64_t PersistentHash::ScanFrom(uint64_t from, uint64_t max, const EntryVisitor& fn) {
  return Reading([&](HashTable& t) { return t.ScanFrom(from, max, fn); });
}
uint64_t PersistentHash::ScanBefore(uint64_t before, uint64_t max, const EntryVisitor& fn) {
  return Reading([&](HashTable& t) { return t.ScanBefore(before, max, fn); });
}
HashShape PersistentHash::Verify() {
  return Reading([](HashTable& t) { return t.Verify(); });
}

void PersistentHash::Destroy(Heap& heap, uint64_t id) {
  HashTable(heap, id).FreeAll();
  heap.space().Free(id);
}

void PersistentHash::RegisterKinds(KindRegistry& kinds) {
  for (auto [kind, name] :
       {std::pair{CollectionKind::kDict, "dict"}, std::pair{CollectionKind::kSet, "set"}}) {
    KindHooks hooks;
    hooks.name = name;
    hooks.destroy = &PersistentHash::Destroy;
    hooks.verify = [](CollectionCheck& check, PageGuard header) {
      return CheckHashTable(check, std::move(header));
    };
    kinds.Add(kind, std::move(hooks));
  }
}

}  // namespace pagefs
