#include "plugins/http/http_request_step.hpp"

#include <set>

#include "engine/core/error.hpp"
#include "engine/http/curl_error.hpp"
#include "engine/http/http_retry_policy.hpp"
#include "plugins/common/encoding.hpp"
#include "plugins/common/step_inputs.hpp"

namespace artistsaid::plugins {
namespace {

using workflow::FieldDescriptor;
using workflow::ValueType;

constexpr long long kMaxBodyLimit = 64LL * 1024 * 1024;

}  // namespace

HttpRequestStep::HttpRequestStep(const http::HttpClient& client) : client_(client) {}

const workflow::StepTypeDescriptor& HttpRequestStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "http.request",
        "calls an HTTP endpoint (timeouts, retries honouring Retry-After, body limit)",
        {
            FieldDescriptor{"url", ValueType::kString, true, "http(s) URL", {}},
            FieldDescriptor{"method", ValueType::kString, false, "default GET",
                            {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}},
            FieldDescriptor{"headers", ValueType::kObject, false, "header name -> value", {}},
            FieldDescriptor{"body", ValueType::kString, false, "raw request body", {}},
            FieldDescriptor{"json", ValueType::kAny, false, "a JSON request body", {}},
            FieldDescriptor{"form", ValueType::kObject, false, "a form-encoded request body", {}},
            FieldDescriptor{"timeout", ValueType::kDuration, false, "per attempt, default 30s", {}},
            FieldDescriptor{"connect_timeout", ValueType::kDuration, false, "default 10s", {}},
            FieldDescriptor{"max_response_bytes", ValueType::kInteger, false,
                            "default 1048576 (1 MiB), at most 64 MiB", {}},
            FieldDescriptor{"attempts", ValueType::kInteger, false,
                            "tries within this step attempt, default 3", {}},
            FieldDescriptor{"follow_redirects", ValueType::kBoolean, false, "default false", {}},
            FieldDescriptor{"idempotency_header", ValueType::kString, false,
                            "send the step's idempotency key in this header", {}},
            FieldDescriptor{"fail_on_status", ValueType::kBoolean, false,
                            "non-2xx fails the step (default true)", {}},
        },
        {
            FieldDescriptor{"status", ValueType::kInteger, false, "HTTP status", {}},
            FieldDescriptor{"headers", ValueType::kObject, false, "response headers (lower-case)", {}},
            FieldDescriptor{"body", ValueType::kString, false, "the body if it is UTF-8 text", {}},
            FieldDescriptor{"body_base64", ValueType::kString, false, "the body if it is not text", {}},
            FieldDescriptor{"json", ValueType::kAny, false, "the body parsed, if it is JSON", {}},
            FieldDescriptor{"attempts", ValueType::kInteger, false, "HTTP attempts made", {}},
        }};
    return d;
}

runtime::StepResult HttpRequestStep::run(const runtime::StepCall& call) {
    StepInputs in("http.request", call.with);
    http::HttpRequest request;
    request.url = in.string("url");
    if (request.url.rfind("http://", 0) != 0 && request.url.rfind("https://", 0) != 0)
        in.fail("url", "must start with http:// or https://");
    request.method = in.string_or("method", "GET");
    static const std::set<std::string> methods{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
    if (methods.count(request.method) == 0) in.fail("method", "must be one of GET POST PUT PATCH DELETE HEAD");
    if (const auto& h = in.value("headers"); !h.is_null()) {
        if (!h.is_object()) in.fail("headers", "must be an object");
        for (const auto& [name, value] : h.items()) {
            if (!value.is_string()) in.fail("headers", "values must be strings ('" + name + "')");
            request.header(name, value.get<std::string>());
        }
    }
    int bodies = in.has("body") + in.has("json") + in.has("form");
    if (bodies > 1) in.fail("body", "only one of body, json and form may be set");
    if (in.has("body")) request.body = in.string("body");
    if (in.has("json")) request.json(in.value("json"));
    if (const auto& f = in.value("form"); !f.is_null()) {
        if (!f.is_object()) in.fail("form", "must be an object");
        http::HeaderList fields;
        for (const auto& [name, value] : f.items())
            fields.emplace_back(name, value.is_string() ? value.get<std::string>() : value.dump());
        request.form(fields);
    }
    request.timeout = in.duration_or("timeout", std::chrono::seconds(30));
    request.connect_timeout = in.duration_or("connect_timeout", std::chrono::seconds(10));
    request.max_response_bytes =
        static_cast<std::size_t>(in.integer_or("max_response_bytes", 1024 * 1024, 0, kMaxBodyLimit));
    request.follow_redirects = in.boolean_or("follow_redirects", false);
    request.deadline = call.deadline;
    request.cancel = call.should_stop;
    http::HttpRetryPolicy policy;
    policy.max_attempts = static_cast<int>(in.integer_or("attempts", 3, 1, 10));
    if (auto header = in.optional_string("idempotency_header")) {
        request.header(*header, call.idempotency_key);
        policy.idempotent = true;
    }
    const bool fail_on_status = in.boolean_or("fail_on_status", true);

    http::RetryingSendResult sent;
    try {
        sent = http::send_with_retries(client_, request, policy);
    } catch (const http::TransportError& e) {
        const bool safe = policy.idempotent || request.method == "GET" || request.method == "HEAD" ||
                          request.method == "PUT" || request.method == "DELETE";
        // An unknown outcome of a request that is not safe to repeat is not retried by the
        // run-time either: it may have taken effect.
        return runtime::StepResult::failure(e.what(), !e.outcome_unknown() || safe);
    }
    const http::HttpResponse& res = sent.response;
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [name, value] : res.headers)
        if (!headers.contains(name)) headers[name] = value;
    nlohmann::json out{{"status", res.status}, {"headers", headers}, {"attempts", sent.attempts}};
    if (is_valid_utf8(res.body)) {
        out["body"] = res.body;
        try {
            if (!res.body.empty()) out["json"] = nlohmann::json::parse(res.body);
        } catch (const nlohmann::json::parse_error&) {
        }
    } else {
        out["body_base64"] = base64_encode(res.body);
    }
    if (fail_on_status && !res.ok()) {
        const bool retryable = res.status >= 500 || res.status == 429 || res.status == 408;
        return runtime::StepResult::failure(
            request.describe() + " answered HTTP " + std::to_string(res.status), retryable);
    }
    return runtime::StepResult::success(std::move(out));
}

}  // namespace artistsaid::plugins
