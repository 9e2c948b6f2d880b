// Logging through spdlog, to stderr: human text on a terminal, JSON lines for
// collectors (--log-format json). Every line passes through a redactor that replaces
// registered secret values with "***", so a secret that slips into a message (a URL
// with its password, a provider's key echoed in an error) never reaches the log.
// Thread-safe: the logger and the secret registry may be used from any thread.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace artistsaid::logging {

struct Options {
    std::string level = "info";   // trace|debug|info|warn|error|off
    std::string format = "auto";  // auto (text on a terminal, else JSON) | text | json
};

/// Installs the default logger. May be called again (tests, or after config is read).
void init(const Options& options);

/// Registers a secret; from now on it is replaced by "***" in every log line.
/// Values shorter than 4 characters are ignored (they would mangle ordinary text).
void add_secret(std::string value);

/// Replaces every registered secret in `text` with "***".
std::string redact(std::string_view text);

}  // namespace artistsaid::logging
