#include "engine/http/outbound_client.hpp"

#include <curl/curl.h>

#include <memory>

#include "engine/core/error.hpp"

namespace artistsaid::http {
namespace {

constexpr std::size_t kMaxResponse = 1024 * 1024;

struct CurlFree {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
    auto* out = static_cast<std::string*>(user);
    if (out->size() + size * count > kMaxResponse) return 0;  // aborts the transfer
    out->append(data, size * count);
    return size * count;
}

std::string host_of(const std::string& url) {
    auto start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    auto end = url.find('/', start);
    return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

[[noreturn]] void throw_from_curl(CURLcode code, const std::string& url) {
    throw UnavailableError("calling " + host_of(url) + " failed: " + curl_easy_strerror(code));
}

}  // namespace

OutboundResponse OutboundClient::post(const std::string& url,
                                      const std::vector<std::string>& headers,
                                      const std::string& body,
                                      const std::string& basic_auth) const {
    static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    (void)initialised;
    std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
    if (!curl) throw Error(ErrorCode::kInternal, "curl_easy_init failed");
    std::unique_ptr<curl_slist, SlistFree> list;
    for (const auto& h : headers) {
        curl_slist* next = curl_slist_append(list.get(), h.c_str());
        if (next == nullptr) throw Error(ErrorCode::kInternal, "curl_slist_append failed");
        (void)list.release();
        list.reset(next);
    }
    OutboundResponse response;
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
    if (!basic_auth.empty()) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, basic_auth.c_str());
    }
    CURLcode code = curl_easy_perform(c);
    if (code != CURLE_OK) throw_from_curl(code, url);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

}  // namespace artistsaid::http
