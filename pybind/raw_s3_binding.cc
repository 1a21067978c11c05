// pagefs._core._RawS3Client: the engine's own S3 client, bare, for
// scripts/bench_remote.py only (the raw PUT/GET throughput that pagefs's
// upload and scan are measured against, over the same HTTP stack). Not API:
// no framing, nothing of the store's format.
#include <memory>
#include <string>

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
          py::arg("name"));
}

}  // namespace pagefs::py_binding
