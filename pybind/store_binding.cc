// pagefs._core.Store: one open ROOT/PREFIX. The Python class pagefs.Store
// wraps it; lists and the root map keep it alive through shared_ptr.
#include "pager/tier/remote/s3_client.h"
#include "pager/tier/remote/s3_config.h"
#include "pybind/binding.h"

namespace pagefs::py_binding {

RootMap& StoreHandle::root_map() {
  // The root map keeps a Heap& of the store: do not let it touch a closed one.
  store->CheckOpen();
  std::call_once(root_once, [this] { root = std::make_unique<RootMap>(store->heap()); });
  return *root;
}

namespace {

std::shared_ptr<StoreHandle> OpenStore(const std::string& root, const std::string& prefix,
                                       const py::object& cache_size, bool read_only,
                                       uint32_t page_size, const std::string& remote,
                                       const py::object& local_cache_size) {
  StoreOptions options;
  if (!cache_size.is_none()) {
    options.cache_size = cache_size.cast<uint64_t>();
    // Through a mount the budget is the daemon's; this process keeps a share.
    if (!IsPagefsMount(root)) CheckCacheSize(options.cache_size);
  }
  options.read_only = read_only;
  if (page_size != 0) options.page_size = page_size;
  options.remote = remote;
  if (!local_cache_size.is_none()) options.local_cache_size = local_cache_size.cast<uint64_t>();
  auto handle = std::make_shared<StoreHandle>();
  {
    py::gil_scoped_release release;
    handle->store = Store::Open(root, prefix, options);
  }
  return handle;
}

py::dict Stats(StoreHandle& h) {
  StoreStats s;
  {
    py::gil_scoped_release release;
    s = h.store->stats();
  }
  py::dict d;
  d["root"] = h.store->root();
  d["prefix"] = h.store->prefix();
  d["budget"] = s.cache_budget;
  d["resident_bytes"] = s.resident_bytes;
  d["hits"] = s.hits;
  d["misses"] = s.misses;
  d["evictions"] = s.evictions;
  d["dirty_pages"] = s.dirty_pages;
  d["pinned_pages"] = s.pinned_pages;
  d["pages"] = s.pages;
  d["bytes_on_disk"] = s.bytes_on_disk;
  d["tier_reads"] = s.tier_reads;
  d["tier_writes"] = s.tier_writes;
  d["epoch"] = s.epoch;
  d["page_size"] = s.page_size;
  d["readers"] = s.readers;
  d["oldest_reader_epoch"] =
      s.has_oldest_reader ? py::object(py::int_(s.oldest_reader_epoch)) : py::object(py::none());
  d["held_slots"] = s.held_slots;
  if (s.remote) {
    auto ratio = [](uint64_t hits, uint64_t misses) -> py::object {
      if (hits + misses == 0) return py::none();
      return py::float_(static_cast<double>(hits) / static_cast<double>(hits + misses));
    };
    py::dict memory, local, remote;
    memory["budget"] = s.cache_budget;
    memory["resident_bytes"] = s.resident_bytes;
    memory["page_bytes"] = s.page_bytes;
    memory["index_bytes"] = s.remote_index_bytes;
    memory["hits"] = s.hits;
    memory["misses"] = s.misses;
    memory["hit_ratio"] = ratio(s.hits, s.misses);
    local["capacity"] = s.local_capacity;
    local["bytes"] = s.local_bytes;
    local["pending_bytes"] = s.pending_bytes;
    local["hits"] = s.local_hits;
    local["misses"] = s.local_misses;
    local["hit_ratio"] = ratio(s.local_hits, s.local_misses);
    local["evictions"] = s.local_evictions;
    local["bad_blocks"] = s.local_bad_blocks;
    local["readahead_frames"] = s.readahead_frames;
    local["readahead_hits"] = s.readahead_hits;
    local["readahead_unused"] = s.readahead_unused;
    remote["url"] = h.store->remote();
    remote["gets"] = s.remote_gets;
    remote["puts"] = s.remote_puts;
    remote["heads"] = s.remote_heads;
    remote["lists"] = s.remote_lists;
    remote["retries"] = s.remote_retries;
    remote["bytes_received"] = s.remote_bytes_received;
    remote["bytes_sent"] = s.remote_bytes_sent;
    remote["bytes_stored"] = s.remote_bytes_stored;
    py::dict tiers;
    tiers["memory"] = memory;
    tiers["local"] = local;
    tiers["remote"] = remote;
    d["tiers"] = tiers;
  }
  return d;
}

void CheckName(const py::handle& name) {
  if (!PyUnicode_Check(name.ptr())) {
    throw py::type_error(std::string("root names must be str, not '") +
                         Py_TYPE(name.ptr())->tp_name + "'");
  }
}

}  // namespace

void BindStore(py::module_& m) {
  m.def(
      "_create_bucket",
      [](const std::string& url) {
        py::gil_scoped_release release;
        RetryPolicy once{1, std::chrono::milliseconds(1), std::chrono::milliseconds(1)};
        S3Client::Connect(S3ConfigFor(url), once)->CreateBucket();
      },
      py::arg("url"),
      "Create the bucket of s3://BUCKET[/PREFIX] with the AWS settings of the environment (one "
      "attempt; an existing bucket of ours is fine). For tests and first use.");
  py::class_<StoreHandle, std::shared_ptr<StoreHandle>>(
      m, "Store", "An open ROOT/PREFIX (use pagefs.Store, which wraps this).")
      .def(py::init(&OpenStore), py::arg("root"), py::arg("prefix"),
           py::arg("cache_size") = py::none(), py::arg("read_only") = false,
           py::arg("page_size") = 0, py::arg("remote") = "",
           py::arg("local_cache_size") = py::none())
      .def("commit",
           [](StoreHandle& h) {
             py::gil_scoped_release release;
             h.store->Commit();
           })
      .def("refresh",
           [](StoreHandle& h) {
             py::gil_scoped_release release;
             h.store->Refresh();
           })
      .def("close",
           [](StoreHandle& h) {
             py::gil_scoped_release release;
             h.store->Close();
           })
      .def_property_readonly("closed", [](StoreHandle& h) { return h.store->closed(); })
      .def("_check_open", [](StoreHandle& h) { h.store->CheckOpen(); })
      .def_property_readonly("root", [](StoreHandle& h) { return h.store->root(); })
      .def_property_readonly("prefix", [](StoreHandle& h) { return h.store->prefix(); })
      .def_property_readonly("read_only", [](StoreHandle& h) { return h.store->read_only(); })
      .def("set_cache_size",
           [](StoreHandle& h, uint64_t bytes) {
             if (!h.store->mounted()) CheckCacheSize(bytes);
             py::gil_scoped_release release;
             h.store->set_cache_size(bytes);
           })
      .def("get_cache_size",
           [](StoreHandle& h) {
             py::gil_scoped_release release;
             return h.store->cache_size();
           })
      .def("stats", &Stats)
      .def("gc", &StoreGc, py::arg("dry_run") = false, py::arg("compact") = false,
           py::arg("min_age") = 0.0, py::arg("retention") = 3600.0,
           py::arg("progress") = py::none(),
           "The garbage step run by this writer on its own remote store; the report as a dict.")
      .def("_root_get",
           [](const std::shared_ptr<StoreHandle>& h, py::handle name) -> py::object {
             CheckName(name);
             const std::string key = name.cast<std::string>();
             // A list bound only under this name stays alive (its handle is
             // opened under the root map's lock) if another thread rebinds it.
             Visited got(h->store->heap());
             bool found = false;
             {
               py::gil_scoped_release release;
               found = h->root_map().Get(key, [&got](std::string_view v) { got.Add(v); });
             }
             if (!found)
               return py::reinterpret_steal<py::object>(PyTuple_Pack(2, Py_False, Py_None));
             return py::make_tuple(true, DecodeValue(got.value(0), h, got.refs));
           })
      .def("_root_set",
           [](StoreHandle& h, py::handle name, py::handle value) {
             CheckName(name);
             const std::string key = name.cast<std::string>();
             std::string encoded;
             EncodeValue(value.ptr(), h, encoded);
             py::gil_scoped_release release;
             h.root_map().Set(key, encoded);
           })
      .def("_root_del",
           [](StoreHandle& h, py::handle name) {
             CheckName(name);
             const std::string key = name.cast<std::string>();
             py::gil_scoped_release release;
             return h.root_map().Erase(key);
           })
      .def("_root_keys",
           [](StoreHandle& h) {
             std::vector<std::string> keys;
             {
               py::gil_scoped_release release;
               keys = h.root_map().Keys();
             }
             py::list out;
             for (const std::string& k : keys) {
               out.append(py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(
                   k.data(), static_cast<Py_ssize_t>(k.size()), "surrogatepass")));
             }
             return out;
           })
      .def("_root_len", [](StoreHandle& h) {
        py::gil_scoped_release release;
        return h.root_map().size();
      });
}

}  // namespace pagefs::py_binding
