#include "engine/http/curl_handle.hpp"

#include <mutex>
#include <string>

#include "engine/core/error.hpp"

namespace artistsaid::http {

void ensure_curl_initialised() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw Error(ErrorCode::kInternal, "curl_global_init failed");
    });
}

CurlEasy make_curl_easy() {
    ensure_curl_initialised();
    CurlEasy h(curl_easy_init());
    if (!h) throw Error(ErrorCode::kInternal, "curl_easy_init failed");
    return h;
}

void slist_append(CurlSlist& list, const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (next == nullptr) throw Error(ErrorCode::kInternal, "curl_slist_append failed");
    (void)list.release();
    list.reset(next);
}

}  // namespace artistsaid::http
