#include "plugins/storage/storage_step.hpp"

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "engine/http/curl_error.hpp"
#include "plugins/common/encoding.hpp"
#include "plugins/common/step_inputs.hpp"
#include "plugins/storage/local_storage.hpp"
#include "plugins/storage/s3_storage.hpp"

namespace artistsaid::plugins {
namespace {

using workflow::FieldDescriptor;
using workflow::StepTypeDescriptor;
using workflow::ValueType;

constexpr long long kMaxObjectBytes = 64LL * 1024 * 1024;

const FieldDescriptor kKey{"key", ValueType::kString, true, "object key, e.g. invoices/2024/INV-1.pdf", {}};

const StepTypeDescriptor& descriptor_of(StorageStep::Operation op) {
    static const StepTypeDescriptor put{
        "storage.put",
        "stores an object (local directory or S3-compatible)",
        {kKey,
         FieldDescriptor{"content", ValueType::kString, false, "text content", {}},
         FieldDescriptor{"content_base64", ValueType::kString, false, "binary content, base64", {}},
         FieldDescriptor{"content_type", ValueType::kString, false, "default application/octet-stream", {}},
         FieldDescriptor{"sha256", ValueType::kString, false, "expected SHA-256 (hex) of the content", {}}},
        {FieldDescriptor{"key", ValueType::kString, false, "", {}},
         FieldDescriptor{"size", ValueType::kInteger, false, "bytes", {}},
         FieldDescriptor{"sha256", ValueType::kString, false, "hex", {}},
         FieldDescriptor{"etag", ValueType::kString, false, "", {}},
         FieldDescriptor{"content_type", ValueType::kString, false, "", {}}}};
    static const StepTypeDescriptor get{
        "storage.get",
        "reads an object",
        {kKey,
         FieldDescriptor{"encoding", ValueType::kString, false, "text (default) or base64", {"text", "base64"}},
         FieldDescriptor{"max_bytes", ValueType::kInteger, false, "default 10 MiB, at most 64 MiB", {}},
         FieldDescriptor{"missing_ok", ValueType::kBoolean, false, "a missing object is found=false, not a failure", {}}},
        {FieldDescriptor{"found", ValueType::kBoolean, false, "", {}},
         FieldDescriptor{"content", ValueType::kString, false, "with encoding text", {}},
         FieldDescriptor{"content_base64", ValueType::kString, false, "with encoding base64", {}},
         FieldDescriptor{"content_type", ValueType::kString, false, "", {}},
         FieldDescriptor{"size", ValueType::kInteger, false, "bytes", {}},
         FieldDescriptor{"sha256", ValueType::kString, false, "hex", {}}}};
    static const StepTypeDescriptor del{
        "storage.delete",
        "deletes an object (succeeds if it is already gone)",
        {kKey},
        {FieldDescriptor{"deleted", ValueType::kBoolean, false, "false if the backend knows it was not there", {}}}};
    static const StepTypeDescriptor presign{
        "storage.presign",
        "a time-limited URL for one object (S3 backend)",
        {kKey,
         FieldDescriptor{"method", ValueType::kString, false, "GET (default) or PUT", {"GET", "PUT"}},
         FieldDescriptor{"expires", ValueType::kDuration, false, "default 15m, at most 7 days", {}}},
        {FieldDescriptor{"url", ValueType::kString, false, "", {}},
         FieldDescriptor{"expires_at", ValueType::kDatetime, false, "", {}}}};
    switch (op) {
        case StorageStep::Operation::kPut: return put;
        case StorageStep::Operation::kGet: return get;
        case StorageStep::Operation::kDelete: return del;
        case StorageStep::Operation::kPresign: break;
    }
    return presign;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

std::unique_ptr<StorageBackend> make_storage_backend(const PluginEnvironment& env) {
    std::string kind = env.get_or("ARTISTSAID_STORAGE_BACKEND", "local");
    if (kind == "local") {
        auto dir = env.get("ARTISTSAID_STORAGE_DIR");
        if (!dir) throw InputError("storage: ARTISTSAID_STORAGE_DIR is not set (local backend)");
        return std::make_unique<LocalStorage>(*dir);
    }
    if (kind != "s3") throw InputError("storage: ARTISTSAID_STORAGE_BACKEND must be local or s3");
    S3Settings s;
    auto endpoint = env.get("ARTISTSAID_S3_ENDPOINT");
    auto bucket = env.get("ARTISTSAID_S3_BUCKET");
    if (!endpoint || !bucket) throw InputError("storage: ARTISTSAID_S3_ENDPOINT and ARTISTSAID_S3_BUCKET must be set");
    s.endpoint = *endpoint;
    s.bucket = *bucket;
    s.credentials.region = env.get_or("ARTISTSAID_S3_REGION", "us-east-1");
    s.credentials.access_key_id = env.required_secret("S3_ACCESS_KEY_ID", "storage");
    s.credentials.secret_access_key = env.required_secret("S3_SECRET_ACCESS_KEY", "storage");
    s.ca_file = env.get_or("ARTISTSAID_S3_CA_FILE", "");
    return std::make_unique<S3Storage>(std::move(s));
}

StorageStep::StorageStep(Operation operation, PluginEnvironment environment)
    : operation_(operation), env_(std::move(environment)) {}

const StepTypeDescriptor& StorageStep::descriptor() const { return descriptor_of(operation_); }

runtime::StepResult StorageStep::run(const runtime::StepCall& call) {
    const std::string type = descriptor().name;
    StepInputs in(type, call.with);
    const std::string key = in.string("key");
    check_storage_key(key);
    auto backend = make_storage_backend(env_);
    try {
        switch (operation_) {
            case Operation::kPut: {
                if (in.has("content") == in.has("content_base64"))
                    in.fail("content", "or content_base64 must be given (exactly one)");
                std::string bytes;
                if (in.has("content")) {
                    bytes = in.string_or("content", "");
                } else {
                    auto decoded = base64_decode(in.string("content_base64"));
                    if (!decoded) in.fail("content_base64", "is not valid base64");
                    bytes = std::move(*decoded);
                }
                if (bytes.size() > static_cast<std::size_t>(kMaxObjectBytes)) in.fail("content", "is larger than 64 MiB");
                auto type_ = in.string_or("content_type", "application/octet-stream");
                if (type_.find_first_of("\r\n") != std::string::npos) in.fail("content_type", "may not contain line breaks");
                // Checked before anything is written: bad input changes nothing.
                if (auto expected = in.optional_string("sha256"); expected && *expected != sha256_hex(bytes))
                    in.fail("sha256", "does not match the content's SHA-256 " + sha256_hex(bytes));
                auto o = backend->put(key, bytes, type_, call.deadline);
                return runtime::StepResult::success({{"key", o.key},
                                                     {"size", o.size},
                                                     {"sha256", o.sha256},
                                                     {"etag", o.etag},
                                                     {"content_type", o.content_type}});
            }
            case Operation::kGet: {
                auto max = static_cast<std::size_t>(in.integer_or("max_bytes", 10 * 1024 * 1024, 0, kMaxObjectBytes));
                std::string encoding = in.string_or("encoding", "text");
                if (encoding != "text" && encoding != "base64") in.fail("encoding", "must be text or base64");
                auto o = backend->get(key, max, call.deadline);
                if (!o) {
                    if (in.boolean_or("missing_ok", false))
                        return runtime::StepResult::success({{"found", false}});
                    return runtime::StepResult::failure(type + ": no object '" + key + "'", false);
                }
                nlohmann::json out{{"found", true},
                                   {"content_type", o->content_type},
                                   {"size", o->size},
                                   {"sha256", o->sha256}};
                if (encoding == "base64") {
                    out["content_base64"] = base64_encode(o->content);
                } else {
                    if (!is_valid_utf8(o->content))
                        return runtime::StepResult::failure(
                            type + ": object '" + key + "' is not UTF-8 text; use encoding: base64", false);
                    out["content"] = o->content;
                }
                return runtime::StepResult::success(out);
            }
            case Operation::kDelete:
                return runtime::StepResult::success({{"deleted", backend->remove(key, call.deadline)}});
            case Operation::kPresign: {
                auto expires = std::chrono::duration_cast<std::chrono::seconds>(
                    in.duration_or("expires", std::chrono::minutes(15)));
                std::string method = in.string_or("method", "GET");
                auto url = backend->presign(key, method, expires);
                return runtime::StepResult::success(
                    {{"url", url}, {"expires_at", rfc3339(std::chrono::system_clock::now() + expires)}});
            }
        }
    } catch (const http::TransportError& e) {
        return runtime::StepResult::failure(e.what(), true);
    } catch (const UnavailableError& e) {
        return runtime::StepResult::failure(e.what(), true);  // throttled, 5xx
    } catch (const WorkError& e) {
        return runtime::StepResult::failure(e.what(), false);  // refused, checksum mismatch
    }
    return runtime::StepResult::failure(type + ": unknown operation", false);
}

}  // namespace artistsaid::plugins
