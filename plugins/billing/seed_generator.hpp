// SeedGenerator: deterministic demo and benchmark data for billing — clients across the
// four creative professions, services with prices for every cycle in USD, EUR and JPY, tax
// rates, subscriptions on every cycle, add-ons, metered usage, affiliates, marketplace
// orders, client credit, and sandbox payment methods (successes, declines, a timeout).
//
// Bulk rows (users, clients, payment methods, subscriptions, add-ons, usage, orders) are
// loaded with COPY (pqxx::stream_to) in one transaction; the small catalog with INSERTs.
// Ids are given explicitly above the tables' current maximum and the identity sequences are
// moved past them, so loading twice into one database adds a second, disjoint data set.
// The same options and `seed` always give the same data.
//
// Thread-safety: stateless; one call per connection.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "plugins/billing/billing_period.hpp"

namespace artistsaid::billing {

struct SeedOptions {
    std::int64_t clients = 300;
    std::int64_t subscriptions = 600;  // spread over the clients
    Date as_of{};                      // subscriptions fall due around this date
    int due_spread_days = 7;           // next due dates in [as_of - 3, as_of + spread)
    std::int64_t marketplace_orders = 100;
    std::int64_t affiliates = 10;
    bool usage = true;                 // metered add-ons with usage records
    std::uint64_t seed = 42;
};

class SeedGenerator {
public:
    /// Loads the data; returns counts per table. The catalog (services, prices, add-ons,
    /// tax rates) is created once per database and reused.
    nlohmann::json load(pqxx::connection& conn, const SeedOptions& options) const;
    /// The same inside the caller's transaction (not committed here).
    nlohmann::json load(pqxx::work& tx, const SeedOptions& options) const;
};

}  // namespace artistsaid::billing
