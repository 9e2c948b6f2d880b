// DunningPolicy: what happens to unpaid invoices as days pass, as a workflow's `with:` says
// (WHMCS's automation settings):
//   notices:              [{name: before_due_3, days: -3}, {name: overdue_1, days: 1}, ...]
//                         days relative to the due date; each notice happens once per invoice,
//                         and only the latest one that is due (a missed day does not send
//                         three notices at once)
//   suspend_after_days:   subscriptions on an invoice unpaid this many days after its due
//                         date are suspended (omit: never)
//   terminate_after_days: ... and terminated after this many (omit: never; > suspend)
// Paying unsuspends: a subscription this policy suspended whose client has no invoice for it
// overdue past suspend_after_days any more becomes active again.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace artistsaid::billing {

struct DunningNotice {
    std::string name;
    int days = 0;
};

struct DunningPolicy {
    std::vector<DunningNotice> notices;
    std::optional<int> suspend_after_days;
    std::optional<int> terminate_after_days;

    /// From the step's `with:`; InputError naming the field for anything malformed.
    static DunningPolicy from_json(const nlohmann::json& with);
};

}  // namespace artistsaid::billing
