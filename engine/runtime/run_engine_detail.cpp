#include "engine/runtime/run_engine_detail.hpp"

#include <openssl/evp.h>

#include <random>

#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"
#include "engine/workflow/eval_context.hpp"

namespace artistsaid::runtime::detail {

workflow::StepStatus dag_status(const std::string& s) {
    using workflow::StepStatus;
    if (s == "pending") return StepStatus::kPending;
    if (s == "succeeded" || s == "compensated") return StepStatus::kSucceeded;
    if (s == "continued") return StepStatus::kContinued;
    if (s == "skipped") return StepStatus::kSkipped;
    if (s == "failed" || s == "cancelled") return StepStatus::kFailed;
    return StepStatus::kRunning;  // queued, running, retrying, waiting
}

bool truthy(const nlohmann::json& v) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_null()) return false;
    if (v.is_string()) return !v.get<std::string>().empty() && v.get<std::string>() != "false";
    if (v.is_number_integer()) return v.get<long long>() != 0;
    return true;
}

std::string idempotency_key(const std::string& run_id, const std::string& step_id, int item) {
    return run_id + ":" + step_id + (item >= 0 ? ":" + std::to_string(item) : "");
}

std::string unique_key(const std::string& run_id, const std::string& step_id, int item,
                       int attempt, std::optional<Clock::time_point> run_at) {
    std::string key = run_id + ":" + step_id + ":" + std::to_string(item) + ":" +
                      std::to_string(attempt);
    if (run_at) key += ":w" + std::to_string(to_ms(*run_at));  // a wait's resumption
    return key;
}

std::string sha256_hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 0xf]);
    }
    return out;
}

double random_unit() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

nlohmann::json redact_json(nlohmann::json value) {
    if (value.is_string()) {
        value = logging::redact(value.get_ref<const std::string&>());
    } else if (value.is_structured()) {
        for (auto& element : value) element = redact_json(std::move(element));
    }
    return value;
}

std::string render_concurrency_key(const workflow::WorkflowDefinition& definition,
                                   const nlohmann::json& inputs, const nlohmann::json& env) {
    workflow::EvalContext context;
    context.inputs = &inputs;
    context.env = &env;
    auto key = definition.concurrency->key.render(context);
    std::string text = key.text();
    if (text.empty())
        throw InputError("the concurrency key of " + definition.name + " renders to empty text");
    if (text.size() > 500)
        throw InputError("the concurrency key of " + definition.name +
                         " is longer than 500 characters");
    return text;
}

}  // namespace artistsaid::runtime::detail
