// The one place where engine errors become Python exceptions. The exception
// classes live in pagefs/_errors.py (so they carry docstrings and can be
// subclassed); the package hands them over with _core._register_errors().
#include <cerrno>

#include "pybind/binding.h"

namespace pagefs::py_binding {
namespace {

// The classes from pagefs._errors, kept for the life of the process.
struct ErrorClasses {
  py::object base, corruption, read_only, closed, locked, budget;
};
ErrorClasses* g_classes = nullptr;

// Raises cls(*args) as the current Python exception. Constructing the
// instance first lets OSError(errno, msg) pick its subclass
// (FileNotFoundError, PermissionError, ...).
void Raise(PyObject* cls, py::tuple args) {
  PyObject* exc = PyObject_Call(cls, args.ptr(), nullptr);
  if (exc == nullptr) return;  // the constructor raised: keep its error
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc)), exc);
  Py_DECREF(exc);
}

PyObject* Or(const py::object& cls, PyObject* fallback) { return cls ? cls.ptr() : fallback; }

void SetPythonError(const Error& e) {
  const py::str msg(e.what());
  const ErrorClasses empty;
  const ErrorClasses& c = g_classes != nullptr ? *g_classes : empty;
  switch (e.code()) {
    case ErrorCode::kIo:
      return Raise(PyExc_OSError, py::make_tuple(e.sys_errno() != 0 ? e.sys_errno() : EIO, msg));
    case ErrorCode::kNoSpace:
      return Raise(PyExc_OSError, py::make_tuple(e.sys_errno() != 0 ? e.sys_errno() : ENOSPC, msg));
    case ErrorCode::kCorruption: return Raise(Or(c.corruption, PyExc_OSError), py::make_tuple(msg));
    case ErrorCode::kInvalidArgument: return Raise(PyExc_ValueError, py::make_tuple(msg));
    case ErrorCode::kOutOfRange: return Raise(PyExc_IndexError, py::make_tuple(msg));
    case ErrorCode::kTooLarge: return Raise(PyExc_OverflowError, py::make_tuple(msg));
    case ErrorCode::kNotFound: return Raise(PyExc_FileNotFoundError, py::make_tuple(ENOENT, msg));
    case ErrorCode::kExists: return Raise(PyExc_FileExistsError, py::make_tuple(EEXIST, msg));
    case ErrorCode::kReadOnly:
      return Raise(Or(c.read_only, PyExc_PermissionError), py::make_tuple(msg));
    case ErrorCode::kNotAllowed: return Raise(PyExc_PermissionError, py::make_tuple(msg));
    case ErrorCode::kClosed: return Raise(Or(c.closed, PyExc_ValueError), py::make_tuple(msg));
    case ErrorCode::kBusy:
      return Raise(Or(c.locked, PyExc_BlockingIOError), py::make_tuple(EWOULDBLOCK, msg));
    case ErrorCode::kBudget: return Raise(Or(c.budget, PyExc_MemoryError), py::make_tuple(msg));
    case ErrorCode::kFailed: return Raise(Or(c.base, PyExc_RuntimeError), py::make_tuple(msg));
    case ErrorCode::kStale:
      return Raise(PyExc_OSError, py::make_tuple(e.sys_errno() != 0 ? e.sys_errno() : ESTALE, msg));
  }
  Raise(Or(c.base, PyExc_RuntimeError), py::make_tuple(msg));
}

}  // namespace

void RegisterErrors(py::module_& m) {
  // By value: pybind11 takes a void(*)(std::exception_ptr).
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      SetPythonError(e);
    }
  });
  m.def(
      "_register_errors",
      [](const py::object& errors) {
        if (g_classes == nullptr) g_classes = new ErrorClasses();  // lives until exit
        g_classes->base = errors.attr("Error");
        g_classes->corruption = errors.attr("CorruptionError");
        g_classes->read_only = errors.attr("ReadOnlyError");
        g_classes->closed = errors.attr("ClosedError");
        g_classes->locked = errors.attr("LockedError");
        g_classes->budget = errors.attr("BudgetError");
      },
      "Hand the exception classes of pagefs._errors to the extension (called once by the "
      "package).");
  m.def(
      "_error_codes",
      [] {
        py::list names;
        for (ErrorCode code : kAllErrorCodes) names.append(ErrorCodeName(code));
        return names;
      },
      "The names of the engine's error codes (pager/util/error.h), for tests of the mapping.");
  m.def(
      "_raise_error",
      [](const std::string& name, const std::string& message, int sys_errno) {
        for (ErrorCode code : kAllErrorCodes) {
          if (name == ErrorCodeName(code)) throw Error(code, message, sys_errno);
        }
        throw py::value_error("no error code named '" + name + "'");
      },
      py::arg("code"), py::arg("message"), py::arg("sys_errno") = 0,
      "Raise what an engine Error(code, message, sys_errno) becomes, for tests of the mapping.");
}

}  // namespace pagefs::py_binding
