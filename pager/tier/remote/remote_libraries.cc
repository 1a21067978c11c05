#include "pager/tier/remote/remote_libraries.h"

#include <dlfcn.h>

#include <string>

#include "pager/util/error.h"

namespace pagefs {

namespace {

// The sonames of the ABIs the headers describe (libcurl 7+, OpenSSL 3).
constexpr const char* kCurlSoname = "libcurl.so.4";
constexpr const char* kCryptoSoname = "libcrypto.so.3";

class Library {
 public:
  explicit Library(const char* soname) : soname_(soname) {
    // Never closed: handles and callbacks may outlive any owner we could name.
    handle_ = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* why = dlerror();
      throw Error(ErrorCode::kNotFound,
                  std::string("remote stores need ") + soname +
                      ", which could not be loaded: " + (why != nullptr ? why : "unknown reason"));
    }
  }

  template <typename Fn>
  void Bind(Fn* fn, const char* symbol) {
    void* p = dlsym(handle_, symbol);
    if (p == nullptr)
      throw Error(ErrorCode::kNotFound,
                  std::string(soname_) + " has no " + symbol + ": it is older than pagefs needs");
    *fn = reinterpret_cast<Fn>(p);
  }

 private:
  const char* soname_;
  void* handle_;
};

CurlApi LoadCurl() {
  Library lib(kCurlSoname);
  CurlApi api{};
  lib.Bind(&api.global_init, "curl_global_init");
  lib.Bind(&api.easy_init, "curl_easy_init");
  lib.Bind(&api.easy_reset, "curl_easy_reset");
  lib.Bind(&api.easy_setopt, "curl_easy_setopt");
  lib.Bind(&api.easy_perform, "curl_easy_perform");
  lib.Bind(&api.easy_getinfo, "curl_easy_getinfo");
  lib.Bind(&api.easy_strerror, "curl_easy_strerror");
  lib.Bind(&api.easy_cleanup, "curl_easy_cleanup");
  lib.Bind(&api.slist_append, "curl_slist_append");
  lib.Bind(&api.slist_free_all, "curl_slist_free_all");
  // Not thread-safe, so here, inside the one-time initialization.
  api.global_init(CURL_GLOBAL_DEFAULT);
  return api;
}

CryptoApi LoadCrypto() {
  Library lib(kCryptoSoname);
  CryptoApi api{};
  lib.Bind(&api.digest, "EVP_Digest");
  lib.Bind(&api.sha256, "EVP_sha256");
  lib.Bind(&api.md5, "EVP_md5");
  return api;
}

}  // namespace

const CurlApi& Curl() {
  static const CurlApi api = LoadCurl();  // a throw leaves it to the next call
  return api;
}

const CryptoApi& Crypto() {
  static const CryptoApi api = LoadCrypto();
  return api;
}

}  // namespace pagefs
