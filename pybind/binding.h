// Shared pieces of the pagefs._core extension. The binding translates between
// Python and the engine; it decides nothing. Rules that hold in every file:
// - Engine calls run with the GIL released, and engine callbacks (Visitors)
//   never touch Python objects: they copy bytes out, and the bytes are decoded
//   once the engine call has returned and the GIL is held again. So a thread
//   never waits for an engine lock while holding the GIL, and never needs the
//   GIL while holding an engine lock. The one exception keeps that promise:
//   the hottest reads first run holding the GIL in a NoWaitScope, where the
//   engine refuses to wait or load (ReadHoldingGil).
// - A Python object that uses the engine keeps the C++ Store alive through a
//   shared_ptr; after Store::Close the engine answers Error(kClosed).
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pager/collections/persistent_hash.h"
#include "pager/collections/persistent_list.h"
#include "pager/collections/root_map.h"
#include "pager/store.h"
#include "pager/util/error.h"
#include "pager/util/no_wait.h"

namespace pagefs::py_binding {

namespace py = pybind11;

// Runs close, engine work that may free pages, with the GIL released when
// this thread holds it, so other Python threads run meanwhile. For
// destructors: close must not throw, and neither does this (if the GIL
// cannot be released, close runs with it held).
template <class F>
void CloseReleasingGil(F&& close) noexcept {
  static_assert(noexcept(close()), "a close run from a destructor must not throw");
  if (PyGILState_Check()) {
    try {
      py::gil_scoped_release release;
      close();
      return;
    } catch (...) {
      // Only releasing or taking back the GIL can have thrown.
    }
  }
  close();
}

// Runs op, an engine call that changes nothing, with the GIL held inside a
// NoWaitScope (pager/util/no_wait.h): on resident pages and free locks that
// is the whole call, without releasing and retaking the GIL, which costs
// more than the lookup. Where it would wait for a lock or load a page, the
// engine throws WouldWait before anything has changed, and op runs again
// with the GIL released, as every engine call runs. op's visitors must leave
// nothing behind when they throw (Visited::Add opens handles first).
//
// A refusal costs a C++ throw, more than the release it saves: after one,
// this thread's next kSkip calls go the released way at once, so that at
// most one call in kSkip + 1 throws (an index larger than the cache).
struct HeldGilReads {
  static constexpr uint32_t kSkip = 64;
  static inline thread_local uint32_t skip = 0;  // calls left to go the released way
  static bool Try() {
    if (skip == 0) return true;
    --skip;
    return false;
  }
  static void Refused() { skip = kSkip; }
};

template <class F>
auto ReadHoldingGil(F&& op) {
  if (HeldGilReads::Try()) {
    try {
      NoWaitScope no_wait;
      return op();
    } catch (const WouldWait&) {
      HeldGilReads::Refused();
    }
  }
  py::gil_scoped_release release;
  return op();
}

// What Python holds for one open store (pagefs._core.Store).
struct StoreHandle {
  std::shared_ptr<Store> store;
  std::once_flag root_once;
  std::unique_ptr<RootMap> root;  // created on first use

  RootMap& root_map();  // REQUIRES: GIL released (may touch pages)
};

// What Python holds for one list (pagefs._core.List). Members are destroyed
// in reverse order: the engine handle closes before the store may go.
struct ListHandle {
  std::shared_ptr<StoreHandle> owner;
  std::unique_ptr<PersistentList> list;

  ListHandle(std::shared_ptr<StoreHandle> owner, uint64_t id);
  // Takes over a handle the engine opened (ReferencedLists::Adopt).
  ListHandle(std::shared_ptr<StoreHandle> owner, std::unique_ptr<PersistentList> adopted);
  ~ListHandle();
};

// What Python holds for one dict or set (pagefs._core.Dict, pagefs._core.Set).
struct HashHandle {
  std::shared_ptr<StoreHandle> owner;
  std::unique_ptr<PersistentHash> table;

