#include "engine/http/http_client.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <strings.h>

#include "engine/http/curl_error.hpp"
#include "engine/http/curl_handle.hpp"

namespace artistsaid::http {

struct HttpClient::Shared {
    CurlShare share;
    std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
    std::string no_proxy;
    std::atomic<long> connections{0};

    static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
        static_cast<Shared*>(self)->locks[static_cast<std::size_t>(data)].lock();
    }
    static void unlock(CURL*, curl_lock_data data, void* self) {
        static_cast<Shared*>(self)->locks[static_cast<std::size_t>(data)].unlock();
    }
};

namespace {

// Per-transfer state the callbacks write into.
struct Transfer {
    HttpResponse* response;
    std::size_t limit;
    bool body_limit_hit = false;
    const std::atomic<bool>* cancel = nullptr;
    bool cancelled = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    if (t->response->body.size() + n > t->limit) {
        t->body_limit_hit = true;
        return 0;  // makes curl fail with CURLE_WRITE_ERROR
    }
    t->response->body.append(data, n);
    return n;
}

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
        t->response->headers.clear();  // a new response (redirect, 100 Continue) begins
        return n;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return n;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    t->response->headers.emplace_back(trim(name), trim(line.substr(colon + 1)));
    return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    if (t->cancel != nullptr && t->cancel->load(std::memory_order_relaxed)) {
        t->cancelled = true;
        return 1;
    }
    return 0;
}

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
}

template <typename T>
void set(CURL* h, CURLoption option, T value) {
    if (curl_easy_setopt(h, option, value) != CURLE_OK)
        throw Error(ErrorCode::kInternal, "curl_easy_setopt failed (option " +
                                              std::to_string(static_cast<int>(option)) + ")");
}

}  // namespace

HttpClient::HttpClient() : shared_(std::make_unique<Shared>()) {
    ensure_curl_initialised();
    shared_->share.reset(curl_share_init());
    if (!shared_->share) throw Error(ErrorCode::kInternal, "curl_share_init failed");
    CURLSH* sh = shared_->share.get();
    curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, &Shared::lock);
    curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, &Shared::unlock);
    curl_share_setopt(sh, CURLSHOPT_USERDATA, shared_.get());
    curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK)
        throw Error(ErrorCode::kInternal, "this libcurl cannot share its connection cache");
    // Proxies come from the environment as curl reads them (http_proxy, https_proxy,
    // no_proxy); loopback is always reached directly.
    std::string no_proxy = env_or_empty("no_proxy");
    if (no_proxy.empty()) no_proxy = env_or_empty("NO_PROXY");
    if (no_proxy != "*") {
        if (!no_proxy.empty()) no_proxy += ",";
        no_proxy += "localhost,127.0.0.1,::1";
    }
    shared_->no_proxy = no_proxy;
}

HttpClient::~HttpClient() = default;

HttpClient& HttpClient::shared() {
    static HttpClient client;
    return client;
}

long HttpClient::connections_opened() const noexcept { return shared_->connections.load(); }

