// pagefs._core.List: the fast paths of pagefs.List (len, lst[i], append,
// extend, insert, pop, del of any slice) and the primitives that
// pagefs/_list.py builds the rest of Python's list behaviour from (runs by
// Scan, slice edits).
#include <algorithm>
#include <optional>

#include "pybind/binding.h"

namespace pagefs::py_binding {

ListHandle::ListHandle(std::shared_ptr<StoreHandle> o, uint64_t id) : owner(std::move(o)) {
  py::gil_scoped_release release;
  list = std::make_unique<PersistentList>(owner->store->heap(), id);
}

ListHandle::ListHandle(std::shared_ptr<StoreHandle> o, std::unique_ptr<PersistentList> adopted)
    : owner(std::move(o)), list(std::move(adopted)) {}

ListHandle::~ListHandle() {
  // Closing the last handle of an unreferenced list frees its pages.
  if (list) CloseReleasingGil([this]() noexcept { list.reset(); });
}

Visited::~Visited() {
  // Closing may free a list nothing else holds.
  if (!refs.empty()) CloseReleasingGil([this]() noexcept { refs.CloseAll(); });
}

VisitedOne::~VisitedOne() {
  if (!refs.empty()) CloseReleasingGil([this]() noexcept { refs.CloseAll(); });
}

namespace {

constexpr uint64_t kChunk = 4096;         // values per engine call when streaming
constexpr size_t kFlushBytes = 4u << 20;  // encoded bytes buffered from an iterator
constexpr uint64_t kFlushCount = 65536;   // values buffered from an iterator

// An index as Python's list takes it (__index__), for the given error type.
Py_ssize_t AsIndex(py::handle key) {
  const Py_ssize_t i = PyNumber_AsSsize_t(key.ptr(), PyExc_IndexError);
  if (i == -1 && PyErr_Occurred()) throw py::error_already_set();
  return i;
}

// An index argument as list.pop and list.insert take it (their argument
// clinic's Py_ssize_t converter): TypeError for a non-integer, OverflowError
// "Python int too large to convert to C ssize_t" past the range.
Py_ssize_t AsSsizeArgument(py::handle arg) {
  PyObject* number = PyNumber_Index(arg.ptr());
  if (number == nullptr) throw py::error_already_set();
  const Py_ssize_t i = PyLong_AsSsize_t(number);
  Py_DECREF(number);
  if (i == -1 && PyErr_Occurred()) throw py::error_already_set();
  return i;
}

bool IsIndexKey(py::handle key) {
  return PyLong_Check(key.ptr()) || (!PySlice_Check(key.ptr()) && PyIndex_Check(key.ptr()));
}

[[noreturn]] void ThrowBadKey(py::handle key) {
  throw py::type_error(std::string("list indices must be integers or slices, not ") +
                       Py_TYPE(key.ptr())->tp_name);
}

// An engine handle in transit from DecodeValue to the pagefs.List
// constructor (List(store, id, adopted)); closed if never taken.
constexpr const char* kAdoptedListName = "pagefs._core.adopted_list";
using AdoptedList = std::unique_ptr<PersistentList>;

void ScanInto(ListHandle& h, uint64_t start, uint64_t stop, bool reversed, Visited& out) {
  py::gil_scoped_release release;
  auto add = [&out](std::string_view v) { out.Add(v); };
  if (reversed) {
    h.list->ScanReverse(start, stop, add);
  } else {
    h.list->Scan(start, stop, add);
  }
}

py::list ReadRun(ListHandle& h, uint64_t start, uint64_t stop, bool reversed) {
  Visited got(h.list->heap());
  ScanInto(h, start, stop, reversed, got);
  return DecodeRun(got, h.owner);
}

// Appends the values [start, stop) of another pagefs list (possibly h
// itself), chunk by chunk; stop is taken when the call begins, so a list
// extended by itself doubles once.
void ExtendFromList(ListHandle& h, ListHandle& src, uint64_t start, uint64_t stop_at) {
  const bool same_store = src.owner->store.get() == h.owner->store.get();
  uint64_t n = 0;
  {
    py::gil_scoped_release release;
    n = std::min<uint64_t>(stop_at, src.list->size());
  }
  for (uint64_t at = start; at < n; at += kChunk) {
    const uint64_t stop = std::min(n, at + kChunk);
    Visited got(src.list->heap());
    ScanInto(src, at, stop, false, got);
    if (same_store) {
      // Same store: the encoded values are valid as they are; the handles
      // in got keep the lists they reference alive until they are stored.
      py::gil_scoped_release release;
      h.list->Append(got.run.bytes, got.run.ends.size());
    } else {
      py::list values = DecodeRun(got, src.owner);
      std::string encoded;
      const uint64_t count = EncodeAll(values.ptr(), *h.owner, encoded);
      py::gil_scoped_release release;
      h.list->Append(encoded, count);
    }
  }
}

// A private list of the store, for values on their way into another list: it
// has no stored reference and one handle, so closing the handle frees it (and
// a crash leaves an orphan that the next open frees).
struct ScratchList {
  std::unique_ptr<PersistentList> list;
  explicit ScratchList(Heap& heap) {
    py::gil_scoped_release release;
    list = std::make_unique<PersistentList>(heap, PersistentList::Create(heap));
  }
  ~ScratchList() {
    if (list) CloseReleasingGil([this]() noexcept { list.reset(); });
  }
  ScratchList(const ScratchList&) = delete;
  ScratchList& operator=(const ScratchList&) = delete;
};

void Extend(ListHandle& h, py::handle iterable) {
  PyObject* obj = iterable.ptr();
  if (PyList_Check(obj) || PyTuple_Check(obj)) {
    // The whole batch is encoded before the engine sees any of it, so an
    // unsupported value leaves the list unchanged.
    std::string encoded;
    const uint64_t count = EncodeAll(obj, *h.owner, encoded);
    if (count == 0) return;
    py::gil_scoped_release release;
    h.list->Append(encoded, count);
    return;
  }
  if (py::isinstance<ListHandle>(iterable)) {
    ListHandle& src = iterable.cast<ListHandle&>();
    // Another store's values are encoded again, and one of them may be
    // refused: that goes the all-or-nothing way below.
    if (src.owner->store.get() == h.owner->store.get())
      return ExtendFromList(h, src, 0, UINT64_MAX);
  }
  // Any other iterable (generators included), all or nothing: values are
  // encoded in bounded batches, and a batch that fills up goes to a scratch
  // list rather than to h, so a bad value or an exception from the iterator
  // leaves h as it was. At the end, the values go to h in one Append (when
  // they fit one batch, the usual case) or are copied from the scratch list.
  py::iterator it = py::iter(iterable);
  std::string encoded;
  uint64_t count = 0;
  std::optional<ScratchList> scratch;
  auto spill = [&] {
    if (!scratch) scratch.emplace(h.list->heap());
    {
      py::gil_scoped_release release;
      scratch->list->Append(encoded, count);
    }
    encoded.clear();
    count = 0;
  };
  while (true) {
    PyObject* item = PyIter_Next(it.ptr());
    if (item == nullptr) {
      if (PyErr_Occurred()) throw py::error_already_set();
      break;
    }
    const py::object keep = py::reinterpret_steal<py::object>(item);
    EncodeValue(item, *h.owner, encoded);
    ++count;
    if (count >= kFlushCount || encoded.size() >= kFlushBytes) spill();
  }
  if (!scratch) {
    if (count == 0) return;
    py::gil_scoped_release release;
    h.list->Append(encoded, count);
    return;
  }
  if (count > 0) spill();
  uint64_t n = 0;
  {
    py::gil_scoped_release release;
    n = scratch->list->size();
  }
  for (uint64_t at = 0; at < n; at += kChunk) {
    Visited got(h.list->heap());
    py::gil_scoped_release release;
    scratch->list->Scan(at, std::min(n, at + kChunk), [&got](std::string_view v) { got.Add(v); });
    // The handles in got keep the lists these values reference alive.
    h.list->Append(got.run.bytes, got.run.ends.size());
  }
}

}  // namespace

py::object ListGetItem(py::handle self, py::handle key) {
  if (!IsIndexKey(key)) {
    if (PySlice_Check(key.ptr())) return self.attr("_getitem_slice")(key);
    ThrowBadKey(key);
  }
  return ListGetIndex(self.cast<ListHandle&>(), key);
}

py::object ListGetIndex(ListHandle& h, py::handle key) {
  const Py_ssize_t i = AsIndex(key);
  VisitedOne got(h.list->heap());
  ReadHoldingGil([&] {
    h.list->GetSigned(i, [&got](std::string_view v) { got.Add(v); });  // "list index out of range"
  });
  return DecodeOne(got, h.owner);
}

uint64_t ListLen(ListHandle& h) {
  return ReadHoldingGil([&] { return h.list->size(); });
}

namespace {

void SetItem(py::handle self, py::handle key, py::handle value) {
  if (!IsIndexKey(key)) {
    if (PySlice_Check(key.ptr())) {
      self.attr("_setitem_slice")(key, value);
      return;
    }
    ThrowBadKey(key);
  }
  ListHandle& h = self.cast<ListHandle&>();
  const Py_ssize_t i = AsIndex(key);
  std::string encoded;
  EncodeValue(value.ptr(), *h.owner, encoded);
  py::gil_scoped_release release;
  h.list->SetSigned(i, encoded);  // resolved under the list's lock
}

// A slice's start, stop and step as list takes them: TypeError for indices
// that are not integers, ValueError for a zero step, as Python's own.
struct SliceArgs {
  Py_ssize_t start, stop, step;
};
SliceArgs UnpackSlice(py::handle key) {
  SliceArgs s{};
  if (PySlice_Unpack(key.ptr(), &s.start, &s.stop, &s.step) < 0) throw py::error_already_set();
  return s;
}

void DelItem(py::handle self, py::handle key) {
  if (!IsIndexKey(key)) {
    if (!PySlice_Check(key.ptr())) ThrowBadKey(key);
    ListHandle& h = self.cast<ListHandle&>();
    const SliceArgs s = UnpackSlice(key);
    py::gil_scoped_release release;
    h.list->EraseSlice(s.start, s.stop, s.step);  // resolved and erased under the list's lock
    return;
  }
  ListHandle& h = self.cast<ListHandle&>();
  const Py_ssize_t i = AsIndex(key);
  py::gil_scoped_release release;
  h.list->EraseSigned(i);  // resolved under the list's lock
}

// One engine operation: two threads popping never get the same value, and a
// popped list referenced only from its slot is held by its handle (opened
// before the erase), not freed.
py::object Pop(ListHandle& h, const py::object& index) {
  const Py_ssize_t i = AsSsizeArgument(index);  // pop(None) is list's TypeError
  Visited got(h.list->heap());
  {
    py::gil_scoped_release release;
    h.list->Pop(i, [&got](std::string_view v) { got.Add(v); });
  }
  return DecodeValue(got.value(0), h.owner, got.refs);
}

void Insert(ListHandle& h, py::handle index, py::handle value) {
  const Py_ssize_t i = AsSsizeArgument(index);
  std::string encoded;
  EncodeValue(value.ptr(), *h.owner, encoded);
  py::gil_scoped_release release;
  h.list->InsertSigned(i, encoded);  // clamped under the list's lock
}

// Replaces [start, stop) by the values of seq (a list or tuple), which are
// all encoded before anything changes; one engine operation.
void Replace(ListHandle& h, uint64_t start, uint64_t stop, py::handle seq) {
  std::string encoded;
  const uint64_t count = EncodeAll(seq.ptr(), *h.owner, encoded);
  py::gil_scoped_release release;
  h.list->Replace(start, stop, encoded, count);
}

// lst[key] = seq for an extended slice key (step != 1) and a list or tuple
// seq, whose values are all encoded before the engine resolves the slice and
// sets them under one lock.
void AssignExtended(ListHandle& h, py::handle key, py::handle seq) {
  const SliceArgs s = UnpackSlice(key);
  std::string encoded;
  const uint64_t count = EncodeAll(seq.ptr(), *h.owner, encoded);
  py::gil_scoped_release release;
  h.list->AssignSlice(s.start, s.stop, s.step, encoded, count);
}

}  // namespace

py::object AdoptionToken(std::unique_ptr<PersistentList> adopted) {
  return MakeAdoptedCapsule(std::move(adopted), kAdoptedListName);
}

void BindList(py::module_& m) {
  py::class_<ListHandle, std::shared_ptr<ListHandle>>(
      m, "List", "Handle on a persistent list (see pagefs.List).")
      .def(py::init([](std::shared_ptr<StoreHandle> owner, uint64_t id) {
             return std::make_shared<ListHandle>(std::move(owner), id);
           }),
           py::arg("store"), py::arg("id"))
      .def(py::init([](std::shared_ptr<StoreHandle> owner, uint64_t id, py::handle adopted) {
             AdoptedList list = TakeAdoptedCapsule<PersistentList>(adopted, kAdoptedListName);
             if (!list || list->id() != id || &list->heap() != &owner->store->heap()) {
               if (list) {
                 py::gil_scoped_release release;
                 list.reset();
               }
               throw py::value_error("pagefs: not a handle adopted for this list");
             }
             return std::make_shared<ListHandle>(std::move(owner), std::move(list));
           }),
           py::arg("store"), py::arg("id"), py::arg("adopted"))
      .def_static("_create",
                  [](StoreHandle& owner) {
                    py::gil_scoped_release release;
                    return PersistentList::Create(owner.store->heap());
                  })
      .def_property_readonly("_id", [](ListHandle& h) { return h.list->id(); })
      .def_property_readonly("_store", [](ListHandle& h) { return h.owner; })
      .def_property_readonly(
          "_store_key",
          [](ListHandle& h) { return reinterpret_cast<uintptr_t>(h.owner->store.get()); })
      .def("_extend_from", &ExtendFromList, py::arg("source"), py::arg("start"), py::arg("stop"))
      .def("_same_store",
           [](ListHandle& h, ListHandle& other) { return h.owner->store == other.owner->store; })
      .def("__len__", &ListLen)
      .def("__getitem__", &ListGetItem)
      .def("__setitem__", &SetItem)
      .def("__delitem__", &DelItem)
      .def(
          "append",
          [](ListHandle& h, py::handle value) {
            std::string encoded;
            EncodeValue(value.ptr(), *h.owner, encoded);
            py::gil_scoped_release release;
            h.list->Append(encoded, 1);
          },
          py::arg("object"), "Append object to the end of the list.")
      .def("extend", &Extend, py::arg("iterable"),
           "Extend the list by appending all the items from the iterable.")
      .def("insert", &Insert, py::arg("index"), py::arg("object"), "Insert object before index.")
      .def("pop", &Pop, py::arg("index") = -1,
           "Remove and return item at index (default last).\n\nRaises IndexError if list is empty "
           "or index is out of range.")
      .def(
          "clear",
          [](ListHandle& h) {
            py::gil_scoped_release release;
            h.list->Clear();
          },
          "Remove all items from list.")
      .def(
          "reverse",
          [](ListHandle& h) {
            py::gil_scoped_release release;
            h.list->Reverse();
          },
          "Reverse *IN PLACE*.")
      .def("_run", [](ListHandle& h, uint64_t start,
                      uint64_t stop) { return ReadRun(h, start, stop, false); })
      .def("_run_reversed", [](ListHandle& h, uint64_t start,
                               uint64_t stop) { return ReadRun(h, start, stop, true); })
      .def("_erase",
           [](ListHandle& h, uint64_t start, uint64_t stop) {
             py::gil_scoped_release release;
             stop = std::min(stop, h.list->size());
             if (start < stop) h.list->Erase(start, stop);
           })
      .def("_replace", &Replace)
      .def("_changes", [](ListHandle& h) { return h.list->changes(); })
      .def("_assign_extended", &AssignExtended, py::arg("key"), py::arg("seq"));
}

}  // namespace pagefs::py_binding
