#include "plugins/billing/dunning_runner.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "engine/store/run_store.hpp"
#include "plugins/billing/billing_run_claim.hpp"

namespace artistsaid::billing {

nlohmann::json DunningRunner::run(pqxx::connection& conn, Date as_of, const DunningPolicy& policy,
                                  const std::string& key, const std::string& run_id) const {
    const std::string day = format_date(as_of);
    try {
        pqxx::work tx(conn);
        nlohmann::json replay;
        nlohmann::json notices = nlohmann::json::array();
        for (const auto& n : policy.notices) notices.push_back({{"name", n.name}, {"days", n.days}});
        const nlohmann::json parameters = {
            {"as_of", day},
            {"notices", notices},
            {"suspend_after_days", policy.suspend_after_days ? nlohmann::json(*policy.suspend_after_days) : nullptr},
            {"terminate_after_days", policy.terminate_after_days ? nlohmann::json(*policy.terminate_after_days) : nullptr}};
        const auto run = BillingRunClaim::claim(tx, "dunning", key, day, parameters, replay);
        if (!run) return replay;
        const std::string d = tx.quote(day) + "::date";
        const std::string r = std::to_string(*run);

        long long notice_count = 0;
        if (!policy.notices.empty()) {
            std::string values;
            for (const auto& n : policy.notices)
                values += (values.empty() ? "" : ", ") + std::string("(") + tx.quote(n.name) + ", " +
                          std::to_string(n.days) + ")";
            // The latest notice due for each unpaid invoice, once.
            notice_count = static_cast<long long>(
                tx.exec("INSERT INTO dunning_notices (invoice_id, notice, days_from_due, billing_run_id) "
                         "SELECT DISTINCT ON (i.id) i.id, n.name, n.days, " + r +
                         "  FROM invoices i CROSS JOIN (VALUES " + values + ") AS n(name, days) "
                         " WHERE i.status = 'unpaid' AND i.total - i.credit_applied - i.amount_paid > 0 "
                         "   AND i.due_date + n.days <= " + d +
                         "   AND NOT EXISTS (SELECT 1 FROM dunning_notices x JOIN (VALUES " + values +
                         ") AS m(name, days) ON m.name = x.notice "
                         "                   WHERE x.invoice_id = i.id AND m.days >= n.days) "
                         " ORDER BY i.id, n.days DESC "
                         "ON CONFLICT (invoice_id, notice) DO NOTHING")
                    .affected_rows());
        }
        // Subscriptions billed on invoices overdue by at least `days`.
        const auto overdue = [&](int days) {
            return "SELECT ii.subscription_id FROM invoices i "
                   "  JOIN invoice_items ii ON ii.invoice_id = i.id AND ii.subscription_id IS NOT NULL "
                   " WHERE i.status = 'unpaid' AND i.total - i.credit_applied - i.amount_paid > 0 "
                   "   AND i.due_date <= " + d + " - " + std::to_string(days);
        };
        long long suspended = 0, terminated = 0, unsuspended = 0;
        if (policy.terminate_after_days)
            terminated = static_cast<long long>(
                tx.exec("UPDATE subscriptions SET status = 'terminated', terminated_at = now(), "
                         "       next_due_date = NULL "
                         " WHERE status IN ('active', 'suspended') AND id IN (" +
                         overdue(*policy.terminate_after_days) + ")")
                    .affected_rows());
        if (policy.suspend_after_days) {
            suspended = static_cast<long long>(
                tx.exec("UPDATE subscriptions SET status = 'suspended', suspended_at = now(), "
                         "       suspend_reason = 'overdue invoice', suspended_by_dunning = true "
                         " WHERE status = 'active' AND id IN (" +
                         overdue(*policy.suspend_after_days) + ")")
                    .affected_rows());
            unsuspended = static_cast<long long>(
                tx.exec("UPDATE subscriptions SET status = 'active', suspended_at = NULL, "
                         "       suspend_reason = NULL, suspended_by_dunning = false "
                         " WHERE status = 'suspended' AND suspended_by_dunning AND id NOT IN (" +
                         overdue(*policy.suspend_after_days) + ")")
                    .affected_rows());
        }
        const std::string collection = store::RunStore::create_collection_from_query(
            tx, run_id,
            "SELECT jsonb_build_object('invoice_id', i.id, 'number', i.number, 'client_id', "
            "i.client_id, 'email', coalesce(c.email, u.email), 'name', c.name, "
            "'locale', coalesce(u.locale, 'en'), 'notice', n.notice, "
            "'days_from_due', n.days_from_due, "
            "'balance_due', i.total - i.credit_applied - i.amount_paid, 'currency', i.currency, "
            "'balance', billing_format_money(i.total - i.credit_applied - i.amount_paid, i.currency), "
            "'due_date', i.due_date) FROM dunning_notices n JOIN invoices i ON i.id = n.invoice_id "
            "JOIN clients c ON c.id = i.client_id LEFT JOIN users u ON u.id = c.user_id "
            "WHERE n.billing_run_id = " + r + " ORDER BY n.id");
        nlohmann::json out = {{"billing_run_id", *run},
                              {"notices", {{"$collection", {{"id", collection}}}}},
                              {"notice_count", notice_count},
                              {"suspended", suspended},
                              {"terminated", terminated},
                              {"unsuspended", unsuspended},
                              {"replayed", false}};
        BillingRunClaim::finish(tx, *run, out);
        tx.commit();
        return out;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("running dunning");
    }
}

}  // namespace artistsaid::billing
