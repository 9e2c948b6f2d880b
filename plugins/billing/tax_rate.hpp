// TaxRate: one row of tax_rates — a rate of a country, or of one region of it, at a level.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "plugins/billing/billing_period.hpp"

namespace artistsaid::billing {

struct TaxRate {
    std::int64_t id = 0;
    std::string country;                // ISO 3166-1 alpha-2
    std::optional<std::string> region;  // nullopt: the whole country
    std::string name;
    std::int64_t rate_ppm = 0;  // 19% = 190000
    bool inclusive = false;     // prices in this jurisdiction already include it
    bool compound = false;      // level 2 only: charged on the net plus the level-1 tax
    int level = 1;              // 1 or 2 (e.g. Canada: GST level 1, PST/QST level 2)
    Date valid_from = Date{};
    std::optional<Date> valid_to;  // exclusive
};

}  // namespace artistsaid::billing
