// pagefs._core: the compiled half of the pagefs package. See binding.h for
// the rules every binding file follows.
#include "pybind/binding.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "pagefs engine binding (use the pagefs package, not this module)";
  pagefs::py_binding::RegisterErrors(m);
  pagefs::py_binding::BindStore(m);
  pagefs::py_binding::BindList(m);
  pagefs::py_binding::BindHash(m);
  pagefs::py_binding::BindCheck(m);
  m.def("_set_list_class", &pagefs::py_binding::SetListClass,
        "Set the class that stored list references decode to (pagefs.List).");
  m.def("_install_fast_slots", &pagefs::py_binding::InstallFastSlots,
        "Give pagefs.List, Dict and Set C slots for their hottest calls.");
  m.def("_set_collection_classes", &pagefs::py_binding::SetCollectionClasses,
        "Set the classes stored dicts, sets and tuples decode to (pagefs.Dict, pagefs.Set, pagefs.Tuple).");
}
