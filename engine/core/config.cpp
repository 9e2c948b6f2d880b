#include "engine/core/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"

extern char** environ;

#ifndef ARTISTSAID_DATA_DIR
#define ARTISTSAID_DATA_DIR "."
#endif

namespace artistsaid {
namespace {

const char* const kSourceNames[] = {"default", "file", "env", "flag"};

std::string describe_source(const ConfigKey& key, ConfigSource source,
                            const std::optional<std::string>& file) {
    switch (source) {
        case ConfigSource::kFlag: return "flag --" + std::string(key.key);
        case ConfigSource::kEnv: return "environment variable " + std::string(key.env);
        case ConfigSource::kFile: return "config file " + file.value_or("");
        case ConfigSource::kDefault: return "default";
    }
    return "";
}

// Checks one value against its key's kind; returns an explanation if it is wrong.
std::optional<std::string> check_value(const ConfigKey& key, const std::string& value) {
    switch (key.kind) {
        case ConfigKind::kString:
        case ConfigKind::kExternalUrl:
            return std::nullopt;
        case ConfigKind::kUrl: {
            if (value.empty()) return std::nullopt;
            bool ok = false;
            for (std::string_view scheme : {"postgresql://", "postgres://", "redis://",
                                            "rediss://", "unix://"}) {
                if (value.rfind(scheme, 0) == 0) ok = true;
            }
            if (key.key == "database_url" && value.rfind("redis", 0) == 0) ok = false;
            if (key.key == "redis_url" && value.rfind("postgres", 0) == 0) ok = false;
            if (!ok) {
                return key.key == "database_url"
                           ? "expected a postgresql://user@host:port/db URL"
                           : "expected a redis://host:port/db URL";
            }
            return std::nullopt;
        }
        case ConfigKind::kDuration:
            try {
                parse_duration(value);
                return std::nullopt;
            } catch (const InputError& e) {
                return std::string(e.what());
            }
        case ConfigKind::kChoice: {
            std::string choices(key.choices);
            std::string padded = "|" + choices + "|";
            if (padded.find("|" + value + "|") != std::string::npos) return std::nullopt;
            return "expected one of " + choices;
        }
        case ConfigKind::kPositiveInt: {
            if (value.empty() || value.size() > 9 ||
                !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
                std::stoll(value) <= 0)
                return "expected a positive integer";
            return std::nullopt;
        }
    }
    return std::nullopt;
}

// Flattens the YAML file into dotted keys, with positions for error messages.
void flatten(const YAML::Node& node, const std::string& prefix, const std::string& file,
             std::map<std::string, std::pair<std::string, YAML::Mark>>& out) {
    for (const auto& item : node) {
        const YAML::Node& k = item.first;
        const YAML::Node& v = item.second;
        std::string key = prefix.empty() ? k.Scalar() : prefix + "." + k.Scalar();
        SourceLocation at{file, k.Mark().line + 1, k.Mark().column + 1};
        if (v.IsMap()) {
            flatten(v, key, file, out);
        } else if (v.IsScalar()) {
            out[key] = {v.Scalar(), k.Mark()};
        } else if (v.IsNull()) {
            out[key] = {"", k.Mark()};
        } else {
            throw InputError("'" + key + "' must be a single value", at);
        }
    }
}

const ConfigKey* find_key(std::string_view name, const std::vector<ConfigKey>& extra = {}) {
    for (const auto& k : config_keys())
        if (k.key == name) return &k;
    for (const auto& k : extra)
        if (k.key == name) return &k;
    return nullptr;
}

std::vector<std::string> key_names(const std::vector<ConfigKey>& extra) {
    std::vector<std::string> names;
    for (const auto& k : config_keys()) names.emplace_back(k.key);
    for (const auto& k : extra) names.emplace_back(k.key);
    return names;
}

bool is_url(ConfigKind kind) { return kind == ConfigKind::kUrl || kind == ConfigKind::kExternalUrl; }

}  // namespace

std::string_view to_string(ConfigSource source) noexcept {
    return kSourceNames[static_cast<int>(source)];
}

const std::vector<ConfigKey>& config_keys() {
    static const std::vector<ConfigKey> keys = {
        {"database_url", "ARTISTSAID_DATABASE_URL", "", ConfigKind::kUrl, false, "",
         "PostgreSQL, the system of record (postgresql://user:password@host:port/db)"},
        {"redis_url", "ARTISTSAID_REDIS_URL", "", ConfigKind::kUrl, false, "",
         "Redis, the job queue (redis://[:password@]host:port/db)"},
        {"queue.prefix", "ARTISTSAID_QUEUE_PREFIX", "artistsaid", ConfigKind::kString, false, "",
         "prefix of every Redis key; isolates tenants and tests sharing one Redis"},
        {"queue.lease", "ARTISTSAID_QUEUE_LEASE", "5s", ConfigKind::kDuration, false, "",
         "how long a fetched job is leased; renewed while it runs, redelivered ~1 lease after "
         "its worker dies"},
        {"queue.max_payload_bytes", "ARTISTSAID_QUEUE_MAX_PAYLOAD_BYTES", "524288",
         ConfigKind::kPositiveInt, false, "", "largest job payload accepted (bytes)"},
        {"worker.queues", "ARTISTSAID_WORKER_QUEUES", "workflows,default", ConfigKind::kString,
         false, "",
         "queues a worker fetches from, in priority order (comma-separated)"},
        {"worker.concurrency", "ARTISTSAID_WORKER_CONCURRENCY", "8", ConfigKind::kPositiveInt,
         false, "", "jobs a worker process runs at once"},
        {"worker.grace", "ARTISTSAID_WORKER_GRACE", "30s", ConfigKind::kDuration, false, "",
         "on SIGTERM, how long running jobs may take to finish before they are given back"},
        {"runtime.reconcile_interval", "ARTISTSAID_RECONCILE_INTERVAL", "30s",
         ConfigKind::kDuration, false, "",
         "how often each worker re-enqueues steps whose jobs Redis lost"},
        {"connect_timeout", "ARTISTSAID_CONNECT_TIMEOUT", "5s", ConfigKind::kDuration, false, "",
         "how long to wait for PostgreSQL or Redis to accept a connection"},
        {"statement_timeout", "ARTISTSAID_STATEMENT_TIMEOUT", "5m", ConfigKind::kDuration, false,
         "", "upper bound of any single SQL statement (migrations included)"},
        {"log.level", "ARTISTSAID_LOG_LEVEL", "info", ConfigKind::kChoice, false,
         "trace|debug|info|warn|error|off", "least severe log level written"},
        {"log.format", "ARTISTSAID_LOG_FORMAT", "auto", ConfigKind::kChoice, false,
         "auto|text|json", "text for people, JSON lines for collectors; auto: text on a terminal"},
        {"migrations_dir", "ARTISTSAID_MIGRATIONS_DIR", ARTISTSAID_DATA_DIR "/migrations",
         ConfigKind::kString, false, "", "directory of the numbered SQL migration files"},
        {"workflows_dir", "ARTISTSAID_WORKFLOWS_DIR", ARTISTSAID_DATA_DIR "/workflows",
         ConfigKind::kString, false, "", "directory of the workflow YAML definitions"},
        {"http.listen", "ARTISTSAID_HTTP_LISTEN", "127.0.0.1:8080", ConfigKind::kString, false,
         "", "address and port `serve` listens on (HOST:PORT; --listen overrides)"},
        {"http.max_body_bytes", "ARTISTSAID_HTTP_MAX_BODY_BYTES", "1048576",
         ConfigKind::kPositiveInt, false, "", "largest request body accepted (413 beyond)"},
        {"http.max_header_bytes", "ARTISTSAID_HTTP_MAX_HEADER_BYTES", "16384",
         ConfigKind::kPositiveInt, false, "", "largest request header accepted (431 beyond)"},
        {"http.read_timeout", "ARTISTSAID_HTTP_READ_TIMEOUT", "10s", ConfigKind::kDuration, false,
         "", "a request must arrive whole within this once it started (slow clients are cut off)"},
        {"http.idle_timeout", "ARTISTSAID_HTTP_IDLE_TIMEOUT", "60s", ConfigKind::kDuration, false,
         "", "a keep-alive connection with no request for this long is closed"},
        {"http.write_timeout", "ARTISTSAID_HTTP_WRITE_TIMEOUT", "30s", ConfigKind::kDuration,
         false, "", "writing one response may take this long"},
        {"http.max_connections", "ARTISTSAID_HTTP_MAX_CONNECTIONS", "512",
         ConfigKind::kPositiveInt, false, "", "open connections beyond this get 503"},
        {"http.threads", "ARTISTSAID_HTTP_THREADS", "2", ConfigKind::kPositiveInt, false, "",
         "threads running the HTTP event loop"},
        {"http.workers", "ARTISTSAID_HTTP_WORKERS", "8", ConfigKind::kPositiveInt, false, "",
         "threads running requests' PostgreSQL/Redis work (each with its own connections)"},
        {"http.shutdown_grace", "ARTISTSAID_HTTP_SHUTDOWN_GRACE", "10s", ConfigKind::kDuration,
         false, "", "on SIGTERM, how long requests in progress may take to finish"},
        {"http.webhook_tolerance", "ARTISTSAID_HTTP_WEBHOOK_TOLERANCE", "300s",
         ConfigKind::kDuration, false, "",
         "webhook replay window: signed timestamps further than this from now are refused"},
        {"http.public_url", "ARTISTSAID_HTTP_PUBLIC_URL", "", ConfigKind::kString, false, "",
         "scheme://host[:port] providers call (Twilio signs the full URL); default http://Host"},
        {"http.paypal_api_url", "ARTISTSAID_HTTP_PAYPAL_API_URL", "https://api-m.paypal.com",
         ConfigKind::kString, false, "", "PayPal REST API base for webhook verification"},
        {"http.paypal_verification", "ARTISTSAID_HTTP_PAYPAL_VERIFICATION", "api",
         ConfigKind::kChoice, false, "api|certificate",
         "PayPal webhooks: ask PayPal's verification API, or check the signature offline "
         "with PayPal's signing certificate"},
        {"http.paypal_cert_url_prefixes", "ARTISTSAID_HTTP_PAYPAL_CERT_URL_PREFIXES", "",
         ConfigKind::kString, false, "",
         "comma-separated URL prefixes a PAYPAL-CERT-URL must start with; default PayPal's "
         "API hosts over https"},
        {"http.paypal_ca_file", "ARTISTSAID_HTTP_PAYPAL_CA_FILE", "", ConfigKind::kString, false,
         "", "CA bundle that PayPal's signing certificate must chain to; default the system's"},
        {"http.rate_limit", "ARTISTSAID_HTTP_RATE_LIMIT", "20", ConfigKind::kPositiveInt, false,
         "", "API requests per second per key, on average (429 with Retry-After beyond)"},
        {"http.rate_burst", "ARTISTSAID_HTTP_RATE_BURST", "40", ConfigKind::kPositiveInt, false,
         "", "API requests a key may send at once before the rate limit applies"},
    };
    return keys;
}

Config Config::with(std::string_view key, std::string value) const {
    const ConfigKey* known = find_key(std::string(key));  // engine keys only
    if (known == nullptr) throw InputError("unknown setting '" + std::string(key) + "'", ErrorCode::kUsage);
    if (auto problem = check_value(*known, value))
        throw InputError("bad value for '" + std::string(key) + "': " + *problem);
    Config copy = *this;
    for (auto& e : copy.entries_) {
        if (e.key == key) {
            e.value = std::move(value);
            e.source = ConfigSource::kFlag;
        }
    }
    return copy;
}

Config Config::load(const ConfigInputs& inputs) {
    Config config;
    config.file_ = inputs.file;
    config.extra_keys_ = inputs.extra_keys;
    for (const auto& extra : inputs.extra_keys) {
        if (find_key(extra.key) != nullptr)
            throw Error(ErrorCode::kInternal, "configuration key '" + std::string(extra.key) +
                                                  "' is declared twice");
    }
    if (!config.file_) {
        auto it = inputs.env.find("ARTISTSAID_CONFIG");
        if (it != inputs.env.end() && !it->second.empty()) config.file_ = it->second;
    }

    std::map<std::string, std::pair<std::string, YAML::Mark>> from_file;
    if (config.file_) {
        const std::string& path = *config.file_;
        if (!std::filesystem::is_regular_file(path))
            throw InputError("config file '" + path + "' does not exist or is not a file");
        YAML::Node root;
        try {
            root = YAML::LoadFile(path);
        } catch (const YAML::Exception& e) {
            throw InputError(e.msg, SourceLocation{path, e.mark.line + 1, e.mark.column + 1});
        }
        if (!root.IsNull() && !root.IsMap())
            throw InputError("expected a mapping of settings", SourceLocation{path, 1, 1});
        if (root.IsMap()) flatten(root, "", path, from_file);
        for (const auto& [key, value] : from_file) {
            const YAML::Mark& mark = value.second;
            SourceLocation at{path, mark.line + 1, mark.column + 1};
            const ConfigKey* known = find_key(key, inputs.extra_keys);
            if (known == nullptr) {
                std::string message = "unknown setting '" + key + "'";
                if (auto hint = closest_match(key, key_names(inputs.extra_keys)))
                    message += " (did you mean '" + *hint + "'?)";
                throw InputError(message, at);
            }
            if (auto problem = check_value(*known, value.first))
                throw InputError("bad value for '" + key + "': " + *problem, at);
        }
    }

    for (const auto& flag : inputs.flags) {
        if (find_key(flag.first) == nullptr)
            throw InputError("unknown setting '" + flag.first + "'", ErrorCode::kUsage);
    }

    auto resolve = [&](const ConfigKey& key, std::vector<Entry>& into) {
        Entry entry{std::string(key.key), std::string(key.default_value), ConfigSource::kDefault};
        if (auto it = from_file.find(entry.key); it != from_file.end()) {
            entry.value = it->second.first;
            entry.source = ConfigSource::kFile;
        }
        if (auto it = inputs.env.find(std::string(key.env));
            it != inputs.env.end() && !it->second.empty()) {
            entry.value = it->second;
            entry.source = ConfigSource::kEnv;
        }
        if (auto it = inputs.flags.find(entry.key); it != inputs.flags.end()) {
            entry.value = it->second;
            entry.source = ConfigSource::kFlag;
        }
        if (entry.source != ConfigSource::kFile) {
            if (auto problem = check_value(key, entry.value)) {
                // Never echo the value: it may hold a password.
                throw InputError("bad value for '" + entry.key + "' from " +
                                 describe_source(key, entry.source, config.file_) + ": " +
                                 *problem);
            }
        }
        into.push_back(std::move(entry));
    };
    for (const auto& key : config_keys()) resolve(key, config.entries_);
    for (const auto& key : inputs.extra_keys) resolve(key, config.extra_entries_);
    return config;
}

std::map<std::string, std::string> Config::process_env() {
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view entry(*e);
        auto eq = entry.find('=');
        if (eq != std::string_view::npos)
            env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    return env;
}

const ConfigKey* Config::find(std::string_view key) const { return find_key(key, extra_keys_); }

const Config::Entry& Config::entry(std::string_view key) const {
    for (const auto& e : entries_)
        if (e.key == key) return e;
    for (const auto& e : extra_entries_)
        if (e.key == key) return e;
    throw Error(ErrorCode::kInternal, "no configuration key '" + std::string(key) + "'");
}

const std::string& Config::get(std::string_view key) const { return entry(key).value; }
ConfigSource Config::source(std::string_view key) const { return entry(key).source; }

std::chrono::milliseconds Config::duration(std::string_view key) const {
    return parse_duration(get(key));
}

long long Config::integer(std::string_view key) const { return std::stoll(get(key)); }

std::string Config::shown(std::string_view key) const {
    const ConfigKey* info = find(key);
    const std::string& value = get(key);
    if (info != nullptr && info->secret && !value.empty()) return "***";
    if (info != nullptr && is_url(info->kind)) return redact_url(value);
    return value;
}

nlohmann::json Config::to_json() const {
    nlohmann::json settings = nlohmann::json::array();
    for (const auto& e : entries_) {
        settings.push_back({{"key", e.key},
                            {"value", shown(e.key)},
                            {"source", std::string(to_string(e.source))}});
    }
    return {{"file", file_ ? nlohmann::json(*file_) : nlohmann::json()}, {"settings", settings}};
}

std::vector<std::string> Config::secret_values() const {
    std::vector<std::string> out;
    for (const auto* entries : {&entries_, &extra_entries_}) {
        for (const auto& e : *entries) {
            const ConfigKey* info = find(e.key);
            if (info == nullptr || e.value.empty()) continue;
            if (info->secret) out.push_back(e.value);
            if (is_url(info->kind))
                for (auto& s : url_secrets(e.value)) out.push_back(std::move(s));
        }
    }
    return out;
}

namespace {

struct UrlParts {
    size_t password_begin = std::string::npos, password_end = std::string::npos;
    std::vector<std::pair<size_t, size_t>> query_secrets;  // [begin, end) of values
};

UrlParts find_secrets(std::string_view url) {
    UrlParts parts;
    auto scheme = url.find("://");
    size_t authority = scheme == std::string_view::npos ? 0 : scheme + 3;
    auto path = url.find_first_of("/?", authority);
    auto authority_end = path == std::string_view::npos ? url.size() : path;
    auto at = url.rfind('@', authority_end);
    if (at != std::string_view::npos && at >= authority) {
        auto colon = url.find(':', authority);
        if (colon != std::string_view::npos && colon < at) {
            parts.password_begin = colon + 1;
            parts.password_end = at;
        }
    }
    auto query = url.find('?');
    if (query != std::string_view::npos) {
        size_t i = query + 1;
        while (i < url.size()) {
            size_t amp = url.find('&', i);
            if (amp == std::string_view::npos) amp = url.size();
            std::string_view pair = url.substr(i, amp - i);
            auto eq = pair.find('=');
            if (eq != std::string_view::npos) {
                std::string_view name = pair.substr(0, eq);
                if (name.find("password") != std::string_view::npos ||
                    name.find("secret") != std::string_view::npos || name == "sslkey" ||
                    name.find("token") != std::string_view::npos)
                    parts.query_secrets.emplace_back(i + eq + 1, amp);
            }
            i = amp + 1;
        }
    }
    return parts;
}

}  // namespace

std::string redact_url(std::string_view url) {
    UrlParts parts = find_secrets(url);
    std::vector<std::pair<size_t, size_t>> spans = parts.query_secrets;
    if (parts.password_begin != std::string::npos)
        spans.emplace_back(parts.password_begin, parts.password_end);
    std::sort(spans.begin(), spans.end());
    std::string out;
    size_t pos = 0;
    for (const auto& [b, e] : spans) {
        out.append(url.substr(pos, b - pos));
        out.append("***");
        pos = e;
    }
    out.append(url.substr(pos));
    return out;
}

std::vector<std::string> url_secrets(std::string_view url) {
    UrlParts parts = find_secrets(url);
    std::vector<std::string> out;
    if (parts.password_begin != std::string::npos && parts.password_end > parts.password_begin)
        out.emplace_back(url.substr(parts.password_begin, parts.password_end - parts.password_begin));
    for (const auto& [b, e] : parts.query_secrets)
        if (e > b) out.emplace_back(url.substr(b, e - b));
    return out;
}

}  // namespace artistsaid
