// pagefs._core._gc: `pagefs gc` and pagefs.gc(), the garbage step and
// compaction of a remote store (pager/remote_gc.h). Runs with the GIL
// released; the progress callback takes it back for the Python function only,
// and an exception it raises (Ctrl-C) ends the run and propagates.
#include <pybind11/stl.h>

#include "pager/remote_gc.h"
#include "pybind/binding.h"

namespace pagefs::py_binding {
namespace {

py::dict ReportDict(const GcReport& r) {
  py::dict d;
  d["store"] = r.store;
  d["dry_run"] = r.dry_run;
  d["head_epoch"] = r.head_epoch;
  d["head_commit"] = r.head_commit;
  d["objects"] = r.objects;
  d["bytes"] = r.bytes;
  d["commits_kept"] = r.commits_kept;
  d["segments_kept"] = r.segments_kept;
  d["commits_deleted"] = r.commits_deleted;
  d["segments_deleted"] = r.segments_deleted;
  d["objects_deleted"] = r.objects_deleted;
  d["bytes_deleted"] = r.bytes_deleted;
  d["delete_requests"] = r.delete_requests;
  d["objects_too_young"] = r.objects_too_young;
  d["bytes_too_young"] = r.bytes_too_young;
  d["other_objects"] = r.other_objects;
  d["segments_compacted"] = r.segments_compacted;
  d["bytes_compacted"] = r.bytes_compacted;
  d["segments_written"] = r.segments_written;
  d["bytes_written"] = r.bytes_written;
  d["compaction_commit"] = r.compaction_commit.empty() ? py::object(py::none())
                                                       : py::object(py::str(r.compaction_commit));
  d["notes"] = r.notes;
  return d;
}

std::chrono::seconds Seconds(double s, const char* what) {
  if (!(s >= 0) || s > 1e9) {
    throw Error(ErrorCode::kInvalidArgument,
                std::string(what) + " " + std::to_string(s) + " is not a number of seconds >= 0");
  }
  return std::chrono::seconds(static_cast<int64_t>(s));
}

GcOptions OptionsFrom(bool dry_run, bool compact, double min_age, double retention) {
  GcOptions options;
  options.dry_run = dry_run;
  options.compact = compact;
  options.min_age = Seconds(min_age, "min_age");
  options.retention = Seconds(retention, "retention");
  return options;
}

// Calls progress(phase, done, total) with the GIL; none: no callback.
GcProgressFn ProgressFrom(const py::object& progress) {
  if (progress.is_none()) return {};
  return [&progress](const GcProgress& p) {
    py::gil_scoped_acquire gil;
    progress(p.phase, p.done, p.total);
  };
}

py::dict GcPy(const std::string& remote, const std::string& prefix, bool dry_run, bool compact,
              double min_age, double retention, double compact_below, const py::object& progress) {
  GcOptions options = OptionsFrom(dry_run, compact, min_age, retention);
  options.compact_below = compact_below;
  const GcProgressFn fn = ProgressFrom(progress);
  GcReport report;
  {
    py::gil_scoped_release release;
    report = CollectRemoteGarbage(remote, prefix, options, fn);
  }
  return ReportDict(report);
}

}  // namespace

py::dict StoreGc(StoreHandle& h, bool dry_run, bool compact, double min_age, double retention,
                 const py::object& progress) {
  const GcOptions options = OptionsFrom(dry_run, compact, min_age, retention);
  const GcProgressFn fn = ProgressFrom(progress);
  GcReport report;
  {
    py::gil_scoped_release release;
    report = h.store->CollectGarbage(options, fn);
  }
  return ReportDict(report);
}

void BindGc(py::module_& m) {
  const GcOptions defaults;
  m.def("_gc", &GcPy, py::arg("remote"), py::arg("prefix"), py::arg("dry_run") = false,
        py::arg("compact") = true, py::arg("min_age") = double(defaults.min_age.count()),
        py::arg("retention") = double(defaults.retention.count()),
        py::arg("compact_below") = defaults.compact_below, py::arg("progress") = py::none(),
        "Garbage step and compaction of the remote store REMOTE/PREFIX; returns the report as a "
        "dict (pager/remote_gc.h).");
}

}  // namespace pagefs::py_binding
