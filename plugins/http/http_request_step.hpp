// `http.request`: one outbound HTTP call from a workflow, through the shared HttpClient —
// timeouts, retries that honour Retry-After, a response body limit, and the JSON response
// mapped into outputs. With `idempotency_header` the step's idempotency key is sent in that
// header (the same on every attempt), which also makes a POST safe to retry.
// Thread-safety: run() may be called concurrently.
#pragma once

#include "engine/http/http_client.hpp"
#include "engine/runtime/step_plugin.hpp"

namespace artistsaid::plugins {

class HttpRequestStep final : public runtime::StepPlugin {
public:
    explicit HttpRequestStep(const http::HttpClient& client = http::HttpClient::shared());
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    const http::HttpClient& client_;
};

}  // namespace artistsaid::plugins
