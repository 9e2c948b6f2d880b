#include "engine/core/duration.hpp"

#include <cstdint>

#include "engine/core/error.hpp"

namespace artistsaid {
namespace {

struct Unit {
    std::string_view suffix;
    int64_t ms;
};
// Longest suffixes first so "ms" is not read as "m" followed by garbage.
constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000},
                           {"d", 86'400'000}, {"w", 604'800'000}};

[[noreturn]] void bad(std::string_view text, std::string_view why) {
    throw InputError("invalid duration '" + std::string(text) + "': " + std::string(why) +
                     " (expected e.g. 250ms, 30s, 10m, 2h, 1d, 1h30m)");
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
    if (text.empty()) bad(text, "empty");
    int64_t total = 0;
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] < '0' || text[i] > '9') bad(text, "a number must come before each unit");
        int64_t number = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            if (__builtin_mul_overflow(number, 10, &number) ||
                __builtin_add_overflow(number, text[i] - '0', &number))
                bad(text, "too large");
            ++i;
        }
        const Unit* unit = nullptr;
        for (const auto& u : kUnits) {
            if (text.substr(i, u.suffix.size()) == u.suffix) {
                unit = &u;
                break;
            }
        }
        if (unit == nullptr) bad(text, "missing or unknown unit");
        i += unit->suffix.size();
        int64_t part = 0;
        if (__builtin_mul_overflow(number, unit->ms, &part) ||
            __builtin_add_overflow(total, part, &total))
            bad(text, "too large");
    }
    return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
    int64_t ms = d.count();
    if (ms == 0) return "0s";
    std::string out;
    if (ms < 0) {
        out = "-";
        ms = -ms;
    }
    for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
        if (it->suffix == "w") continue;  // days read better than weeks in logs
        if (ms >= it->ms) {
            out += std::to_string(ms / it->ms) + std::string(it->suffix);
            ms %= it->ms;
        }
    }
    return out;
}

}  // namespace artistsaid
