// pagefs._core.Dict and pagefs._core.Set: handles on the engine's hash
// collections (pager/collections/persistent_hash.h) with the single-element
// operations, and the primitives (runs of entries by number, the iteration
// state, batched updates) that pagefs/_dict.py and _set.py build the rest of
// dict's and set's behaviour from.
#include <pybind11/stl.h>

#include "pybind/binding.h"

namespace pagefs::py_binding {

HashHandle::HashHandle(std::shared_ptr<StoreHandle> o, uint64_t id, CollectionKind kind)
    : owner(std::move(o)) {
  py::gil_scoped_release release;
  table = std::make_unique<PersistentHash>(owner->store->heap(), id, kind);
}

HashHandle::HashHandle(std::shared_ptr<StoreHandle> o, std::unique_ptr<PersistentHash> adopted)
    : owner(std::move(o)), table(std::move(adopted)) {}

HashHandle::~HashHandle() {
  // Closing the last handle of an unreferenced collection frees its pages.
  if (table) CloseReleasingGil([this]() noexcept { table.reset(); });
}

namespace {

constexpr const char* kAdoptedHashName = "pagefs._core.adopted_hash";
using AdoptedHash = std::unique_ptr<PersistentHash>;
constexpr uint64_t kBatch = 4096;  // entries per engine call in updates

// KeyError(key), with the key as its one argument even when it is a tuple
// (as dict raises it; PyErr_SetObject would take a tuple as the arguments).
[[noreturn]] void ThrowKeyError(py::handle key) {
  PyObject* exc = PyObject_CallOneArg(PyExc_KeyError, key.ptr());
  if (exc != nullptr) {
    PyErr_SetObject(PyExc_KeyError, exc);
    Py_DECREF(exc);
  }
  throw py::error_already_set();
}

// One value read under the engine lock (handles on what it references
// opened there), decoded with the GIL.
struct One {
  VisitedOne got;
  explicit One(HashHandle& h) : got(h.table->heap()) {}
  PersistentHash::Visitor visitor() {
    return [this](std::string_view v) { got.Add(v); };
  }
  py::object value(HashHandle& h) { return DecodeOne(got, h.owner); }
};

enum class Part { kKeys = 0, kValues = 1, kItems = 2 };

// Entries by number: up to max from `from` on (or before `before`,
// backwards), as keys, values or (key, value) tuples; where to go on; and
// each entry's number (where an iterator goes on after a change).
py::tuple Scan(HashHandle& h, uint64_t at, uint64_t max, int part, bool backwards) {
  Visited keys(h.table->heap()), values(h.table->heap());
  std::vector<uint64_t> numbers;
  uint64_t next;
  {
    py::gil_scoped_release release;
    auto fn = [&](uint64_t number, std::string_view k, std::string_view v) {
      numbers.push_back(number);
      if (part != static_cast<int>(Part::kValues) || h.table->kind() == CollectionKind::kSet)
        keys.Add(k);
      if (part != static_cast<int>(Part::kKeys) && h.table->kind() == CollectionKind::kDict)
        values.Add(v);
    };
    next = backwards ? h.table->ScanBefore(at, max, fn) : h.table->ScanFrom(at, max, fn);
  }
  py::list out;
  if (part == static_cast<int>(Part::kItems) && h.table->kind() == CollectionKind::kDict) {
    py::list ks = DecodeRun(keys, h.owner), vs = DecodeRun(values, h.owner);
    out = py::list(ks.size());
    for (size_t k = 0; k < ks.size(); ++k) {
      PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(k),
                      py::make_tuple(ks[k], vs[k]).release().ptr());
    }
  } else if (part == static_cast<int>(Part::kValues) && h.table->kind() == CollectionKind::kDict) {
    out = DecodeRun(values, h.owner);
  } else {
    out = DecodeRun(keys, h.owner);
  }
  return py::make_tuple(out, next, py::cast(numbers));
}

py::tuple State(HashHandle& h) {
  const PersistentHash::IterationState s =
      ReadHoldingGil([&] { return h.table->iteration_state(); });
  return py::make_tuple(s.generation, s.size, s.version);
}

void Clear(HashHandle& h) {
  py::gil_scoped_release release;
  h.table->Clear();
}

py::dict Verify(HashHandle& h) {
  HashShape s;
  {
    py::gil_scoped_release release;
    s = h.table->Verify();
  }
  py::dict d;
  d["live"] = s.live;
  d["log_entries"] = s.log_entries;
  d["buckets"] = s.buckets;
  d["bucket_pages"] = s.bucket_pages;
  return d;
}

// Sets a run of encoded entries, in batches; the entries before a refused
// one stay set.
void Flush(HashHandle& h, std::string& run, uint64_t& count) {
  if (count == 0) return;
  {
    py::gil_scoped_release release;
    h.table->SetRun(run, count);
  }
  run.clear();
  count = 0;
}

// Adds each item of iterable through add(item, index, run), which appends
// its encoded entry to run, and sends the run to the engine every kBatch
// entries. Entries before one that fails stay added, as dict.update and
// set.update leave them.
template <typename H, typename AddOne>
void UpdateInBatches(H& h, py::handle iterable, AddOne add) {
  py::iterator it = py::iter(iterable);
  std::string run;
  uint64_t count = 0;
  Py_ssize_t index = 0;
  try {
    for (PyObject* item; (item = PyIter_Next(it.ptr())) != nullptr; ++index) {
      const py::object keep = py::reinterpret_steal<py::object>(item);
      add(item, index, run);
      if (++count >= kBatch) Flush(h, run, count);
    }
    if (PyErr_Occurred()) throw py::error_already_set();
  } catch (...) {
    py::error_scope keep_error;
    try {
      Flush(h, run, count);
    } catch (...) {
    }
    throw;
  }
  Flush(h, run, count);
}

// dict.update(iterable of pairs), with dict's errors for an element that is
// not a pair.
void UpdatePairs(DictHandle& h, py::handle iterable) {
  UpdateInBatches(h, iterable, [&h](PyObject* item, Py_ssize_t index, std::string& run) {
    PyObject* fast = PySequence_Fast(item, "");
    if (fast == nullptr) {
      if (PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear();
        throw py::type_error("cannot convert dictionary update sequence element #" +
                             std::to_string(index) + " to a sequence");
      }
      throw py::error_already_set();
    }
    const py::object keep_fast = py::reinterpret_steal<py::object>(fast);
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n != 2) {
      throw py::value_error("dictionary update sequence element #" + std::to_string(index) +
                            " has length " + std::to_string(n) + "; 2 is required");
    }
    const size_t mark = run.size();
    try {
      EncodeKey(PySequence_Fast_GET_ITEM(fast, 0), *h.owner, run, false);
      EncodeValue(PySequence_Fast_GET_ITEM(fast, 1), *h.owner, run);
    } catch (...) {
      run.resize(mark);  // a key without its value is no entry
      throw;
    }
  });
}

