// PyObject <-> the engine's value encoding (pager/values/value_format.h).
// Stored types: None, bool, int (any size), float (bit-exact), str (any code
// points, UTF-8 with surrogatepass), bytes, tuples of stored values, and
// pagefs lists, dicts and sets of the same store. Subclasses of int/float/str/bytes are stored as
// the base type. Anything else is a TypeError naming the type; nothing is pickled.
#include <cstring>
#include <stdexcept>
#include <string>

#include "pager/values/value_format.h"
#include "pybind/binding.h"

namespace pagefs::py_binding {
namespace {

py::object* g_list_class = nullptr;   // pagefs.List, set once, lives until exit
py::object* g_dict_class = nullptr;   // pagefs.Dict
py::object* g_set_class = nullptr;    // pagefs.Set
py::object* g_tuple_class = nullptr;  // pagefs.Tuple

[[noreturn]] void ThrowPythonError() { throw py::error_already_set(); }

// Drops redundant sign bytes so the encoding is minimal, as
// int.to_bytes(length=(x.bit_length() + 8) // 8 or so, signed=True) would be.
void TrimTwosComplement(std::string& le) {
  while (le.size() > 1) {
    const uint8_t top = static_cast<uint8_t>(le.back());
    const uint8_t next = static_cast<uint8_t>(le[le.size() - 2]);
    if ((top == 0x00 && (next & 0x80) == 0) || (top == 0xFF && (next & 0x80) != 0)) {
      le.pop_back();
    } else {
      break;
    }
  }
}

void EncodeBigIntObject(PyObject* obj, std::string& out) {
  std::string le;
#if PY_VERSION_HEX >= 0x030D0000
  const Py_ssize_t need = PyLong_AsNativeBytes(obj, nullptr, 0, Py_ASNATIVEBYTES_LITTLE_ENDIAN);
  if (need < 0) ThrowPythonError();
  le.resize(static_cast<size_t>(need));
  if (PyLong_AsNativeBytes(obj, le.data(), need, Py_ASNATIVEBYTES_LITTLE_ENDIAN) < 0)
    ThrowPythonError();
#else
  const size_t bits = _PyLong_NumBits(obj);
  if (bits == static_cast<size_t>(-1) && PyErr_Occurred()) ThrowPythonError();
  le.resize(bits / 8 + 1);
  if (_PyLong_AsByteArray(reinterpret_cast<PyLongObject*>(obj),
                          reinterpret_cast<unsigned char*>(le.data()), le.size(), 1, 1) < 0) {
    ThrowPythonError();
  }
#endif
  TrimTwosComplement(le);
  EncodeBigInt(out, le);
}

PyObject* DecodeBigInt(std::string_view le) {
#if PY_VERSION_HEX >= 0x030D0000
  return PyLong_FromNativeBytes(le.data(), le.size(), Py_ASNATIVEBYTES_LITTLE_ENDIAN);
#else
  return _PyLong_FromByteArray(reinterpret_cast<const unsigned char*>(le.data()), le.size(), 1, 1);
#endif
}

// The commonest value, an exact ASCII str, holds its UTF-8 bytes itself: no
// call into Python and no cached UTF-8 copy. False for every other object.
inline bool EncodeAsciiStr(PyObject* obj, std::string& out) {
  if (Py_TYPE(obj) != &PyUnicode_Type || !PyUnicode_IS_COMPACT_ASCII(obj)) return false;
  EncodeStr(out, std::string_view(static_cast<const char*>(PyUnicode_DATA(obj)),
                                  static_cast<size_t>(PyUnicode_GET_LENGTH(obj))));
  return true;
}

void EncodeUnicode(PyObject* obj, std::string& out) {
  Py_ssize_t n = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(obj, &n);
  if (utf8 != nullptr) {
    EncodeStr(out, std::string_view(utf8, static_cast<size_t>(n)));
    return;
  }
  // Lone surrogates have no UTF-8 form; store them as Python's
  // "surrogatepass" does, so they round trip.
  PyErr_Clear();
  PyObject* bytes = PyUnicode_AsEncodedString(obj, "utf-8", "surrogatepass");
  if (bytes == nullptr) ThrowPythonError();
  EncodeStr(out, std::string_view(PyBytes_AS_STRING(bytes),
                                  static_cast<size_t>(PyBytes_GET_SIZE(bytes))));
  Py_DECREF(bytes);
}

[[noreturn]] void ThrowUnsupported(PyObject* obj) {
  std::string name = Py_TYPE(obj)->tp_name;
  std::string msg = "pagefs cannot store values of type '" + name + "'";
  if (PyList_Check(obj)) msg += " (store a pagefs list instead: pagefs.list(value))";
  throw py::type_error(msg);
}

[[noreturn]] void ThrowOtherStore(const StoreHandle& source, const StoreHandle& target,
                                  const char* what) {
  throw py::value_error(
      std::string("cannot store a pagefs ") + what + " of store '" + source.store->root() +
      "' prefix '" + source.store->prefix() + "' in store '" + target.store->root() + "' prefix '" +
      target.store->prefix() + "': copy it with ." + what + "(...) of the target store");
}

// A tuple's elements, each encoded by encode_one, then the tuple around them.
template <typename Fn>
void EncodeTupleOf(PyObject* obj, std::string& out, Fn&& encode_one) {
  const Py_ssize_t n = PyTuple_GET_SIZE(obj);
  std::string elements;
  for (Py_ssize_t k = 0; k < n; ++k) encode_one(PyTuple_GET_ITEM(obj, k), elements);
  EncodeTuple(out, static_cast<uint64_t>(n), elements);
}

// Encodes the scalar types every value and key may be; false for others.
bool EncodeScalar(PyObject* obj, std::string& out) {
  PyTypeObject* type = Py_TYPE(obj);
  if (type == &PyUnicode_Type) {
    EncodeUnicode(obj, out);
    return true;
  }
  if (type == &PyLong_Type || (PyLong_Check(obj) && type != &PyBool_Type)) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow != 0) {
      EncodeBigIntObject(obj, out);
      return true;
    }
    if (v == -1 && PyErr_Occurred()) ThrowPythonError();
    EncodeInt(out, v);
    return true;
  }
  if (obj == Py_None) {
    EncodeNone(out);
    return true;
  }
  if (type == &PyBool_Type) {
    EncodeBool(out, obj == Py_True);
    return true;
  }
  if (PyFloat_Check(obj)) {
    EncodeFloat(out, PyFloat_AS_DOUBLE(obj));
    return true;
  }
  if (PyUnicode_Check(obj)) {
    EncodeUnicode(obj, out);
    return true;
  }
  if (PyBytes_Check(obj)) {
    EncodeBytes(
        out, std::string_view(PyBytes_AS_STRING(obj), static_cast<size_t>(PyBytes_GET_SIZE(obj))));
    return true;
  }
  return false;
}

