#include "cli/demo/demo_summary.hpp"

#include <ostream>
#include <pqxx/pqxx>

#include "engine/core/money.hpp"
#include "plugins/billing/ledger_verifier.hpp"

namespace artistsaid::cli {
namespace {

nlohmann::json outputs_of(pqxx::transaction_base& tx, const std::string& run_id, const std::string& step) {
    auto rows = tx.exec_params(
        "SELECT status, coalesce(outputs, 'null'::jsonb)::text FROM step_runs "
        "WHERE run_id = $1::uuid AND step_id = $2 AND item_index = -1",
        run_id, step);
    if (rows.empty()) return nullptr;
    auto out = nlohmann::json::parse(rows[0][1].as<std::string>());
    if (out.is_null()) out = nlohmann::json::object();
    if (out.is_object()) out["_status"] = rows[0][0].as<std::string>();
    return out;
}

std::string money(std::int64_t minor, const std::string& currency) {
    return Money(minor, Currency::from_code(currency)).to_string();
}

long long number(const nlohmann::json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<long long>() : 0;
}

}  // namespace

nlohmann::json collect_demo_summary(pqxx::connection& conn, const std::string& run_id) {
    nlohmann::json s;
    {
        pqxx::read_transaction tx(conn);
        auto run = tx.exec_params1(
            "SELECT status, extract(epoch FROM coalesce(finished_at, now()) - created_at)::float8::text, "
            "inputs->>'as_of' FROM workflow_runs WHERE id = $1::uuid",
            run_id);
        s["run"] = {{"id", run_id}, {"status", run[0].as<std::string>()},
                    {"seconds", std::stod(run[1].as<std::string>())},
                    {"as_of", run[2].is_null() ? "" : run[2].as<std::string>()}};

        const auto invoices = outputs_of(tx, run_id, "invoices");
        nlohmann::json by_currency = nlohmann::json::object();
        for (const auto& r : tx.exec(
                 "SELECT currency, count(*), sum(total)::bigint, sum(amount_paid)::bigint, "
                 "sum(credit_applied)::bigint, count(*) FILTER (WHERE status = 'paid'), "
                 "count(*) FILTER (WHERE status = 'unpaid') FROM invoices "
                 "WHERE status IN ('unpaid', 'paid') GROUP BY currency ORDER BY currency")) {
            const std::string c = r[0].as<std::string>();
            by_currency[c] = {{"invoices", r[1].as<long long>()},
                              {"total", money(r[2].as<std::int64_t>(), c)},
                              {"paid", money(r[3].as<std::int64_t>(), c)},
                              {"credit_applied", money(r[4].as<std::int64_t>(), c)},
                              {"paid_invoices", r[5].as<long long>()},
                              {"unpaid_invoices", r[6].as<long long>()}};
        }
        nlohmann::json run_totals = nlohmann::json::object();
        if (invoices.is_object() && invoices.contains("totals") && invoices["totals"].is_object()) {
            for (const auto& [c, t] : invoices["totals"].items())
                run_totals[c] = {{"invoices", number(t, "invoices")},
                                 {"total", money(number(t, "total"), c)},
                                 {"balance_due", money(number(t, "balance_due"), c)}};
        }
        s["dry_run"] = invoices.is_object() && invoices.value("dry_run", false);
        s["invoices"] = {{"this_run", number(invoices, "invoice_count")},
                         {"this_run_by_currency", run_totals},
                         {"to_collect", number(invoices, "to_collect_count")},
                         {"all_by_currency", by_currency}};

        nlohmann::json charged = {{"succeeded", 0}, {"declined", 0}, {"unknown", 0},
                                  {"failed", 0}, {"other", 0}};
        nlohmann::json declines = nlohmann::json::object();
        auto add = [](nlohmann::json& counts, const std::string& key, long long n) {
            counts[key] = counts.value(key, 0LL) + n;
        };
        // One payments.charge item per invoice, or payments.charge_batch items of many.
        for (const auto& r : tx.exec_params(
                 "SELECT coalesce(outputs->>'status', status), coalesce(outputs->>'decline_code', ''), "
                 "count(*) FROM step_runs WHERE run_id = $1::uuid AND step_id = 'charge' "
                 "AND item_index >= 0 GROUP BY 1, 2 "
                 "UNION ALL SELECT s.key, '', sum(s.value::bigint)::bigint FROM step_runs sr, "
                 "jsonb_each_text(coalesce(sr.outputs->'statuses', '{}')) s WHERE sr.run_id = "
                 "$1::uuid AND sr.step_id = 'charge_batches' AND sr.item_index >= 0 GROUP BY 1",
                 run_id)) {
            const std::string st = r[0].as<std::string>();
            const long long n = r[2].as<long long>();
            add(charged, charged.contains(st) ? st : "other", n);
            if (st == "declined" && !r[1].as<std::string>().empty()) add(declines, r[1].as<std::string>(), n);
        }
        for (const auto& r : tx.exec_params(
                 "SELECT d.key, sum(d.value::bigint)::bigint FROM step_runs sr, "
                 "jsonb_each_text(coalesce(sr.outputs->'decline_codes', '{}')) d WHERE sr.run_id = "
                 "$1::uuid AND sr.step_id = 'charge_batches' AND sr.item_index >= 0 GROUP BY 1",
                 run_id))
            add(declines, r[0].as<std::string>(), r[1].as<long long>());
        charged["decline_codes"] = declines;
        nlohmann::json by_status = nlohmann::json::object();
        for (const auto& r : tx.exec("SELECT status, count(*) FROM payments GROUP BY status ORDER BY status"))
            by_status[r[0].as<std::string>()] = r[1].as<long long>();
        const auto reconcile = outputs_of(tx, run_id, "reconcile");
        s["payments"] = {{"this_run", charged},
                         {"reconciled", number(reconcile, "resolved")},
                         {"all_by_status", by_status}};

        const auto fees = outputs_of(tx, run_id, "late_fees");
        const auto dunning = outputs_of(tx, run_id, "dunning");
        s["dunning"] = {{"late_fees", number(fees, "fees_applied")},
                        {"notices", number(dunning, "notice_count")},
                        {"suspended", number(dunning, "suspended")},
                        {"terminated", number(dunning, "terminated")},
                        {"unsuspended", number(dunning, "unsuspended")}};

        const auto due = outputs_of(tx, run_id, "documents_due");
        const auto docs = outputs_of(tx, run_id, "documents");
        const auto emails = outputs_of(tx, run_id, "emails");
        auto stored = tx.exec1(
            "SELECT count(*) FILTER (WHERE kind = 'invoice_html'), "
            "count(*) FILTER (WHERE kind = 'receipt_html') FROM documents WHERE owner_kind = 'invoice'");
        s["documents"] = {{"this_run_invoices", number(due, "invoices")},
                          {"this_run_receipts", number(due, "receipts")},
                          {"this_run_stored", number(docs, "succeeded_count")},
                          {"this_run_failed", number(docs, "failed_count")},
                          {"all_invoices", stored[0].as<long long>()},
                          {"all_receipts", stored[1].as<long long>()}};
        const auto reminders = outputs_of(tx, run_id, "reminders");
        s["emails"] = {{"this_run_sent", number(emails, "succeeded_count")},
                       {"this_run_failed", number(emails, "failed_count")},
                       {"this_run_reminders", number(reminders, "succeeded_count")},
                       {"this_run_reminders_failed", number(reminders, "failed_count")}};

        const auto commissions = outputs_of(tx, run_id, "commissions");
        nlohmann::json ctotals = nlohmann::json::object();
        if (commissions.is_object() && commissions.contains("totals") && commissions["totals"].is_object()) {
            for (const auto& [c, t] : commissions["totals"].items())
                ctotals[c] = {{"gross", money(number(t, "gross"), c)},
                              {"platform", money(number(t, "platform"), c)},
                              {"affiliate", money(number(t, "affiliate"), c)},
                              {"provider", money(number(t, "provider"), c)}};
        }
        s["commissions"] = {{"orders_split", number(commissions, "split")},
                            {"affiliate_cleared", number(commissions, "cleared")},
                            {"totals", ctotals}};
    }
    const auto ledger = billing::LedgerVerifier().verify(conn);
    nlohmann::json failed = nlohmann::json::array();
    for (const auto& check : ledger["checks"])
        if (check.value("failures", 0LL) > 0) failed.push_back(check.value("name", ""));
    s["ledger"] = {{"verified", ledger.value("ok", false)}, {"failed_checks", failed}};
    return s;
}

void print_demo_summary(std::ostream& out, const nlohmann::json& s) {
    const auto& run = s["run"];
    out << "\nBilling cycle for " << run["as_of"].get<std::string>() << ": run " << run["id"].get<std::string>()
        << " " << run["status"].get<std::string>() << " in " << static_cast<long long>(run["seconds"].get<double>() * 10) / 10.0
        << " s\n\n";
    const auto& inv = s["invoices"];
    if (s.value("dry_run", false)) {
        out << "Dry run: nothing was written and no gateway was called.\n"
            << "Invoices      " << inv["this_run"] << " would be created";
        for (const auto& [c, t] : inv["this_run_by_currency"].items())
            out << "; " << c << " " << t["invoices"] << " totalling " << t["total"].get<std::string>();
        out << "\nCharges       " << inv["to_collect"] << " invoices would be charged:";
        for (const auto& [c, t] : inv["this_run_by_currency"].items())
            out << " " << c << " " << t["balance_due"].get<std::string>();
        out << "\n";
        return;
    }
    out << "Invoices      " << inv["this_run"] << " created by this run";
    for (const auto& [c, t] : inv["this_run_by_currency"].items())
        out << "; " << c << " " << t["invoices"] << " totalling " << t["total"].get<std::string>();
    out << "\n              all issued invoices:\n";
    for (const auto& [c, t] : inv["all_by_currency"].items())
        out << "                " << c << "  " << t["invoices"] << " invoices, total " << t["total"].get<std::string>()
            << ", paid " << t["paid"].get<std::string>() << ", credit applied "
            << t["credit_applied"].get<std::string>() << " (" << t["paid_invoices"] << " paid, "
            << t["unpaid_invoices"] << " unpaid)\n";
    const auto& pay = s["payments"];
    const auto& charged = pay["this_run"];
    out << "Payments      " << charged["succeeded"] << " succeeded, " << charged["declined"] << " declined";
    if (!charged["decline_codes"].empty()) {
        out << " (";
        bool first = true;
        for (const auto& [code, n] : charged["decline_codes"].items()) {
            out << (first ? "" : ", ") << code << " " << n;
            first = false;
        }
        out << ")";
    }
    out << ", " << charged["unknown"] << " unknown → " << pay["reconciled"]
        << " reconciled by lookup (no second charge)";
    if (charged["failed"].get<long long>() + charged["other"].get<long long>() > 0)
        out << ", " << charged["failed"].get<long long>() + charged["other"].get<long long>() << " failed";
    out << "\n";
    const auto& d = s["dunning"];
    out << "Dunning       " << d["late_fees"] << " late fees, " << d["notices"] << " notices, "
        << d["suspended"] << " suspended, " << d["terminated"] << " terminated, " << d["unsuspended"]
        << " unsuspended\n";
    const auto& docs = s["documents"];
    out << "Documents     " << docs["this_run_stored"] << " stored by this run (" << docs["this_run_invoices"]
        << " invoices, " << docs["this_run_receipts"] << " receipts); " << docs["all_invoices"] << " invoices and "
        << docs["all_receipts"] << " receipts in all\n";
    const auto& mail = s["emails"];
    out << "Emails        " << mail["this_run_sent"] << " invoices and receipts sent, " << mail["this_run_reminders"]
        << " reminders sent";
    const long long failed = mail["this_run_failed"].get<long long>() + mail["this_run_reminders_failed"].get<long long>();
    if (failed > 0) out << ", " << failed << " failed";
    out << "\n";
    const auto& com = s["commissions"];
    out << "Commissions   " << com["orders_split"] << " orders split, " << com["affiliate_cleared"]
        << " affiliate commissions cleared\n";
    for (const auto& [c, t] : com["totals"].items())
        out << "                " << c << "  gross " << t["gross"].get<std::string>() << ": platform "
            << t["platform"].get<std::string>() << ", affiliates " << t["affiliate"].get<std::string>()
            << ", providers " << t["provider"].get<std::string>() << "\n";
    const auto& ledger = s["ledger"];
    out << "Ledger        " << (ledger["verified"].get<bool>() ? "verified: every transaction balances, every paid "
                                                                 "invoice is settled, no payment counted twice"
                                                               : "VERIFICATION FAILED: " + ledger["failed_checks"].dump())
        << "\n";
}

}  // namespace artistsaid::cli