HttpResponse HttpClient::send(const HttpRequest& request) const {
    const std::string what = request.describe();
    using namespace std::chrono;
    milliseconds total = request.timeout;
    if (request.deadline) {
        auto left = duration_cast<milliseconds>(*request.deadline - system_clock::now());
        total = std::min(total, left);
    }
    if (total <= milliseconds(0))
        throw TransportError(what + ": the deadline passed before the request was sent",
                             TransportError::Outcome::kNotSent, CURLE_OPERATION_TIMEDOUT, true);

    HttpResponse response;
    Transfer transfer{&response, request.max_response_bytes};
    transfer.cancel = request.cancel;
    CurlEasy easy = make_curl_easy();
    CURL* h = easy.get();
    char error_text[CURL_ERROR_SIZE] = {0};

    set(h, CURLOPT_SHARE, shared_->share.get());
    set(h, CURLOPT_URL, request.url.c_str());
    set(h, CURLOPT_PROTOCOLS_STR, "http,https");
    set(h, CURLOPT_NOSIGNAL, 1L);
    set(h, CURLOPT_ERRORBUFFER, error_text);
    set(h, CURLOPT_SSL_VERIFYPEER, 1L);
    set(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!request.ca_file.empty()) set(h, CURLOPT_CAINFO, request.ca_file.c_str());
    set(h, CURLOPT_NOPROXY, shared_->no_proxy.c_str());
    set(h, CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
    set(h, CURLOPT_CONNECTTIMEOUT_MS,
        static_cast<long>(std::min(request.connect_timeout, total).count()));
    set(h, CURLOPT_USERAGENT, "artistsaid/0.1");
    set(h, CURLOPT_ACCEPT_ENCODING, "");  // decoded bytes count against the body limit
    set(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_response_bytes));
    if (request.follow_redirects) {
        set(h, CURLOPT_FOLLOWLOCATION, 1L);
        set(h, CURLOPT_MAXREDIRS, static_cast<long>(request.max_redirects));
        set(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    set(h, CURLOPT_WRITEFUNCTION, &on_body);
    set(h, CURLOPT_WRITEDATA, &transfer);
    set(h, CURLOPT_HEADERFUNCTION, &on_header);
    set(h, CURLOPT_HEADERDATA, &transfer);
    if (request.cancel != nullptr) {
        set(h, CURLOPT_XFERINFOFUNCTION, &on_progress);
        set(h, CURLOPT_XFERINFODATA, &transfer);
        set(h, CURLOPT_NOPROGRESS, 0L);
    }

    const std::string& m = request.method;
    if (m == "HEAD") {
        set(h, CURLOPT_NOBODY, 1L);
    } else if (m == "POST" || m == "PUT" || m == "PATCH" || !request.body.empty()) {
        set(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        set(h, CURLOPT_POSTFIELDS, request.body.data());
        if (m != "POST") set(h, CURLOPT_CUSTOMREQUEST, m.c_str());
    } else if (m != "GET") {
        set(h, CURLOPT_CUSTOMREQUEST, m.c_str());
    }

    CurlSlist headers;
    bool has_expect = false;
    for (const auto& [name, value] : request.headers) {
        if (name.find_first_of("\r\n:") != std::string::npos ||
            value.find_first_of("\r\n") != std::string::npos)
            throw InputError(what + ": header '" + name.substr(0, 40) +
                             "' contains a line break or a colon in its name");
        // "Name;" is curl's way to send a header with an empty value.
        slist_append(headers, value.empty() ? name + ";" : name + ": " + value);
        if (name.size() == 6 && strncasecmp(name.c_str(), "expect", 6) == 0) has_expect = true;
    }
    if (!has_expect) slist_append(headers, "Expect:");  // no 100-continue round trip
    set(h, CURLOPT_HTTPHEADER, headers.get());

    if (request.credentials) {
        set(h, CURLOPT_USERNAME, request.credentials->first.c_str());
        set(h, CURLOPT_PASSWORD, request.credentials->second.c_str());
        if (request.aws_sigv4.empty()) set(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    }
    if (!request.aws_sigv4.empty()) set(h, CURLOPT_AWS_SIGV4, request.aws_sigv4.c_str());

    CURLcode rc = curl_easy_perform(h);
    long new_connections = 0;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &new_connections);
    shared_->connections.fetch_add(new_connections);
    if (rc != CURLE_OK) {
        long request_size = 0;
        curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_size);
        CurlFailure failure;
        failure.code = rc;
        failure.what = what;
        failure.detail = error_text;
        failure.request_sent = request_size > 0;
        failure.body_limit_hit = transfer.body_limit_hit;
        failure.cancelled = transfer.cancelled;
        throw_from_curl(failure);
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    char* effective = nullptr;
    if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective != nullptr)
        response.effective_url = effective;
    return response;
}

}  // namespace artistsaid::http
