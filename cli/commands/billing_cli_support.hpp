// What the `billing` commands share: the database connection and the result printer.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <pqxx/connection>

#include "cli/command.hpp"

namespace artistsaid::cli {

/// A connection to the configured database (InputError if none is configured).
std::unique_ptr<pqxx::connection> open_billing_database(const Config& config);

/// `--json`: the result on one line; otherwise `key: value` lines.
void print_billing_result(Context& ctx, const nlohmann::json& result);

}  // namespace artistsaid::cli
