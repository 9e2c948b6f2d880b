#include "engine/core/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <vector>

#include "engine/core/error.hpp"

namespace artistsaid::logging {
namespace {

class SecretRegistry {
public:
    void add(std::string value) {
        if (value.size() < 4) return;
        std::unique_lock lock(mutex_);
        for (const auto& s : secrets_)
            if (s == value) return;
        secrets_.push_back(std::move(value));
        // Longest first, so a secret that contains another is replaced whole.
        std::sort(secrets_.begin(), secrets_.end(),
                  [](const auto& a, const auto& b) { return a.size() > b.size(); });
    }

    std::string redact(std::string_view text) const {
        std::string out(text);
        std::shared_lock lock(mutex_);
        for (const auto& s : secrets_) {
            size_t pos = 0;
            while ((pos = out.find(s, pos)) != std::string::npos) {
                out.replace(pos, s.size(), "***");
                pos += 3;
            }
        }
        return out;
    }

private:
    mutable std::shared_mutex mutex_;
    std::vector<std::string> secrets_;
};

SecretRegistry& registry() {
    static SecretRegistry instance;
    return instance;
}

// One JSON object per line: {"ts","level","logger","msg"}; nlohmann escapes the text.
class JsonFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        auto ts = std::chrono::duration_cast<std::chrono::microseconds>(
                      msg.time.time_since_epoch())
                      .count();
        std::time_t secs = static_cast<std::time_t>(ts / 1000000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char stamp[96];
        std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                      tm.tm_sec, static_cast<long long>(ts % 1000000));
        auto level = spdlog::level::to_string_view(msg.level);
        nlohmann::json line = {
            {"ts", stamp},
            {"level", std::string(level.data(), level.size())},
            {"msg", std::string(msg.payload.data(), msg.payload.size())},
        };
        if (msg.logger_name.size() > 0)
            line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
        std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        dest.append(text.data(), text.data() + text.size());
        dest.push_back('\n');
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }
};

// Redacts the payload, then hands the message to the real sink.
class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit RedactingSink(spdlog::sink_ptr inner) : inner_(std::move(inner)) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        std::string clean =
            registry().redact(std::string_view(msg.payload.data(), msg.payload.size()));
        spdlog::details::log_msg copy(msg.time, msg.source, msg.logger_name, msg.level, clean);
        inner_->log(copy);
    }
    void flush_() override { inner_->flush(); }
    void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
    void set_formatter_(std::unique_ptr<spdlog::formatter> f) override {
        inner_->set_formatter(std::move(f));
    }

private:
    spdlog::sink_ptr inner_;
};

}  // namespace

void init(const Options& options) {
    auto level = spdlog::level::from_str(options.level);
    if (level == spdlog::level::off && options.level != "off")
        throw InputError("unknown log level '" + options.level +
                         "' (expected trace, debug, info, warn, error or off)");
    bool json = options.format == "json" ||
                (options.format == "auto" && ::isatty(STDERR_FILENO) == 0);
    if (options.format != "json" && options.format != "text" && options.format != "auto")
        throw InputError("unknown log format '" + options.format + "' (expected auto, text, json)");

    auto inner = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
        json ? spdlog::color_mode::never : spdlog::color_mode::automatic);
    auto sink = std::make_shared<RedactingSink>(inner);
    auto logger = std::make_shared<spdlog::logger>("artistsaid", sink);
    if (json)
        logger->set_formatter(std::make_unique<JsonFormatter>());
    else
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    logger->set_level(level);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
}

void add_secret(std::string value) { registry().add(std::move(value)); }

std::string redact(std::string_view text) { return registry().redact(text); }

}  // namespace artistsaid::logging
