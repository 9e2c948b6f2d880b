#include "plugins/billing/dunning_policy.hpp"

#include <regex>
#include <set>

#include "engine/core/error.hpp"

namespace artistsaid::billing {
namespace {

std::optional<int> days_field(const nlohmann::json& with, const char* field) {
    if (!with.contains(field) || with[field].is_null()) return std::nullopt;
    const auto& v = with[field];
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 3650)
        throw InputError(std::string("billing.dunning: '") + field +
                         "' must be a number of days between 0 and 3650");
    return v.get<int>();
}

}  // namespace

DunningPolicy DunningPolicy::from_json(const nlohmann::json& with) {
    DunningPolicy p;
    if (with.contains("notices") && !with["notices"].is_null()) {
        const auto& list = with["notices"];
        if (!list.is_array() || list.size() > 20)
            throw InputError("billing.dunning: 'notices' must be a list of at most 20 "
                             "{name, days} entries");
        static const std::regex name_re("^[a-z][a-z0-9_]{0,62}$");
        std::set<std::string> names;
        for (const auto& n : list) {
            if (!n.is_object() || !n.contains("name") || !n["name"].is_string() ||
                !n.contains("days") || !n["days"].is_number_integer())
                throw InputError("billing.dunning: each notice needs 'name' (text) and 'days' "
                                 "(integer, relative to the due date)");
            DunningNotice notice{n["name"].get<std::string>(), n["days"].get<int>()};
            if (!std::regex_match(notice.name, name_re))
                throw InputError("billing.dunning: notice name '" + notice.name +
                                 "' must be lower-case letters, digits and underscores");
            if (notice.days < -365 || notice.days > 3650)
                throw InputError("billing.dunning: notice '" + notice.name +
                                 "' days must be between -365 and 3650");
            if (!names.insert(notice.name).second)
                throw InputError("billing.dunning: notice '" + notice.name + "' appears twice");
            p.notices.push_back(notice);
        }
    }
    p.suspend_after_days = days_field(with, "suspend_after_days");
    p.terminate_after_days = days_field(with, "terminate_after_days");
    if (p.terminate_after_days && p.suspend_after_days &&
        *p.terminate_after_days <= *p.suspend_after_days)
        throw InputError("billing.dunning: 'terminate_after_days' must be greater than "
                         "'suspend_after_days'");
    return p;
}

}  // namespace artistsaid::billing
