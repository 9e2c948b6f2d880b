// http.request against the local HTTP test server (tests/support/servers/http_test_server.py).
#include <doctest/doctest.h>

#include "plugins/http/http_request_step.hpp"
#include "tests/integration/plugins/plugin_test_support.hpp"
#include "tests/support/local_server.hpp"

using namespace artistsaid;
using namespace artistsaid::plugins;
using Kind = runtime::StepResult::Kind;

namespace {
test::LocalServer& server() {
    static test::LocalServer s("http_test_server.py");
    return s;
}
}  // namespace

TEST_CASE("HttpRequestStep.JsonResponseMappedIntoOutputs") {
    HttpRequestStep step;
    auto call = test::step_call({{"url", server().base_url() + "/echo"},
                                 {"method", "POST"},
                                 {"headers", {{"X-Partner", "abc"}}},
                                 {"json", {{"invoice", 42}}},
                                 {"idempotency_header", "Idempotency-Key"}},
                                "run-1:notify");
    auto r = step.run(call);
    REQUIRE_MESSAGE(r.kind == Kind::kSucceeded, r.error);
    CHECK(r.outputs["status"] == 200);
    CHECK(r.outputs["json"]["method"] == "POST");
    CHECK(r.outputs["json"]["body"] == "{\"invoice\":42}");
    CHECK(r.outputs["headers"]["content-type"] == "application/json");
    auto headers = r.outputs["json"]["headers"];
    bool saw_key = false;
    for (auto& h : headers) saw_key |= h[0] == "Idempotency-Key" && h[1] == "run-1:notify";
    CHECK(saw_key);
}

TEST_CASE("HttpRequestStep.RetriesHonouringRetryAfterThenSucceeds") {
    HttpRequestStep step;
    auto key = test::unique_name("flaky");
    auto r = step.run(test::step_call(
        {{"url", server().base_url() + "/flaky?key=" + key + "&fail=2&retry_after=0"}, {"attempts", 3}}));
    REQUIRE_MESSAGE(r.kind == Kind::kSucceeded, r.error);
    CHECK(r.outputs["attempts"] == 3);
    CHECK(r.outputs["json"]["hits"] == 3);
}

TEST_CASE("HttpRequestStep.StatusFailuresAndLimits") {
    HttpRequestStep step;
    auto r = step.run(test::step_call({{"url", server().base_url() + "/status/404"}}));
    CHECK(r.kind == Kind::kFailed);
    CHECK_FALSE(r.retryable);
    r = step.run(test::step_call({{"url", server().base_url() + "/status/502"}, {"attempts", 1}}));
    CHECK(r.kind == Kind::kFailed);
    CHECK(r.retryable);
    r = step.run(test::step_call({{"url", server().base_url() + "/status/404"}, {"fail_on_status", false}}));
    CHECK(r.kind == Kind::kSucceeded);
    CHECK(r.outputs["status"] == 404);
    r = step.run(test::step_call({{"url", server().base_url() + "/bytes?n=5000"}, {"max_response_bytes", 1000}}));
    CHECK(r.kind == Kind::kFailed);
    CHECK(r.error.find("size limit") != std::string::npos);
    r = step.run(test::step_call({{"url", server().base_url() + "/sleep?ms=3000"}, {"timeout", "200ms"}, {"attempts", 1}}));
    CHECK(r.kind == Kind::kFailed);
    CHECK(r.retryable);  // a GET is safe to repeat
    r = step.run(test::step_call({{"url", server().base_url() + "/sleep?ms=3000"}, {"method", "POST"},
                                  {"timeout", "200ms"}, {"attempts", 1}}));
    CHECK(r.kind == Kind::kFailed);
    CHECK_FALSE(r.retryable);  // a POST that may have happened is not repeated blindly
    CHECK_THROWS_AS(step.run(test::step_call({{"url", "file:///etc/passwd"}})), InputError);
    CHECK_THROWS_AS(step.run(test::step_call({{"url", server().base_url()}, {"method", "TRACE"}})), InputError);
}