// set.update(iterable).
void UpdateMembers(SetHandle& h, py::handle iterable) {
  UpdateInBatches(h, iterable, [&h](PyObject* item, Py_ssize_t, std::string& run) {
    EncodeKey(item, *h.owner, run, false);
  });
}

template <typename H>
void BindCommon(py::class_<H, std::shared_ptr<H>>& c, CollectionKind kind) {
  c.def(py::init([kind](std::shared_ptr<StoreHandle> owner, uint64_t id) {
          return std::make_shared<H>(std::move(owner), id, kind);
        }),
        py::arg("store"), py::arg("id"))
      .def(py::init([](std::shared_ptr<StoreHandle> owner, uint64_t id, py::handle adopted) {
             AdoptedHash table = TakeAdoptedCapsule<PersistentHash>(adopted, kAdoptedHashName);
             if (!table || table->id() != id || &table->heap() != &owner->store->heap()) {
               if (table) {
                 py::gil_scoped_release release;
                 table.reset();
               }
               throw py::value_error("pagefs: not a handle adopted for this collection");
             }
             return std::make_shared<H>(std::move(owner), std::move(table));
           }),
           py::arg("store"), py::arg("id"), py::arg("adopted"))
      .def_static("_create",
                  [kind](StoreHandle& owner) {
                    py::gil_scoped_release release;
                    return PersistentHash::Create(owner.store->heap(), kind);
                  })
      .def_property_readonly("_id", [](H& h) { return h.table->id(); })
      .def_property_readonly("_store", [](H& h) { return h.owner; })
      .def_property_readonly("_store_key",
                             [](H& h) { return reinterpret_cast<uintptr_t>(h.owner->store.get()); })
      .def("__len__", [](H& h) { return HashLen(h); })
      .def("__contains__", [](H& h, py::handle key) { return HashContains(h, key); })
      .def("clear", [](H& h) { Clear(h); })
      .def("_state", [](H& h) { return State(h); })
      .def("_scan", [](H& h, uint64_t from, uint64_t max,
                       int part) { return Scan(h, from, max, part, false); })
      .def("_scan_reversed", [](H& h, uint64_t before, uint64_t max,
                                int part) { return Scan(h, before, max, part, true); })
      .def("_verify", [](H& h) { return Verify(h); });
}

}  // namespace

