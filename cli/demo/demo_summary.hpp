// The demo's report: what one billing-cycle run did (from its steps' outputs) and where
// the books stand (from the tables), as JSON, and printed for a person.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <string>

namespace artistsaid::cli {

/// {"run": {id, status, seconds}, "invoices": {this_run, by_currency}, "payments": {...},
///  "reconciled", "dunning", "documents", "emails", "commissions", "ledger"}.
nlohmann::json collect_demo_summary(pqxx::connection& conn, const std::string& run_id);

void print_demo_summary(std::ostream& out, const nlohmann::json& summary);

}  // namespace artistsaid::cli