// A key after hash(obj) succeeded: false for a type no stored key has.
bool EncodeHashedKey(PyObject* obj, std::string& out) {
  if (EncodeScalar(obj, out)) return true;
  if (!PyTuple_Check(obj)) return false;
  bool ok = true;
  EncodeTupleOf(obj, out, [&](PyObject* e, std::string& elements) {
    ok = ok && EncodeHashedKey(e, elements);
  });
  return ok;
}

}  // namespace

bool EncodeKey(PyObject* obj, const StoreHandle&, std::string& out, bool lookup) {
  if (EncodeAsciiStr(obj, out)) return true;
  PyTypeObject* type = Py_TYPE(obj);
  // The commonest keys need no hash(): their hash cannot fail.
  if (type == &PyUnicode_Type || type == &PyLong_Type) return EncodeScalar(obj, out);
  if (PyObject_Hash(obj) == -1)
    ThrowPythonError();  // "unhashable type: ..." exactly as dict says it
  const size_t mark = out.size();
  if (EncodeHashedKey(obj, out)) return true;
  out.resize(mark);
  if (lookup) return false;
  ThrowUnsupported(obj);
}

void SetCollectionClasses(py::object dict_cls, py::object set_cls, py::object tuple_cls) {
  if (g_dict_class == nullptr) {
    g_dict_class = new py::object();
    g_set_class = new py::object();
    g_tuple_class = new py::object();
  }
  *g_dict_class = std::move(dict_cls);
  *g_set_class = std::move(set_cls);
  *g_tuple_class = std::move(tuple_cls);
}

void SetListClass(py::object cls) {
  if (g_list_class == nullptr) g_list_class = new py::object();
  *g_list_class = std::move(cls);
}

void EncodeValue(PyObject* obj, const StoreHandle& target, std::string& out) {
  if (EncodeAsciiStr(obj, out) || EncodeScalar(obj, out)) return;
  if (PyTuple_Check(obj)) {
    return EncodeTupleOf(
        obj, out, [&](PyObject* e, std::string& elements) { EncodeValue(e, target, elements); });
  }
  if (py::isinstance<ListHandle>(obj)) {
    const ListHandle& h = py::handle(obj).cast<const ListHandle&>();
    if (h.owner->store.get() != target.store.get()) ThrowOtherStore(*h.owner, target, "list");
    return EncodeRef(out, CollectionKind::kList, h.list->id());
  }
  if (py::isinstance<DictHandle>(obj)) {
    const DictHandle& h = py::handle(obj).cast<const DictHandle&>();
    if (h.owner->store.get() != target.store.get()) ThrowOtherStore(*h.owner, target, "dict");
    return EncodeRef(out, CollectionKind::kDict, h.table->id());
  }
  if (py::isinstance<SetHandle>(obj)) {
    const SetHandle& h = py::handle(obj).cast<const SetHandle&>();
    if (h.owner->store.get() != target.store.get()) ThrowOtherStore(*h.owner, target, "set");
    return EncodeRef(out, CollectionKind::kSet, h.table->id());
  }
  ThrowUnsupported(obj);
}

