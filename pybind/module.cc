// pagefs._core: the compiled half of the pagefs package. See binding.h for
// the rules every binding file follows.
#include "pybind/binding.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "pagefs engine binding (use the pagefs package, not this module)";
  pagefs::py_binding::RegisterErrors(m);
  pagefs::py_binding::BindStore(m);
  pagefs::py_binding::BindList(m);
  pagefs::py_binding::BindCheck(m);
  m.def("_set_list_class", &pagefs::py_binding::SetListClass,
        "Set the class that stored list references decode to (pagefs.List).");
}
