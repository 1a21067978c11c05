// pagefs._core._RawS3Client: the engine's own S3 client, bare, for
// scripts/bench_remote.py (the raw PUT/GET throughput that pagefs's
// upload and scan are measured against, over the same HTTP stack) and for
// tests that look at a bucket behind pagefs's back (list, delete). Not API:
// no framing, nothing of the store's format.
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "pager/tier/remote/s3_client.h"
#include "pager/tier/remote/s3_config.h"
#include "pybind/binding.h"

namespace pagefs::py_binding {

namespace py = pybind11;

void BindRawS3(py::module_& m) {
  py::class_<S3Client>(m, "_RawS3Client",
                       "For benchmarks only: PUT and GET of whole objects through the engine's S3 "
                       "client, with the AWS settings of the environment.")
      .def(py::init([](const std::string& url) {
             py::gil_scoped_release release;
             return S3Client::Connect(S3ConfigFor(url));  // the store's default retries
           }),
           py::arg("url"))
      .def(
          "put",
          [](S3Client& c, const std::string& name, const py::bytes& body) {
            std::string_view view = body;
            py::gil_scoped_release release;
            c.Put(name, view);
          },
          py::arg("name"), py::arg("body"))
      .def(
          "get",
          [](S3Client& c, const std::string& name) {
            std::string out;
            {
              py::gil_scoped_release release;
              out = c.Get(name);
            }
            return py::bytes(out);
          },
          py::arg("name"))
      .def(
          "list",
          [](S3Client& c, const std::string& name_prefix) {
            std::vector<ObjectInfo> objects;
            {
              py::gil_scoped_release release;
              objects = c.List(name_prefix);
            }
            std::vector<std::tuple<std::string, uint64_t>> out;
            out.reserve(objects.size());
            for (const ObjectInfo& o : objects) out.emplace_back(o.name, o.size);
            return out;
          },
          py::arg("name_prefix") = "", "(name, size) of every object whose name starts so")
      .def(
          "delete",
          [](S3Client& c, const std::string& name) {
            py::gil_scoped_release release;
            c.Delete(name);
          },
          py::arg("name"));
}

}  // namespace pagefs::py_binding
