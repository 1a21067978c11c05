// pagefs.List's iterators, iter(lst) and reversed(lst): Python's index-based
// list iterators (listiterobject, listreviterobject) over a persistent list.
// A step yields the value at the current index if the index is still inside
// the list, then moves the index on; once past the end the iterator is
// exhausted for good. So a list changed under the loop behaves as a list
// does: `for x in lst: lst.pop()` over five values visits three and leaves
// two; appends made meanwhile are reached; a value set ahead is seen.
//
// Values are read ahead in runs (one engine call per run, not per value).
// A run is used only while the list's change count (PersistentList::changes)
// is the one it was read under; after a change the iterator reads again from
// its index, one value at first, doubling while the list stays unchanged.
// Changes made by another process (a writer beside a reader) are not counted:
// a reader sees them from its next run on.
//
// A C type of its own (not a pybind11 class): tp_iternext is the whole step,
// with no dispatcher in the way of a loop's hottest call.
#include <algorithm>

#include "pybind/binding.h"

namespace pagefs::py_binding {
namespace {

constexpr Py_ssize_t kFirstRun = 64;
constexpr Py_ssize_t kMaxRun = 4096;

struct ListIterObject {
  PyObject_HEAD PyObject* list;  // the pagefs.List iterated; nullptr once exhausted
  ListHandle* handle;            // the list's engine handle, alive as long as list
  PyObject* run;                 // values read ahead (a Python list), or nullptr
  Py_ssize_t run_low;            // the list index of the lowest value in run
  uint64_t run_changes;          // the list's change count when run was read
  Py_ssize_t index;              // the index of the next value to yield
  Py_ssize_t next_run;           // how many values to read next time
  bool reversed;                 // run holds [run_low, run_low + len) backwards
};

PyTypeObject* g_iter_type = nullptr;

// Values [low, high) of the list, in order or backwards; fewer when the list
// is shorter (the engine clamps high to its size).
py::list ReadValues(ListHandle& h, uint64_t low, uint64_t high, bool reversed) {
  Visited got(h.list->heap());
  {
    py::gil_scoped_release release;
    auto add = [&got](std::string_view v) { got.Add(v); };
    if (reversed) {
      h.list->ScanReverse(low, high, add);
    } else {
      h.list->Scan(low, high, add);
    }
  }
  return DecodeRun(got, h.owner);
}

void Exhaust(ListIterObject* it) {
  Py_CLEAR(it->list);
  Py_CLEAR(it->run);
  it->handle = nullptr;
}

// The value at it->index from the current run, or nullptr when the run
// does not hold it (or is stale).
PyObject* FromRun(ListIterObject* it) {
  if (it->run == nullptr || it->handle->list->changes() != it->run_changes) return nullptr;
  const Py_ssize_t k = it->index - it->run_low;
  const Py_ssize_t n = PyList_GET_SIZE(it->run);
  if (k < 0 || k >= n) return nullptr;
  PyObject* v = PyList_GET_ITEM(it->run, it->reversed ? n - 1 - k : k);
  Py_INCREF(v);
  return v;
}

// Reads the run holding it->index; false when the index is past the list's
// end (the iterator is then exhausted).
bool Refill(ListIterObject* it) {
  const bool stale = it->run != nullptr && it->handle->list->changes() != it->run_changes;
  Py_ssize_t want = stale ? 1 : it->next_run;
  // Counted before the read: a change racing with it makes the run stale.
  const uint64_t changes = it->handle->list->changes();
  const Py_ssize_t index = it->index;
  // Keeps the list (and so the handle) alive should another thread exhaust
  // this iterator while the engine reads.
  py::object keep = py::reinterpret_borrow<py::object>(it->list);
  Py_ssize_t low = index;
  Py_ssize_t high = index + want;
  if (it->reversed) {
    high = index + 1;
    low = std::max<Py_ssize_t>(0, high - want);
    want = high - low;
  }
  py::list values = ReadValues(*it->handle, static_cast<uint64_t>(low), static_cast<uint64_t>(high),
                               it->reversed);
  if (it->list == nullptr || it->index != index) return true;  // another thread moved it
  const Py_ssize_t got = PyList_GET_SIZE(values.ptr());
  // Forward: nothing read means index >= len. Backwards: a short read means
  // len <= index (the engine stopped at len).
  if (got == 0 || (it->reversed && got < want)) return false;
  Py_XSETREF(it->run, values.release().ptr());
  it->run_low = low;
  it->run_changes = changes;
  it->next_run = std::min(kMaxRun, std::max<Py_ssize_t>(2 * want, 2));
  return true;
}

PyObject* IterNext(PyObject* self) {
  auto* it = reinterpret_cast<ListIterObject*>(self);
  try {
    // Another thread may step this iterator while the engine reads (the GIL
    // is released then), so look at the run again after each read.
    while (it->list != nullptr) {
      if (PyObject* v = FromRun(it)) {
        it->index += it->reversed ? -1 : 1;
        return v;
      }
      if (it->index < 0 || !Refill(it)) Exhaust(it);
    }
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (...) {
    py::detail::try_translate_exceptions();
  }
  return nullptr;
}

// list_iterator.__length_hint__: the values still ahead if nothing changes.
PyObject* LengthHint(PyObject* self, PyObject*) {
  auto* it = reinterpret_cast<ListIterObject*>(self);
  Py_ssize_t left = 0;
  if (it->list != nullptr) {
    try {
      const auto n = static_cast<Py_ssize_t>(ListLen(*it->handle));
      if (it->reversed) {
        left = it->index >= 0 && it->index < n ? it->index + 1 : 0;
      } else {
        left = std::max<Py_ssize_t>(0, n - it->index);
      }
    } catch (py::error_already_set& e) {
      e.restore();
      return nullptr;
    } catch (...) {
      py::detail::try_translate_exceptions();
      return nullptr;
    }
  }
  return PyLong_FromSsize_t(left);
}

void Dealloc(PyObject* self) {
  auto* it = reinterpret_cast<ListIterObject*>(self);
  PyTypeObject* type = Py_TYPE(self);
  Py_XDECREF(it->list);
  Py_XDECREF(it->run);
  type->tp_free(self);
  Py_DECREF(type);
}

PyMethodDef g_methods[] = {
    {"__length_hint__", LengthHint, METH_NOARGS, "Private method returning an estimate of len()."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot g_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(Dealloc)},
    {Py_tp_iter, reinterpret_cast<void*>(PyObject_SelfIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(IterNext)},
    {Py_tp_methods, g_methods},
    {0, nullptr},
};

PyType_Spec g_spec = {
    "pagefs._core.ListIterator", sizeof(ListIterObject), 0, Py_TPFLAGS_DEFAULT, g_slots,
};

py::object NewIterator(py::handle list, bool reversed) {
  ListHandle& h = list.cast<ListHandle&>();
  Py_ssize_t start = 0;
  if (reversed) start = static_cast<Py_ssize_t>(ListLen(h)) - 1;
  auto* it = PyObject_New(ListIterObject, g_iter_type);
  if (it == nullptr) throw py::error_already_set();
  Py_INCREF(list.ptr());
  it->list = list.ptr();
  it->handle = &h;
  it->run = nullptr;
  it->run_low = 0;
  it->run_changes = 0;
  it->index = start;
  it->next_run = kFirstRun;
  it->reversed = reversed;
  return py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(it));
}

}  // namespace

void BindListIterator(py::module_& m) {
  PyObject* type = PyType_FromSpec(&g_spec);
  if (type == nullptr) throw py::error_already_set();
  g_iter_type = reinterpret_cast<PyTypeObject*>(type);
  m.add_object("ListIterator", type);
  m.def("_list_iterator", &NewIterator, py::arg("list"), py::arg("reversed") = false,
        "iter(lst) (or reversed(lst)): list's index-based iterator over a pagefs list.");
}

}  // namespace pagefs::py_binding