  HashHandle(std::shared_ptr<StoreHandle> owner, uint64_t id, CollectionKind kind);
  HashHandle(std::shared_ptr<StoreHandle> owner, std::unique_ptr<PersistentHash> adopted);
  ~HashHandle();
};
struct DictHandle : HashHandle {
  using HashHandle::HashHandle;
};
struct SetHandle : HashHandle {
  using HashHandle::HashHandle;
};

// Bytes copied out of the engine: values back to back, with their offsets.
struct EncodedRun {
  std::string bytes;
  std::vector<size_t> ends;  // ends[k] is one past the last byte of value k
  void Add(std::string_view v) {
    bytes.append(v);
    ends.push_back(bytes.size());
  }
};

// A string to encode one key or value into, for a single-element call:
// this thread's spare one when there is one, so that its memory is reused
// rather than allocated per call, and given back when done. Reentrant: a
// call made meanwhile (a __hash__ in Python) finds no spare and makes its own.
class ScratchString {
 public:
  ScratchString() : s_(std::move(spare_)) { s_.clear(); }
  ~ScratchString() {
    if (s_.capacity() <= kKeep) spare_ = std::move(s_);
  }
  ScratchString(const ScratchString&) = delete;
  ScratchString& operator=(const ScratchString&) = delete;
  std::string& get() { return s_; }

 private:
  static constexpr size_t kKeep = 4096;  // a longer one is let go
  static inline thread_local std::string spare_;
  std::string s_;
};

// One value read under an engine lock, as Visited (below) for many: the
// handles on what it references opened there, first, so that a refusal
// (WouldWait) leaves it empty. No allocation for a short value.
struct VisitedOne {
  std::string value;
  bool got = false;
  ReferencedLists refs;

  explicit VisitedOne(Heap& heap) : refs(heap) {}
  ~VisitedOne();
  VisitedOne(const VisitedOne&) = delete;
  VisitedOne& operator=(const VisitedOne&) = delete;
  void Add(std::string_view v) {
    refs.Open(v);
    value.assign(v);
    got = true;
  }
};

// Values read under an engine lock, with handles on the lists they
// reference opened before that lock was dropped, so that a list referenced
// only from a slot another thread erases is never freed under a reader. Pass
// Add as the engine's visitor (GIL released); DecodeValue/DecodeRun adopt
// the handles; the rest are closed on destruction, with the GIL released.
struct Visited {
  EncodedRun run;
  ReferencedLists refs;

