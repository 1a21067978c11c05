// CPython type slots for the hottest single-element calls (d[k], k in d,
// k in s, len, lst[i], d[k] = v, del d[k]): the interpreter calls these C
// functions directly, skipping pybind11's dispatcher (argument conversion,
// overload resolution), which costs more than an in-cache engine lookup.
// Each slot does exactly what the bound method does (it calls the same
// function), so results and errors are the same; only the way in differs.
// Installed on the package's classes (pagefs.List, Dict, Set) once they
// exist; a subclass of them that defines its own method gets Python's usual
// slot for it.
//
// The same for two hot methods, s.add(x) and d.get(k[, default]): C methods
// (vectorcall, no dispatcher) for the plain positional calls, and pybind11's
// own method, with its keywords and its errors, for every other call.
#include <vector>

#include "pybind/binding.h"

namespace pagefs::py_binding {
namespace {

binaryfunc g_list_subscript = nullptr;  // the slot pagefs.List had: slices go there
PyObject* g_set_add = nullptr;          // pybind11's Set.add, for calls not add(x)
PyObject* g_dict_get = nullptr;         // pybind11's Dict.get, for calls not get(k[, d])

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
  return Guarded<PyObject*>(
      nullptr, [&] { return ListGetIndex(HandleOf<ListHandle>(self), key).release().ptr(); });
}

Py_ssize_t ListLengthSlot(PyObject* self) {
  return Guarded<Py_ssize_t>(
      -1, [&] { return static_cast<Py_ssize_t>(ListLen(HandleOf<ListHandle>(self))); });
}

// Calls the pybind11 method fn as self.fn(*args, **kwargs) would.
PyObject* CallBound(PyObject* fn, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                    PyObject* kwnames) {
  const Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
  std::vector<PyObject*> with_self(static_cast<size_t>(total) + 1);
  with_self[0] = self;
  for (Py_ssize_t k = 0; k < total; ++k) with_self[static_cast<size_t>(k) + 1] = args[k];
  return PyObject_Vectorcall(fn, with_self.data(), static_cast<size_t>(nargs) + 1, kwnames);
}

PyObject* SetAddMethod(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  if (nargs != 1 || kwnames != nullptr) return CallBound(g_set_add, self, args, nargs, kwnames);
  return Guarded<PyObject*>(nullptr, [&] {
    SetAdd(HandleOf<SetHandle>(self), args[0]);
    return Py_NewRef(Py_None);
  });
}

PyObject* DictGetMethod(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                        PyObject* kwnames) {
  if (nargs < 1 || nargs > 2 || kwnames != nullptr)
    return CallBound(g_dict_get, self, args, nargs, kwnames);
  return Guarded<PyObject*>(nullptr, [&] {
    return DictGet(HandleOf<DictHandle>(self), args[0], nargs == 2 ? args[1] : Py_None)
        .release()
        .ptr();
  });
}

// Puts the C method def on cls in place of the method of that name it
// inherits from pybind11, which *original receives (once: later installs
// keep the first). The doc stays pybind11's. Not when cls defines its own.
void InstallMethod(PyTypeObject* cls, PyMethodDef& def, PyObject** original) {
  if (*original == nullptr) {
    if (PyDict_GetItemString(cls->tp_dict, def.ml_name) != nullptr) return;
    PyObject* fn = PyObject_GetAttrString(reinterpret_cast<PyObject*>(cls), def.ml_name);
    if (fn == nullptr) throw py::error_already_set();
    PyObject* doc = PyObject_GetAttrString(fn, "__doc__");
    if (doc == nullptr) {
      Py_DECREF(fn);
      throw py::error_already_set();
    }
    if (PyUnicode_Check(doc)) {
      // Lives as long as the method: until exit.
      def.ml_doc = (new std::string(PyUnicode_AsUTF8(doc)))->c_str();
    }
    Py_DECREF(doc);
    *original = fn;  // kept until exit
  }
  PyObject* descr = PyDescr_NewMethod(cls, &def);
  if (descr == nullptr) throw py::error_already_set();
  const int rc = PyObject_SetAttrString(reinterpret_cast<PyObject*>(cls), def.ml_name, descr);
  Py_DECREF(descr);
  if (rc != 0) throw py::error_already_set();
}

PyMethodDef g_set_add_def = {
    "add", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&SetAddMethod)),
    METH_FASTCALL | METH_KEYWORDS, nullptr};
PyMethodDef g_dict_get_def = {
    "get", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&DictGetMethod)),
    METH_FASTCALL | METH_KEYWORDS, nullptr};

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
  InstallMethod(st, g_set_add_def, &g_set_add);
  InstallMethod(dt, g_dict_get_def, &g_dict_get);
  PyType_Modified(lt);
  PyType_Modified(dt);
  PyType_Modified(st);
}

}  // namespace pagefs::py_binding