uint64_t HashLen(HashHandle& h) {
  return ReadHoldingGil([&] { return h.table->size(); });
}

namespace {

// A set's lookups take a set for the frozenset of its members (`set() in s`,
// s.discard({1})), as CPython's do; no pagefs set holds a frozenset.
bool SetArgumentOfSetLookup(HashHandle& h, py::handle key) {
  return PySet_Check(key.ptr()) && h.table->kind() == CollectionKind::kSet;
}

}  // namespace

bool HashContains(HashHandle& h, py::handle key) {
  if (SetArgumentOfSetLookup(h, key)) return false;
  ScratchString scratch;
  std::string& k = scratch.get();
  if (!EncodeKey(key.ptr(), *h.owner, k, true)) return false;
  return ReadHoldingGil([&] { return h.table->Contains(k); });
}

py::object DictGetItem(DictHandle& h, py::handle key) {
  ScratchString scratch;
  std::string& k = scratch.get();
  if (!EncodeKey(key.ptr(), *h.owner, k, true)) ThrowKeyError(key);
  One one(h);
  const bool found = ReadHoldingGil([&] { return h.table->Get(k, one.visitor()); });
  if (!found) ThrowKeyError(key);
  return one.value(h);
}

void DictSetItem(DictHandle& h, py::handle key, py::handle value) {
  // The key and the value encoded back to back, in one buffer.
  ScratchString scratch;
  std::string& kv = scratch.get();
  EncodeKey(key.ptr(), *h.owner, kv, false);
  const size_t key_end = kv.size();
  EncodeValue(value.ptr(), *h.owner, kv);
  const std::string_view both(kv);
  py::gil_scoped_release release;
  h.table->Set(both.substr(0, key_end), both.substr(key_end));
}

py::object DictGet(DictHandle& h, py::handle key, py::handle fallback) {
  ScratchString scratch;
  std::string& k = scratch.get();
  if (!EncodeKey(key.ptr(), *h.owner, k, true)) return py::reinterpret_borrow<py::object>(fallback);
  One one(h);
  const bool found = ReadHoldingGil([&] { return h.table->Get(k, one.visitor()); });
  return found ? one.value(h) : py::reinterpret_borrow<py::object>(fallback);
}

void SetAdd(SetHandle& h, py::handle key) {
  ScratchString scratch;
  std::string& k = scratch.get();
  EncodeKey(key.ptr(), *h.owner, k, false);
  py::gil_scoped_release release;
  h.table->Set(k, "");
}

void DictDelItem(DictHandle& h, py::handle key) {
  std::string k;
  if (!EncodeKey(key.ptr(), *h.owner, k, true)) ThrowKeyError(key);
  bool found;
  {
    py::gil_scoped_release release;
    found = h.table->Erase(k, [](std::string_view) {});
  }
  if (!found) ThrowKeyError(key);
}

