// pagefs._core._check_prefix / _find_prefixes: `pagefs check` (pager/checker.h).
// The check runs with the GIL released; the progress callback takes it back
// for the Python function only, and an exception it raises (Ctrl-C) ends the
// check and propagates.
#include <pybind11/stl.h>

#include "pager/checker.h"
#include "pybind/binding.h"

namespace pagefs::py_binding {
namespace {

py::dict ReportDict(const CheckReport& r) {
  py::list problems;
  for (const CheckProblem& p : r.problems) {
    py::dict d;
    d["kind"] = p.kind;
    d["page"] = p.page == kNoPage ? py::object(py::none()) : py::object(py::int_(p.page));
    d["collection"] =
        p.collection == kNoPage ? py::object(py::none()) : py::object(py::int_(p.collection));
    d["message"] = p.message;
    problems.append(d);
  }
  py::list notes;
  for (const std::string& n : r.notes) notes.append(n);
  py::dict d;
  d["prefix"] = r.prefix;
  d["ok"] = r.ok();
  d["epoch"] = r.epoch;
  d["page_size"] = r.page_size;
  d["page_count"] = r.page_count;
  d["table_nodes"] = r.table_nodes;
  d["pages"] = r.pages;
  d["pages_reached"] = r.pages_reached;
  d["pages_lost"] = r.pages_lost;
  d["lists"] = r.lists;
  auto count = [&](const char* kind) {
    auto it = r.collections_by_kind.find(kind);
    return it == r.collections_by_kind.end() ? uint64_t{0} : it->second;
  };
  d["dicts"] = count("dict");
  d["sets"] = count("set");
  d["root_map"] = r.root_map;
  d["root_names"] = r.root_names;
  d["values"] = r.values;
  d["orphans"] = r.orphans;
  d["cycle_collections"] = r.cycle_collections;
  d["cycle_pages"] = r.cycle_pages;
  d["problems"] = problems;
  d["problems_omitted"] = r.problems_omitted;
  d["notes"] = notes;
  return d;
}

py::dict CheckPrefixPy(const std::string& root, const std::string& prefix, py::object progress,
                       uint64_t cache_size, size_t max_problems, const std::string& remote) {
  CheckOptions options;
  options.cache_size = cache_size;
  options.max_problems = max_problems;
  options.remote = remote;
  CheckProgressFn fn;
  if (!progress.is_none()) {
    fn = [&progress](const CheckProgress& p) {
      py::gil_scoped_acquire gil;
      progress(p.phase, p.done, p.total);
    };
  }
  CheckReport report;
  {
    py::gil_scoped_release release;
    report = CheckPrefix(root, prefix, options, fn);
  }
  return ReportDict(report);
}

std::vector<std::string> FindPrefixesPy(const std::string& root) {
  py::gil_scoped_release release;
  return FindPrefixes(root);
}

}  // namespace

void BindCheck(py::module_& m) {
  m.def("_check_prefix", &CheckPrefixPy, py::arg("root"), py::arg("prefix"),
        py::arg("progress") = py::none(), py::arg("cache_size") = CheckOptions{}.cache_size,
        py::arg("max_problems") = CheckOptions{}.max_problems, py::arg("remote") = "",
        "Checks ROOT/PREFIX read-only (remote: the store in that bucket, ROOT its local cache); "
        "returns the report as a dict (pager/checker.h).");
  m.def("_find_prefixes", &FindPrefixesPy, py::arg("root"), "The prefixes of ROOT, sorted.");
}

}  // namespace pagefs::py_binding
