// CPython type slots for the hottest single-element calls (d[k], k in d,
// k in s, len, lst[i], d[k] = v, del d[k]): the interpreter calls these C
// functions directly, skipping pybind11's dispatcher (argument conversion,
// overload resolution), which costs more than an in-cache engine lookup.
// Each slot does exactly what the bound method does (it calls the same
// function), so results and errors are the same; only the way in differs.
// Installed on the package's classes (pagefs.List, Dict, Set) once they
// exist; a subclass of them that defines its own method gets Python's usual
// slot for it.
#include "pybind/binding.h"

namespace pagefs::py_binding {
namespace {

binaryfunc g_list_subscript = nullptr;  // the slot pagefs.List had: slices go there

// Runs fn, turning a C++ or Python exception into the Python error indicator,
// as pybind11's dispatcher does; returns on_error then.
template <typename R, typename Fn>
R Guarded(R on_error, Fn&& fn) {
  try {
    return fn();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (...) {
    py::detail::try_translate_exceptions();
  }
  return on_error;
}

template <typename H>
H& HandleOf(PyObject* self) {
  return py::handle(self).cast<H&>();
}

PyObject* DictSubscript(PyObject* self, PyObject* key) {
  return Guarded<PyObject*>(
      nullptr, [&] { return DictGetItem(HandleOf<DictHandle>(self), key).release().ptr(); });
}

int DictAssSubscript(PyObject* self, PyObject* key, PyObject* value) {
  return Guarded(-1, [&] {
    DictHandle& h = HandleOf<DictHandle>(self);
    if (value == nullptr) {
      DictDelItem(h, key);
    } else {
      DictSetItem(h, key, value);
    }
    return 0;
  });
}

template <typename H>
int HashContainsSlot(PyObject* self, PyObject* key) {
  return Guarded(-1, [&] { return HashContains(HandleOf<H>(self), key) ? 1 : 0; });
}

template <typename H>
Py_ssize_t HashLengthSlot(PyObject* self) {
  return Guarded<Py_ssize_t>(-1,
                             [&] { return static_cast<Py_ssize_t>(HashLen(HandleOf<H>(self))); });
}

PyObject* ListSubscript(PyObject* self, PyObject* key) {
  if (!PyLong_CheckExact(key)) return g_list_subscript(self, key);
  return Guarded<PyObject*>(nullptr, [&] { return ListGetItem(self, key).release().ptr(); });
}

Py_ssize_t ListLengthSlot(PyObject* self) {
  return Guarded<Py_ssize_t>(
      -1, [&] { return static_cast<Py_ssize_t>(ListLen(HandleOf<ListHandle>(self))); });
}

PyTypeObject* TypeOf(py::handle cls, const char* what) {
  if (!PyType_Check(cls.ptr())) throw py::type_error(std::string(what) + " must be a class");
  auto* t = reinterpret_cast<PyTypeObject*>(cls.ptr());
  if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE) || t->tp_as_mapping == nullptr ||
      t->tp_as_sequence == nullptr) {
    throw py::type_error(std::string(what) +
                         " must be a heap type with mapping and sequence slots");
  }
  return t;
}

}  // namespace

void InstallFastSlots(py::handle list_cls, py::handle dict_cls, py::handle set_cls) {
  PyTypeObject* lt = TypeOf(list_cls, "the list class");
  PyTypeObject* dt = TypeOf(dict_cls, "the dict class");
  PyTypeObject* st = TypeOf(set_cls, "the set class");
  if (!PyType_IsSubtype(lt, reinterpret_cast<PyTypeObject*>(py::type::of<ListHandle>().ptr()))) {
    throw py::type_error("the list class must derive from pagefs._core.List");
  }
  if (!PyType_IsSubtype(dt, reinterpret_cast<PyTypeObject*>(py::type::of<DictHandle>().ptr())) ||
      !PyType_IsSubtype(st, reinterpret_cast<PyTypeObject*>(py::type::of<SetHandle>().ptr()))) {
    throw py::type_error("the dict and set classes must derive from pagefs._core.Dict and Set");
  }
  if (lt->tp_as_mapping->mp_subscript != ListSubscript)
    g_list_subscript = lt->tp_as_mapping->mp_subscript;
  lt->tp_as_mapping->mp_subscript = ListSubscript;
  lt->tp_as_mapping->mp_length = ListLengthSlot;
  lt->tp_as_sequence->sq_length = ListLengthSlot;
  dt->tp_as_mapping->mp_subscript = DictSubscript;
  dt->tp_as_mapping->mp_ass_subscript = DictAssSubscript;
  dt->tp_as_mapping->mp_length = HashLengthSlot<DictHandle>;
  dt->tp_as_sequence->sq_length = HashLengthSlot<DictHandle>;
  dt->tp_as_sequence->sq_contains = HashContainsSlot<DictHandle>;
  st->tp_as_mapping->mp_length = HashLengthSlot<SetHandle>;
  st->tp_as_sequence->sq_length = HashLengthSlot<SetHandle>;
  st->tp_as_sequence->sq_contains = HashContainsSlot<SetHandle>;
  PyType_Modified(lt);
  PyType_Modified(dt);
  PyType_Modified(st);
}

}  // namespace pagefs::py_binding
