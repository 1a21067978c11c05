// The two system libraries only the object-store tier needs, libcurl (HTTP,
// SigV4) and libcrypto (SHA-256 and MD5 of bodies), loaded with dlopen the
// first time a store uses a remote. Linking them would load about thirty
// shared objects (TLS, Kerberos, LDAP, ...) into every process that imports
// pagefs, 15 ms and 6 MiB before any store is opened, for a tier most stores
// never use. The pointers' types come from the libraries' own headers, so a
// call through them is checked as a direct call would be.
#pragma once

#include <curl/curl.h>
#include <openssl/evp.h>

namespace pagefs {

struct CurlApi {
  decltype(&curl_global_init) global_init;
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_reset) easy_reset;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_perform) easy_perform;
  decltype(&curl_easy_getinfo) easy_getinfo;
  decltype(&curl_easy_strerror) easy_strerror;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
};

struct CryptoApi {
  decltype(&EVP_Digest) digest;
  decltype(&EVP_sha256) sha256;
  decltype(&EVP_md5) md5;
};

// Loaded once per process (curl_global_init run once too); throws Error
// (kNotFound) naming the library and what dlopen said when it is missing.
const CurlApi& Curl();
const CryptoApi& Crypto();

}  // namespace pagefs
