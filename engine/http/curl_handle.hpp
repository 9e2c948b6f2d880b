// RAII ownership of libcurl's C handles, and libcurl's one-time global initialisation.
// Used by the HTTP client and by plugins that speak other protocols through libcurl (SMTP).
#pragma once

#include <curl/curl.h>

#include <memory>

namespace artistsaid::http {

/// Calls curl_global_init once per process (thread-safe); every handle maker calls it.
void ensure_curl_initialised();

struct CurlEasyDeleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct CurlSlistDeleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
struct CurlShareDeleter {
    void operator()(CURLSH* h) const noexcept { curl_share_cleanup(h); }
};
struct CurlMimeDeleter {
    void operator()(curl_mime* m) const noexcept { curl_mime_free(m); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using CurlShare = std::unique_ptr<CURLSH, CurlShareDeleter>;

/// A new easy handle; throws Error(kInternal) if libcurl cannot allocate one.
CurlEasy make_curl_easy();

/// Appends to a header/recipient list, keeping ownership in `list`.
void slist_append(CurlSlist& list, const std::string& line);

}  // namespace artistsaid::http
