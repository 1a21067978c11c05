// pagefs._core: the compiled half of the pagefs package. See binding.h for
// the rules every binding file follows.
#include "pager/util/size.h"
#include "pybind/binding.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "pagefs engine binding (use the pagefs package, not this module)";
  pagefs::py_binding::RegisterErrors(m);
  pagefs::py_binding::BindStore(m);
  pagefs::py_binding::BindList(m);
  pagefs::py_binding::BindListIterator(m);
  pagefs::py_binding::BindHash(m);
  pagefs::py_binding::BindCheck(m);
  pagefs::py_binding::BindGc(m);
  pagefs::py_binding::BindRawS3(m);
  m.def(
      "parse_size",
      [](const std::string& text, const std::string& what) {
        return pagefs::ParseSize(text, what);
      },
      py::arg("text"), py::arg("what") = "size",
      "Bytes from a size such as '4096', '64M', '64 MiB' or '1.5G' (pager/util/size.h). ValueError "
      "for\n"
      "text outside the grammar or a negative size, OverflowError past 2**64 - 1; what names it.");
  m.def("_set_list_class", &pagefs::py_binding::SetListClass,
        "Set the class that stored list references decode to (pagefs.List).");
  m.def("_install_fast_slots", &pagefs::py_binding::InstallFastSlots,
        "Give pagefs.List, Dict and Set C slots for their hottest calls.");
  m.def("_set_collection_classes", &pagefs::py_binding::SetCollectionClasses,
        "Set the classes stored dicts, sets and tuples decode to (pagefs.Dict, pagefs.Set, "
        "pagefs.Tuple).");
}
