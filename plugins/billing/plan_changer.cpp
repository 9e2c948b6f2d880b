#include "plugins/billing/plan_changer.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/core/money.hpp"
#include "engine/store/database.hpp"
#include "plugins/billing/billing_run_claim.hpp"
#include "plugins/billing/proration.hpp"

namespace artistsaid::billing {
namespace {

struct Plan {
    long long service_id = 0;
    std::string code;
    std::string name;
    bool taxable = true;
    std::optional<long long> price_override;
    long long unit = 0;  // the price per period and unit
};

std::optional<long long> service_price(pqxx::work& tx, long long service,
                                       const std::string& currency, const std::string& cycle) {
    auto r = tx.exec_params(
        "SELECT amount FROM service_prices WHERE service_id = $1 AND "
        "currency = $2 AND cycle = $3::billing_cycle",
        service, currency, cycle);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<long long>();
}

void add_line(pqxx::work& tx, long long run, long long sub, long long client,
              const std::string& currency, const char* kind, long long amount, bool taxable,
              const std::string& description, const std::string& on, const std::string& end,
              nlohmann::json& ids) {
    if (amount == 0) return;
    ids.push_back(
        tx.exec_params1(
              "INSERT INTO subscription_adjustments (subscription_id, client_id, currency, kind, "
              "amount, taxable, description, effective_date, period_start, period_end, "
              "billing_run_id) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date, $8::date, $9::date, $10) RETURNING id",
              sub, client, currency, kind, amount, taxable, description, on, end, run)[0]
            .as<long long>());
}

}  // namespace

nlohmann::json PlanChanger::change(pqxx::connection& conn, const PlanChangeOptions& o) const {
    if (o.subscription_id <= 0)
        throw InputError("change_plan: the subscription id must be positive");
    if (!o.service_code && !o.price)
        throw InputError("change_plan: give the new service, the new price, or both");
    if (o.idempotency_key.empty()) throw InputError("change_plan: no idempotency key");
    const std::string on = format_date(o.on);
    const nlohmann::json parameters = {{"subscription_id", o.subscription_id},
                                       {"service", o.service_code ? *o.service_code : ""},
                                       {"price", o.price ? *o.price : ""},
                                       {"on", on}};
    const std::string sub_text = "subscription " + std::to_string(o.subscription_id);
    try {
        pqxx::work tx(conn);
        nlohmann::json replay;
        const auto run =
            BillingRunClaim::claim(tx, "change_plan", o.idempotency_key, on, parameters, replay);
        if (!run) return replay;
        auto s = tx.exec_params(
            "SELECT s.status, s.client_id, s.currency, s.cycle::text, s.billing_day, s.quantity, "
            "s.price_override, s.next_due_date::text, v.id, v.code, v.name, v.taxable "
            "FROM subscriptions s JOIN services v ON v.id = s.service_id WHERE s.id = $1 "
            "FOR UPDATE OF s",
            o.subscription_id);
        if (s.empty()) throw InputError("no " + sub_text, ErrorCode::kNotFound);
        const std::string status = s[0][0].as<std::string>();
        if (status == "cancelled" || status == "terminated")
            throw InputError(sub_text + " is " + status + ": its plan cannot be changed");
        const auto client = s[0][1].as<long long>();
        const std::string currency = s[0][2].as<std::string>();
        const std::string cycle_text = s[0][3].as<std::string>();
        const int billing_day = s[0][4].as<int>();
        const auto quantity = s[0][5].as<long long>();
        const auto cycle = parse_billing_cycle(cycle_text);
        if (!cycle || *cycle == BillingCycle::kOneOff || s[0][7].is_null())
            throw InputError(sub_text +
                             " has no next period (one-off or ended): nothing to change");
        Plan old;
        old.service_id = s[0][8].as<long long>();
        old.code = s[0][9].as<std::string>();
        old.name = s[0][10].as<std::string>();
        old.taxable = s[0][11].as<bool>();
        if (!s[0][6].is_null()) old.price_override = s[0][6].as<long long>();

        Plan next = old;
        if (o.service_code) {
            auto v = tx.exec_params(
                "SELECT id, code, name, taxable FROM services WHERE code = $1 "
                "AND status = 'active'",
                *o.service_code);
            if (v.empty()) throw InputError("no active service '" + *o.service_code + "'");
            next.service_id = v[0][0].as<long long>();
            next.code = v[0][1].as<std::string>();
            next.name = v[0][2].as<std::string>();
            next.taxable = v[0][3].as<bool>();
            next.price_override.reset();  // the new service's own price, unless --price
        }
        if (o.price) {
            const Money price = Money::parse(*o.price, Currency::from_code(currency));
            if (price.is_negative()) throw InputError("change_plan: a price cannot be negative");
            next.price_override = price.minor_units();
        }
        const auto list_price = [&](const Plan& p) -> long long {
            if (p.price_override) return *p.price_override;
            auto price = service_price(tx, p.service_id, currency, cycle_text);
            if (!price)
                throw InputError("service '" + p.code + "' has no " + currency + " " + cycle_text +
                                 " price (give --price)");
            return *price;
        };
        next.unit = list_price(next);
        old.unit = old.price_override
                       ? *old.price_override
                       : service_price(tx, old.service_id, currency, cycle_text).value_or(0);
        if (next.service_id == old.service_id && next.price_override == old.price_override)
            throw InputError(sub_text + " already has this plan: nothing to change");

        const Date end = parse_date(s[0][7].as<std::string>(), "next due date");
        const auto period = BillingPeriod::ending(end, *cycle, billing_day);
        if (o.on < period.start)
            throw InputError("a plan change on " + on + " is before the current period's start (" +
                             format_date(period.start) + ") of " + sub_text);
        if (o.on > period.end)
            throw InputError("a plan change on " + on + " is after the current period of " +
                             sub_text + " (it ends on " + format_date(period.end) +
                             "): change on or before that day");
        auto billed = tx.exec_params(
            "SELECT amount FROM invoice_items WHERE kind = 'recurring' AND subscription_id = $1 "
            "AND period_start = $2::date",
            o.subscription_id, format_date(period.start));
        const auto cur = Currency::from_code(currency);
        PlanChange pc{Money::zero(cur), Money::zero(cur)};
        pc.period_days = period.days();
        long long old_amount = old.unit * quantity;
        if (!billed.empty() && o.on < period.end) {
            old_amount = billed[0][0].as<long long>();
            pc = change_plan(Money(old_amount, cur), Money(next.unit * quantity, cur), period, o.on,
                             o.rounding);
        }
        tx.exec_params0(
            "UPDATE subscriptions SET service_id = $2, price_override = $3, "
            "updated_at = now() WHERE id = $1",
            o.subscription_id, next.service_id, next.price_override);
        const std::string days =
            std::to_string(pc.remaining_days) + " of " + std::to_string(pc.period_days) + " days";
        const std::string end_text = format_date(period.end);
        nlohmann::json ids = nlohmann::json::array();
        add_line(tx, *run, o.subscription_id, client, currency, "proration_credit",
                 pc.credit.minor_units(), old.taxable,
                 old.name + ": unused " + days + " credited (plan change on " + on + ")", on,
                 end_text, ids);
        add_line(tx, *run, o.subscription_id, client, currency, "proration_charge",
                 pc.charge.minor_units(), next.taxable,
                 next.name + ": " + days + " (plan change on " + on + ")", on, end_text, ids);
        nlohmann::json out = {{"billing_run_id", *run},
                              {"subscription_id", o.subscription_id},
                              {"currency", currency},
                              {"change_date", on},
                              {"period_start", format_date(period.start)},
                              {"period_end", end_text},
                              {"period_days", pc.period_days},
                              {"remaining_days", pc.remaining_days},
                              {"billed", !billed.empty()},
                              {"old", {{"service", old.code}, {"amount", old_amount}}},
                              {"new", {{"service", next.code}, {"amount", next.unit * quantity}}},
                              {"credit", pc.credit.minor_units()},
                              {"charge", pc.charge.minor_units()},
                              {"net", pc.net().minor_units()},
                              {"adjustments", ids},
                              {"replayed", false},
                              {"dry_run", o.dry_run}};
        if (o.dry_run) {
            tx.abort();
            return out;
        }
        BillingRunClaim::finish(tx, *run, out);
        tx.commit();
        return out;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("changing the plan of " + sub_text);
    }
}

}  // namespace artistsaid::billing
