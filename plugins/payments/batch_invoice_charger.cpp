#include "plugins/payments/batch_invoice_charger.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <set>

#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"
#include "engine/store/database.hpp"
#include "engine/store/pg_array_literal.hpp"
#include "plugins/billing/batch_payment_recorder.hpp"
#include "plugins/payments/charge_outputs.hpp"
#include "plugins/payments/invoice_charger.hpp"

namespace artistsaid::payments {
namespace {

constexpr const char* kKeys = "(SELECT jsonb_array_elements_text($1::jsonb))";

// InvoiceCharger's outputs of the payments under `keys`, by key.
std::map<std::string, nlohmann::json> outputs_by_key(pqxx::transaction_base& tx,
                                                     const nlohmann::json& keys) {
    std::map<std::string, nlohmann::json> out;
    if (keys.empty()) return out;
    for (const auto& row : tx.exec_params(
             std::string("SELECT p.idempotency_key, ") + kPaymentOutputColumns +
                 " FROM payments p JOIN invoices i ON i.id = p.invoice_id "
                 "WHERE p.idempotency_key IN " + kKeys,
             keys.dump()))
        out[row[0].as<std::string>()] = payment_row_outputs(row, 1);
    return out;
}

// An item about to be charged (after step 1).
struct Planned {
    std::size_t index = 0;
    std::int64_t client_id = 0;
    std::string currency;
    std::string number;
    gateways::PaymentGateway* gateway = nullptr;
    std::int64_t method_id = 0;
    std::string method_ref;
    std::string customer_ref;
    std::int64_t payment_id = 0;  // after the write-ahead
    std::int64_t amount = 0;
};

void check_items(const std::vector<BatchChargeItem>& items) {
    if (items.size() > BatchInvoiceCharger::kMaxBatch)
        throw InputError("payments.charge_batch: at most " +
                         std::to_string(BatchInvoiceCharger::kMaxBatch) + " invoices per batch");
    std::set<std::int64_t> invoices;
    std::set<std::string> keys;
    for (const auto& item : items) {
        if (item.invoice_id <= 0)
            throw InputError("payments.charge_batch: invoice_id must be positive");
        if (item.idempotency_key.empty() || item.idempotency_key.size() > 255)
            throw InputError("payments.charge_batch: every item needs a key of 1 to 255 characters");
        if (!invoices.insert(item.invoice_id).second)
            throw InputError("payments.charge_batch: invoice " + std::to_string(item.invoice_id) +
                             " is in the batch twice");
        if (!keys.insert(item.idempotency_key).second)
            throw InputError("payments.charge_batch: key '" + item.idempotency_key +
                             "' is in the batch twice");
    }
}

}  // namespace

std::vector<nlohmann::json> BatchInvoiceCharger::charge(const std::vector<BatchChargeItem>& items,
                                                        const BatchChargeOptions& options) const {
    check_items(items);
    try {
        return charge_checked(items, options);
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("charging a batch of invoices");
    }
}

std::vector<nlohmann::json> BatchInvoiceCharger::charge_checked(
    const std::vector<BatchChargeItem>& items, const BatchChargeOptions& options) const {
    std::vector<nlohmann::json> out(items.size());
    if (items.empty()) return out;
    using Clock = std::chrono::steady_clock;
    auto phase_start = Clock::now();
    // Adds the time since the previous phase ended to `slot` (when timings are wanted).
    auto phase_done = [&](double BatchChargeTimings::*slot) {
        const auto now = Clock::now();
        if (options.timings)
            options.timings->*slot += std::chrono::duration<double, std::milli>(now - phase_start).count();
        phase_start = now;
    };
    store::ConnectionPool::Lease own;
    pqxx::connection* conn = options.connection;
    if (conn == nullptr) {
        own = context_.connect();
        conn = own.get();
    }

    nlohmann::json all = nlohmann::json::array();
    for (std::size_t i = 0; i < items.size(); ++i)
        all.push_back({{"i", i}, {"invoice_id", items[i].invoice_id},
                       {"key", items[i].idempotency_key}, {"day", items[i].collection_day}});

    // 1. What exists, in one read-only transaction.
    std::vector<std::size_t> resume;  // an earlier attempt under the key is unknown or pending
    std::vector<Planned> planned;
    {
        pqxx::read_transaction tx(*conn);
        nlohmann::json earlier_keys = nlohmann::json::array();
        for (const auto& r : tx.exec_params(
                 "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS "
                 "x(i int, invoice_id bigint, key text, day text)) "
                 "SELECT x.i, p.idempotency_key, p.invoice_id, p.status, true AS own FROM x "
                 "JOIN payments p ON p.idempotency_key = x.key UNION ALL "
                 "SELECT x.i, p.idempotency_key, p.invoice_id, p.status, false FROM x "
                 "JOIN payments p ON p.invoice_id = x.invoice_id AND "
                 "p.collection_day = NULLIF(x.day, '')::date AND p.idempotency_key <> x.key "
                 "ORDER BY 1, 5 DESC",
                 all.dump())) {
            const auto i = r[0].as<std::size_t>();
            if (!out[i].is_null() || std::find(resume.begin(), resume.end(), i) != resume.end())
                continue;  // the row under the item's own key comes first and decides
            const bool own_key = r[4].as<bool>();
            if (own_key && r[2].as<std::int64_t>() != items[i].invoice_id)
                throw InputError("payment key '" + items[i].idempotency_key + "' belongs to invoice " +
                                 r[2].as<std::string>() + ", not " +
                                 std::to_string(items[i].invoice_id));
            const std::string status = r[3].as<std::string>();
            if (own_key && (status == "unknown" || status == "pending")) {
                resume.push_back(i);
                continue;
            }
            // A final outcome under the key, or the day's attempt under another key: reported.
            out[i] = r[1].as<std::string>();
            earlier_keys.push_back(r[1].as<std::string>());
        }
        auto found = outputs_by_key(tx, earlier_keys);
        for (auto& o : out) {
            if (!o.is_string()) continue;
            o = found.at(o.get<std::string>());
            o["replayed"] = true;
        }

        const auto& registry = context_.gateways();
        std::map<std::int64_t, pqxx::row> invoices;
        auto rows = tx.exec_params(
            "SELECT i.id, i.client_id, i.currency, i.status, i.total - i.credit_applied - "
            "i.amount_paid, coalesce(i.number, '') FROM invoices i WHERE i.id IN "
            "(SELECT (x->>'invoice_id')::bigint FROM jsonb_array_elements($1::jsonb) x)",
            all.dump());
        for (const auto& r : rows) invoices.emplace(r[0].as<std::int64_t>(), r);
        for (std::size_t i = 0; i < items.size(); ++i) {
            auto it = invoices.find(items[i].invoice_id);
            if (it == invoices.end())
                throw InputError("payments.charge_batch: no invoice " +
                                     std::to_string(items[i].invoice_id),
                                 ErrorCode::kNotFound);
            if (!out[i].is_null() || std::find(resume.begin(), resume.end(), i) != resume.end())
                continue;
            const auto& r = it->second;
            const std::string status = r[3].as<std::string>();
            const std::string currency = r[2].as<std::string>();
            if (status == "paid" || (status == "unpaid" && r[4].as<std::int64_t>() <= 0)) {
                out[i] = no_charge(items[i].invoice_id, "nothing_due", currency, status == "paid");
                continue;
            }
            if (status != "unpaid") {
                out[i] = no_charge(items[i].invoice_id, "not_collectable", currency, false);
                continue;
            }
            Planned p;
            p.index = i;
            p.client_id = r[1].as<std::int64_t>();
            p.currency = currency;
            p.number = r[5].as<std::string>();
            try {
                p.gateway = &registry.choose(p.client_id, Currency::from_code(currency));
            } catch (const InputError& e) {
                out[i] = no_charge(items[i].invoice_id, "error", currency, false);
                out[i]["error"] = logging::redact(e.what());
                continue;
            }
            planned.push_back(std::move(p));
        }

        nlohmann::json wanted = nlohmann::json::array();
        for (const auto& p : planned)
            wanted.push_back({{"client_id", p.client_id}, {"gateway", std::string(p.gateway->name())}});
        std::map<std::pair<std::int64_t, std::string>, pqxx::row> methods;
        auto pm = tx.exec_params(
            "SELECT DISTINCT ON (m.client_id, m.gateway) m.client_id, m.gateway, m.id, "
            "m.gateway_reference, coalesce(m.gateway_customer_reference, '') FROM payment_methods m "
            "JOIN (SELECT DISTINCT client_id, gateway FROM jsonb_to_recordset($1::jsonb) AS "
            "w(client_id bigint, gateway text)) w ON w.client_id = m.client_id AND w.gateway = m.gateway "
            "WHERE m.status = 'active' ORDER BY m.client_id, m.gateway, m.is_default DESC, m.id",
            wanted.dump());
        for (const auto& r : pm) methods.emplace(std::pair(r[0].as<std::int64_t>(), r[1].as<std::string>()), r);
        std::vector<Planned> chargeable;
        for (auto& p : planned) {
            auto it = methods.find({p.client_id, std::string(p.gateway->name())});
            if (it == methods.end()) {
                out[p.index] = no_charge(items[p.index].invoice_id, "no_payment_method", p.currency, false);
                out[p.index]["gateway"] = std::string(p.gateway->name());
                continue;
            }
            p.method_id = it->second[2].as<std::int64_t>();
            p.method_ref = it->second[3].as<std::string>();
            p.customer_ref = it->second[4].as<std::string>();
            chargeable.push_back(std::move(p));
        }
        planned = std::move(chargeable);
    }

    phase_done(&BatchChargeTimings::read_ms);

    // 2. Write-ahead: one statement, in invoice order (concurrent batches queue on the same
    // unique keys in the same order: no deadlock). The amount is what is due at insert time.
    if (!planned.empty()) {
        store::PgArrayLiteral invoice_ids, method_ids, gateway_names, keys, days;
        for (const auto& p : planned) {
            invoice_ids.add(static_cast<long long>(items[p.index].invoice_id));
            method_ids.add(static_cast<long long>(p.method_id));
            gateway_names.add(p.gateway->name());
            keys.add(items[p.index].idempotency_key);
            days.add_or_null(items[p.index].collection_day);
        }
        std::map<std::string, std::pair<std::int64_t, std::int64_t>> inserted;
        pqxx::work tx(*conn);
        for (const auto& r : tx.exec_params(
                 "INSERT INTO payments (invoice_id, payment_method_id, gateway, idempotency_key, "
                 "amount, currency, status, collection_day) SELECT x.invoice_id, x.method_id, "
                 "x.gateway, x.key, i.total - i.credit_applied - i.amount_paid, i.currency, "
                 "'unknown', x.day FROM unnest($1::bigint[], $2::bigint[], $3::text[], "
                 "$4::text[], $5::date[]) AS x(invoice_id, method_id, gateway, key, day) "
                 "JOIN invoices i ON i.id = x.invoice_id WHERE i.status = 'unpaid' AND "
                 "i.total - i.credit_applied - i.amount_paid > 0 ORDER BY x.invoice_id "
                 "ON CONFLICT DO NOTHING RETURNING idempotency_key, id, amount",
                 invoice_ids.release(), method_ids.release(), gateway_names.release(),
                 keys.release(), days.release()))
            inserted[r[0].as<std::string>()] = {r[1].as<std::int64_t>(), r[2].as<std::int64_t>()};
        tx.commit();
        std::vector<Planned> written;
        for (auto& p : planned) {
            auto it = inserted.find(items[p.index].idempotency_key);
            if (it == inserted.end()) {
                out[p.index] = no_charge(items[p.index].invoice_id, "in_progress", p.currency, false);
                out[p.index]["gateway"] = std::string(p.gateway->name());
                out[p.index]["error"] = "invoice " + std::to_string(items[p.index].invoice_id) +
                                        " is being charged by another attempt (or changed "
                                        "meanwhile); a retry looks it up";
                continue;
            }
            p.payment_id = it->second.first;
            p.amount = it->second.second;
            written.push_back(std::move(p));
        }
        planned = std::move(written);
    }

    phase_done(&BatchChargeTimings::write_ahead_ms);

    // 3. The gateway calls, one batch per gateway.
    std::map<gateways::PaymentGateway*, std::vector<std::size_t>> by_gateway;
    for (std::size_t k = 0; k < planned.size(); ++k) by_gateway[planned[k].gateway].push_back(k);
    std::vector<gateways::GatewayResult> results(planned.size());
    for (const auto& [gateway, ks] : by_gateway) {
        std::vector<gateways::ChargeRequest> requests;
        for (auto k : ks) {
            const auto& p = planned[k];
            const auto& item = items[p.index];
            gateways::ChargeRequest r;
            r.idempotency_key = item.idempotency_key;
            r.deadline = options.deadline;
            r.amount = Money(p.amount, Currency::from_code(p.currency));
            r.customer_reference = p.customer_ref;
            r.payment_method_reference = p.method_ref;
            r.description = "Invoice " + (p.number.empty() ? std::to_string(item.invoice_id) : p.number);
            r.metadata = {{"invoice_id", std::to_string(item.invoice_id)},
                          {"payment_id", std::to_string(p.payment_id)}};
            requests.push_back(std::move(r));
        }
        std::vector<gateways::GatewayResult> answers;
        try {
            answers = gateway->charge_batch(requests, options.gateway_parallel);
        } catch (const std::exception& e) {
            // The batch may or may not have reached the provider: every row stays unknown.
            answers.assign(requests.size(), gateways::GatewayResult{});
            for (auto& a : answers) a.error = logging::redact(e.what());
        }
        if (answers.size() != requests.size())
            throw WorkError("gateway " + std::string(gateway->name()) + " answered " +
                            std::to_string(answers.size()) + " of " +
                            std::to_string(requests.size()) + " charges");
        for (std::size_t j = 0; j < ks.size(); ++j) results[ks[j]] = std::move(answers[j]);
    }

    phase_done(&BatchChargeTimings::gateway_ms);

    // 4. Every outcome in one transaction; only rows still unknown are ours to settle.
    if (!planned.empty()) {
        std::vector<billing::PaymentOutcome> outcomes;
        nlohmann::json keys = nlohmann::json::array();
        for (std::size_t k = 0; k < planned.size(); ++k) {
            const auto& res = results[k];
            billing::PaymentOutcome o;
            o.payment_id = planned[k].payment_id;
            o.status = payment_status(res.status);
            o.reference = res.provider_id;
            o.decline_code = res.decline_code;
            o.error = res.error;
            if (res.status == gateways::OperationStatus::kRequiresAction && o.error.empty())
                o.error = "requires_action: the customer must authenticate (off-session charge)";
            outcomes.push_back(std::move(o));
            keys.push_back(items[planned[k].index].idempotency_key);
        }
        pqxx::work tx(*conn);
        billing::BatchPaymentRecorder::record_outcomes(tx, outcomes);
        auto recorded = outputs_by_key(tx, keys);
        tx.commit();
        for (const auto& p : planned) {
            auto& o = out[p.index];
            o = recorded.at(items[p.index].idempotency_key);
            o["charged"] = true;
        }
    }

    // Earlier attempts left unknown or pending: the single path looks each up first.
    InvoiceCharger single(context_);
    for (auto i : resume) {
        ChargeOptions c;
        c.invoice_id = items[i].invoice_id;
        c.idempotency_key = items[i].idempotency_key;
        c.collection_day = items[i].collection_day;
        c.deadline = options.deadline;
        try {
            out[i] = single.charge(c);
        } catch (const std::exception& e) {
            // The rest of the batch is committed: this item's failure is its output.
            out[i] = no_charge(items[i].invoice_id, "error", "", false);
            out[i]["error"] = logging::redact(e.what());
        }
    }
    phase_done(&BatchChargeTimings::outcome_ms);
    return out;
}

}  // namespace artistsaid::payments