  explicit Visited(Heap& heap) : refs(heap) {}
  ~Visited();
  Visited(const Visited&) = delete;
  Visited& operator=(const Visited&) = delete;
  // refs first: a refusal (WouldWait) leaves run untouched.
  void Add(std::string_view v) {
    refs.Open(v);
    run.Add(v);
  }
  std::string_view value(size_t k) const {
    const size_t begin = k == 0 ? 0 : run.ends[k - 1];
    return std::string_view(run.bytes).substr(begin, run.ends[k] - begin);
  }
};

// errors.cc: the one mapping from ErrorCode to Python exceptions.
void RegisterErrors(py::module_& m);

// value_codec.cc
// Appends the encoding of obj to out. Throws py::type_error naming the type
// for an unsupported value, py::value_error for a list of another store.
void EncodeValue(PyObject* obj, const StoreHandle& target, std::string& out);
// Encodes every item of a list/tuple (or any iterable) into one run.
// Returns the number of values.
uint64_t EncodeAll(PyObject* seq, const StoreHandle& target, std::string& out);
// Appends the encoding of obj as a dict key or set member. Raises what
// hash(obj) raises for an unhashable obj (TypeError: unhashable type: ...).
// For a hashable obj of a type pagefs cannot store: with lookup set, returns
// false (no stored key can equal it: `in` is False, `d[k]` a KeyError);
// otherwise a TypeError naming the type. True when out holds the key.
bool EncodeKey(PyObject* obj, const StoreHandle& target, std::string& out, bool lookup);
// Decodes one value (GIL held). A reference becomes a pagefs.List on the
// handle refs opened for it (std::logic_error if there is none).
py::object DecodeValue(std::string_view encoded, const std::shared_ptr<StoreHandle>& owner,
                       ReferencedLists& refs);
py::list DecodeRun(Visited& values, const std::shared_ptr<StoreHandle>& owner);
// The value one holds (REQUIRES one.got), decoded as DecodeValue does.
py::object DecodeOne(VisitedOne& one, const std::shared_ptr<StoreHandle>& owner);
// The Python class that decoded references are made of (pagefs.List); set
// once by the package.
void SetListClass(py::object cls);
// The classes decoded dicts, sets and tuples are made of (pagefs.Dict,
// pagefs.Set, pagefs.Tuple); set once by the package.
void SetCollectionClasses(py::object dict_cls, py::object set_cls, py::object tuple_cls);
// hash_binding.cc: as AdoptionToken, for a dict's or set's handle.
py::object HashAdoptionToken(std::unique_ptr<PersistentHash> adopted);

// list_binding.cc: wraps an adopted engine handle for the constructor
// List(store, id, adopted), which takes it over; if the object is dropped
// untaken, the handle is closed (GIL held on call).
py::object AdoptionToken(std::unique_ptr<PersistentList> adopted);

// The single-element operations the bound methods and the fast slots and
// methods (fast_slots.cc) share. DictGetItem/DictDelItem raise KeyError(key).
py::object DictGetItem(DictHandle& h, py::handle key);
void DictSetItem(DictHandle& h, py::handle key, py::handle value);
// d.get(key, fallback) and s.add(key).
py::object DictGet(DictHandle& h, py::handle key, py::handle fallback);
void SetAdd(SetHandle& h, py::handle key);
void DictDelItem(DictHandle& h, py::handle key);
bool HashContains(HashHandle& h, py::handle key);
uint64_t HashLen(HashHandle& h);
py::object ListGetItem(py::handle self, py::handle key);
// lst[i] for an int i (ListGetItem's common case).
py::object ListGetIndex(ListHandle& h, py::handle index);
uint64_t ListLen(ListHandle& h);
// The handle a pybind11 instance of H (or of a Python subclass) holds. The
// fast slots' way to it: read straight from the instance when its layout is
// the simple one (one pybind11 base, holder constructed), else pybind11's
// cast, with its errors.
template <typename H>
H& HandleOf(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  if (inst->simple_layout && inst->simple_holder_constructed) [[likely]] {
    return *static_cast<H*>(inst->simple_value_holder[0]);
  }
  return py::handle(self).cast<H&>();
}

// fast_slots.cc: puts the fast slots on pagefs.List, Dict and Set.
void InstallFastSlots(py::handle list_cls, py::handle dict_cls, py::handle set_cls);

// store_binding.cc / list_binding.cc
void BindStore(py::module_& m);
void BindList(py::module_& m);
void BindHash(py::module_& m);
// list_iterator.cc: iter(lst) and reversed(lst), list's index-based iterators
void BindListIterator(py::module_& m);
// check_binding.cc: `pagefs check`
void BindCheck(py::module_& m);
// gc_binding.cc: `pagefs gc`, pagefs.gc()
void BindGc(py::module_& m);
// Store.gc(): the garbage step run by the store's own writer
// (Store::CollectGarbage), with the arguments and report of _gc.
py::dict StoreGc(StoreHandle& h, bool dry_run, bool compact, double min_age, double retention,
                 const py::object& progress);
// raw_s3_binding.cc: the bare S3 client, for scripts/bench_remote.py only
void BindRawS3(py::module_& m);

// An engine-opened handle carried to Python in a capsule (MakeAdoptedCapsule)
// until a typed handle adopts it (TakeAdoptedCapsule); a capsule dropped
// unadopted closes it without the GIL (DestroyAdoptedCapsule, the capsule's
// destructor).
template <class T>
void DestroyAdoptedCapsule(PyObject* capsule) {
  auto* adopted =
      static_cast<std::unique_ptr<T>*>(PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule)));
  if (adopted == nullptr) {
    PyErr_Clear();
    return;
  }
  if (*adopted) CloseReleasingGil([adopted]() noexcept { adopted->reset(); });
  delete adopted;
}

// The capsule (named name) that carries adopted to Python.
template <class T>
py::object MakeAdoptedCapsule(std::unique_ptr<T> adopted, const char* name) {
  auto* holder = new std::unique_ptr<T>(std::move(adopted));
  PyObject* capsule = PyCapsule_New(holder, name, &DestroyAdoptedCapsule<T>);
  if (capsule == nullptr) {
    CloseReleasingGil([holder]() noexcept { holder->reset(); });
    delete holder;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(capsule);
}

template <class T>
std::unique_ptr<T> TakeAdoptedCapsule(py::handle capsule, const char* name) {
  auto* adopted = static_cast<std::unique_ptr<T>*>(PyCapsule_GetPointer(capsule.ptr(), name));
  if (adopted == nullptr) throw py::error_already_set();
  return std::move(*adopted);
}

}  // namespace pagefs::py_binding