uint64_t EncodeAll(PyObject* seq, const StoreHandle& target, std::string& out) {
  PyObject* fast = PySequence_Fast(seq, "expected an iterable");
  if (fast == nullptr) ThrowPythonError();
  const py::object keep = py::reinterpret_steal<py::object>(fast);
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  PyObject** items = PySequence_Fast_ITEMS(fast);
  out.reserve(out.size() + static_cast<size_t>(n) * 12);
  for (Py_ssize_t k = 0; k < n; ++k) {
    if (!EncodeAsciiStr(items[k], out)) EncodeValue(items[k], target, out);
  }
  return static_cast<uint64_t>(n);
}

py::object DecodeValue(std::string_view encoded, const std::shared_ptr<StoreHandle>& owner,
                       ReferencedLists& refs) {
  const ValueView v = Decode(reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size());
  PyObject* r = nullptr;
  switch (v.kind) {
    case ValueView::Kind::kNone: return py::none();
    case ValueView::Kind::kBool: return py::bool_(v.b);
    case ValueView::Kind::kInt: r = PyLong_FromLongLong(v.i); break;
    case ValueView::Kind::kBigInt: r = DecodeBigInt(v.data); break;
    case ValueView::Kind::kFloat: r = PyFloat_FromDouble(v.f); break;
    case ValueView::Kind::kStr:
      r = PyUnicode_DecodeUTF8(v.data.data(), static_cast<Py_ssize_t>(v.data.size()),
                               "surrogatepass");
      break;
    case ValueView::Kind::kBytes:
      r = PyBytes_FromStringAndSize(v.data.data(), static_cast<Py_ssize_t>(v.data.size()));
      break;
    case ValueView::Kind::kTuple: {
      py::tuple items(static_cast<size_t>(v.count));
      const auto* p = reinterpret_cast<const uint8_t*>(v.data.data());
      size_t pos = 0;
      for (uint64_t k = 0; k < v.count; ++k) {
        const size_t len = EncodedSize(p + pos, v.data.size() - pos);
        py::object e = DecodeValue(v.data.substr(pos, len), owner, refs);
        PyTuple_SET_ITEM(items.ptr(), static_cast<Py_ssize_t>(k), e.release().ptr());
        pos += len;
      }
      if (g_tuple_class == nullptr) return items;
      return (*g_tuple_class)(items);
    }
    case ValueView::Kind::kRef: {
      if ((v.ref_kind == CollectionKind::kDict || v.ref_kind == CollectionKind::kSet) &&
          g_dict_class != nullptr) {
        std::shared_ptr<CollectionState> state = refs.AdoptState(v.ref_id);
        if (!state)
          throw std::logic_error(
              "pagefs: a dict or set reference was read without opening its handle");
        auto adopted = std::make_unique<PersistentHash>(owner->store->heap(), v.ref_id, v.ref_kind,
                                                        std::move(state));
        const py::object& cls = v.ref_kind == CollectionKind::kDict ? *g_dict_class : *g_set_class;
        return cls(py::cast(owner), v.ref_id, HashAdoptionToken(std::move(adopted)));
      }
      if (v.ref_kind != CollectionKind::kList || g_list_class == nullptr) {
        throw Error(ErrorCode::kCorruption,
                    "store '" + owner->store->prefix() +
                        "': a stored reference names a collection of unknown kind " +
                        std::to_string(static_cast<int>(v.ref_kind)));
      }
      std::unique_ptr<PersistentList> adopted = refs.Adopt(v.ref_id);
      if (!adopted)
        throw std::logic_error("pagefs: a list reference was read without opening its handle");
      const uint64_t id = adopted->id();
      return (*g_list_class)(py::cast(owner), id, AdoptionToken(std::move(adopted)));
    }
    case ValueView::Kind::kBlobStr:
    case ValueView::Kind::kBlobBytes:
    case ValueView::Kind::kBlobBigInt:
    case ValueView::Kind::kBlobTuple:
    case ValueView::Kind::kAbsent:
      throw Error(ErrorCode::kCorruption, "store '" + owner->store->prefix() +
                                              "': the engine handed back an unresolved blob");
  }
  if (r == nullptr) ThrowPythonError();
  return py::reinterpret_steal<py::object>(r);
}

py::object DecodeOne(VisitedOne& one, const std::shared_ptr<StoreHandle>& owner) {
  if (!one.got) throw std::logic_error("pagefs: no value was read");
  return DecodeValue(one.value, owner, one.refs);
}

py::list DecodeRun(Visited& values, const std::shared_ptr<StoreHandle>& owner) {
  const size_t n = values.run.ends.size();
  py::list out(n);
  for (size_t k = 0; k < n; ++k) {
    py::object v = DecodeValue(values.value(k), owner, values.refs);
    PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(k), v.release().ptr());
  }
  return out;
}

}  // namespace pagefs::py_binding