py::object HashAdoptionToken(std::unique_ptr<PersistentHash> adopted) {
  return MakeAdoptedCapsule(std::move(adopted), kAdoptedHashName);
}

void BindHash(py::module_& m) {
  py::class_<DictHandle, std::shared_ptr<DictHandle>> dict(
      m, "Dict", "Handle on a persistent dict (see pagefs.Dict).");
  BindCommon(dict, CollectionKind::kDict);
  dict.def("__getitem__", &DictGetItem)
      .def(
          "get",
          [](DictHandle& h, py::handle key, py::handle fallback) {
            return DictGet(h, key, fallback);
          },
          py::arg("key"), py::arg("default") = py::none(),
          "Return the value for key if key is in the dictionary, else default.")
      .def("__setitem__", &DictSetItem)
      .def("__delitem__", &DictDelItem)
      .def("_pop",
           [](DictHandle& h, py::handle key) -> py::tuple {
             std::string k;
             if (!EncodeKey(key.ptr(), *h.owner, k, true))
               return py::tuple(py::make_tuple(false, py::none()));
             One one(h);
             bool found;
             {
               py::gil_scoped_release release;
               found = h.table->Erase(k, one.visitor());
             }
             if (!found) return py::make_tuple(false, py::none());
             return py::make_tuple(true, one.value(h));
           })
      .def(
          "popitem",
          [](DictHandle& h) {
            Visited got(h.table->heap());
            bool found;
            {
              py::gil_scoped_release release;
              found = h.table->PopLast([&](uint64_t, std::string_view k, std::string_view v) {
                got.Add(k);
                got.Add(v);
              });
            }
            if (!found) throw py::key_error("popitem(): dictionary is empty");
            py::list kv = DecodeRun(got, h.owner);
            return py::make_tuple(kv[0], kv[1]);
          },
          "Remove and return a (key, value) pair as a 2-tuple.\n\nPairs are returned in LIFO "
          "(last-in, first-out) order.\nRaises KeyError if the dict is empty.")
      .def(
          "setdefault",
          [](DictHandle& h, py::handle key, py::handle fallback) {
            std::string k, v;
            EncodeKey(key.ptr(), *h.owner, k, false);
            EncodeValue(fallback.ptr(), *h.owner, v);
            One one(h);
            {
              py::gil_scoped_release release;
              h.table->SetDefault(k, v, one.visitor());
            }
            return one.value(h);
          },
          py::arg("key"), py::arg("default") = py::none(),
          "Insert key with a value of default if key is not in the dictionary.\n\nReturn the value "
          "for key if key is in the dictionary, else default.")
      .def("_update_pairs", &UpdatePairs);

  py::class_<SetHandle, std::shared_ptr<SetHandle>> set(
      m, "Set", "Handle on a persistent set (see pagefs.Set).");
  BindCommon(set, CollectionKind::kSet);
  set.def(
         "add", [](SetHandle& h, py::handle key) { SetAdd(h, key); }, py::arg("object"),
         "Add an element to a set.\n\nThis has no effect if the element is already present.")
      .def("_discard",
           [](SetHandle& h, py::handle key) {
             if (SetArgumentOfSetLookup(h, key)) return false;
             std::string k;
             if (!EncodeKey(key.ptr(), *h.owner, k, true)) return false;
             py::gil_scoped_release release;
             return h.table->Erase(k, [](std::string_view) {});
           })
      .def(
          "pop",
          [](SetHandle& h) {
            Visited got(h.table->heap());
            bool found;
            {
              py::gil_scoped_release release;
              found = h.table->PopLast(
                  [&](uint64_t, std::string_view k, std::string_view) { got.Add(k); });
            }
            if (!found) throw py::key_error("pop from an empty set");
            return DecodeValue(got.value(0), h.owner, got.refs);
          },
          "Remove and return an arbitrary set element.\n\nRaises KeyError if the set is empty.")
      .def("_update", &UpdateMembers);
}

}  // namespace pagefs::py_binding
