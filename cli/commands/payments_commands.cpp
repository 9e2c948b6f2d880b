// `artistsaid payments reconcile`: resolves payments, refunds and payouts whose outcome is
// unknown or pending by looking them up at their gateway (never by charging again).
// Run it from cron or a systemd timer (e.g. every 5 minutes), like `tick`.
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/table.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/runtime/run_engine.hpp"
#include "engine/core/digest.hpp"
#include "gateways/bank/bank_file_writer.hpp"
#include "gateways/bank/bank_payout_collector.hpp"
#include "gateways/bank/bank_transfer_batcher.hpp"
#include "gateways/bank/camt_statement_reader.hpp"
#include "gateways/bank/statement_matcher.hpp"
#include "gateways/gateway_setup.hpp"
#include "gateways/reconcile/payment_reconciler.hpp"
#include "plugins/billing/payment_recorder.hpp"
#include "plugins/common/plugin_environment.hpp"
#include "plugins/payments/bank_file_storage.hpp"
#include "plugins/payments/reconciled_payment_settler.hpp"
#include "plugins/storage/storage_step.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::cli {
namespace {

int payments_reconcile(Context& ctx) {
    if (ctx.config.database_url().empty())
        throw InputError("no database configured: set ARTISTSAID_DATABASE_URL or database_url");
    gateways::ReconcileOptions options;
    if (ctx.options.count("min-age")) {
        options.min_age = std::chrono::duration_cast<std::chrono::seconds>(
            parse_duration(ctx.options["min-age"].as<std::string>()));
    }
    if (ctx.options.count("limit")) {
        options.limit = ctx.options["limit"].as<int>();
        if (options.limit < 1) throw InputError("--limit must be at least 1", ErrorCode::kUsage);
    }
    std::string file;
    if (ctx.options.count("gateways")) {
        file = ctx.options["gateways"].as<std::string>();
    } else {
        file = plugins::PluginEnvironment::from_process().get_or("ARTISTSAID_GATEWAYS_FILE", "");
    }
    nlohmann::json settings =
        file.empty() ? nlohmann::json::object() : gateways::load_gateway_settings(file);
    runtime::RuntimeOptions secrets_holder;
    runtime::load_env_and_secrets(secrets_holder);
    gateways::GatewayRegistry registry;
    gateways::register_gateways(registry, settings, secrets_holder.secrets,
                                ctx.config.database_url());

    gateways::PaymentReconciler reconciler(ctx.config.database_url(), registry, options);
    payments::ReconciledPaymentSettler::attach(reconciler);  // a resolved charge settles its invoice
    auto report = reconciler.run_once();
    if (ctx.json) {
        auto changes = nlohmann::json::array();
        for (const auto& c : report.changes) {
            changes.push_back({{"table", c.table}, {"id", c.id},
                               {"idempotency_key", c.idempotency_key}, {"gateway", c.gateway},
                               {"old_status", c.old_status}, {"new_status", c.new_status},
                               {"provider_id", c.provider_id}, {"decline_code", c.decline_code},
                               {"note", c.note}, {"lookup_failed", c.lookup_failed}});
        }
        ctx.out << nlohmann::json{{"checked", report.checked}, {"resolved", report.resolved},
                                  {"unchanged", report.unchanged}, {"errors", report.errors},
                                  {"changes", changes}}
                       .dump()
                << '\n';
    } else {
        if (!report.changes.empty()) {
            Table table({"TABLE", "ID", "GATEWAY", "WAS", "NOW", "PROVIDER ID", "NOTE"});
            for (const auto& c : report.changes) {
                table.add_row({c.table, std::to_string(c.id), c.gateway, c.old_status,
                               c.new_status, c.provider_id, c.note});
            }
            table.print(ctx.out);
        }
        ctx.out << "checked " << report.checked << ", resolved " << report.resolved
                << ", still open " << report.unchanged << ", errors " << report.errors << '\n';
    }
    return report.errors > 0 ? static_cast<int>(ExitCode::kUnavailable) : 0;
}

nlohmann::json transaction_json(const gateways::StatementTransaction& t) {
    return {{"entry", t.entry_reference}, {"amount", t.amount.format_amount()},
            {"currency", std::string(t.amount.currency().code())},
            {"direction", t.credit ? "in" : "out"}, {"booking_date", t.booking_date},
            {"end_to_end_id", t.end_to_end_id}, {"remittance", t.remittance}};
}

// Records each matched incoming transfer as a payment of its invoice through the path every
// payment takes (billing::PaymentRecorder: invoice paid, overpayment as credit, ledger). The
// payment's key names the statement transaction, so importing a statement again records
// nothing twice. Returns how many payments were recorded.
int settle_invoices(const std::string& database_url, const gateways::StatementMatchReport& report) {
    int recorded = 0;
    auto conn = store::connect(database_url);
    try {
        pqxx::work tx(*conn);
        for (const auto& m : report.matched) {
            if (m.kind != "invoice" || m.already_settled) continue;
            const auto& t = m.transaction;
            std::string reference = t.entry_reference;
            if (!t.end_to_end_id.empty() && t.end_to_end_id != "NOTPROVIDED")
                reference += "/" + t.end_to_end_id;
            auto payment = billing::PaymentRecorder::record_succeeded(
                tx, m.id, t.amount.minor_units(), std::string(t.amount.currency().code()), "bank",
                reference, "camt:" + t.account_iban + ":" + reference);
            if (!payment.duplicate) ++recorded;
        }
        tx.commit();
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("settling invoices from a bank statement");
    }
    return recorded;
}

// The gateways configuration file: --gateways, else $ARTISTSAID_GATEWAYS_FILE, else the
// configuration file's gateways.file; "" when none.
std::string gateways_file(const Context& ctx) {
    if (ctx.options.count("gateways")) return ctx.options["gateways"].as<std::string>();
    return plugins::PluginEnvironment::from_process().get_or("ARTISTSAID_GATEWAYS_FILE", "");
}

// Where `--out` (or bank_transfer.output_dir) puts local copies: a directory takes every
// file under its own name; any other path is one file (the one this run wrote, else the
// latest of the date and currency), which needs --currency.
struct LocalCopyTarget {
    std::filesystem::path directory;
    std::string file_name;  // "" for a directory target
};

std::optional<LocalCopyTarget> local_copy_target(const Context& ctx, bool one_currency) {
    if (!ctx.options.count("out")) return std::nullopt;
    std::filesystem::path out = ctx.options["out"].as<std::string>();
    std::error_code ec;
    if (std::filesystem::is_directory(out, ec)) return LocalCopyTarget{out, ""};
    if (!one_currency)
        throw InputError("--out " + out.string() + " is not a directory: a single file needs "
                         "--currency (or give a directory for every currency's file)", ErrorCode::kUsage);
    auto parent = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(parent, ec) || out.filename().empty())
        throw InputError("--out " + out.string() + ": " + parent.string() + " is not a directory",
                         ErrorCode::kUsage);
    return LocalCopyTarget{parent, out.filename().string()};
}

int payments_payout_file(Context& ctx) {
    if (ctx.config.database_url().empty())
        throw InputError("no database configured: set ARTISTSAID_DATABASE_URL or database_url");
    if (!ctx.options.count("date"))
        throw InputError("--date YYYY-MM-DD is required (the requested execution date)", ErrorCode::kUsage);
    const std::string date = ctx.options["date"].as<std::string>();
    if (!gateways::BankTransferBatcher::is_execution_date(date))
        throw InputError("--date '" + date + "' is not a date (YYYY-MM-DD)", ErrorCode::kUsage);
    std::optional<Currency> currency;
    if (ctx.options.count("currency")) {
        auto code = ctx.options["currency"].as<std::string>();
        currency = Currency::find(code);
        if (!currency) throw InputError("--currency '" + code + "' is not an ISO 4217 currency", ErrorCode::kUsage);
    }
    const std::string file = gateways_file(ctx);
    if (file.empty())
        throw InputError("no gateways configuration: pass --gateways FILE, set "
                         "ARTISTSAID_GATEWAYS_FILE or gateways.file (it needs a bank_transfer section)");
    auto bank = gateways::bank_transfer_settings(gateways::load_gateway_settings(file),
                                                 ctx.config.database_url());
    if (!bank) throw InputError("gateways: " + file + " has no bank_transfer section");
    gateways::BankTransferGateway gateway(*bank);
    // Refused (exit 2, nothing handed over, put or written) before anything happens.
    auto copy_to = local_copy_target(ctx, currency.has_value());
    if (!bank->output_dir.empty() && !std::filesystem::is_directory(bank->output_dir))
        throw InputError("bank_transfer.output_dir " + bank->output_dir.string() + " is not a directory");
    payments::BankFileStorage storage(plugins::make_storage_backend(plugins::PluginEnvironment::from_process()));

    int handed = gateways::BankPayoutCollector(ctx.config.database_url()).collect(gateway, date, currency);
    auto result = gateways::BankTransferBatcher(gateway).write_files(storage, date, currency);

    // Local copies, from the stored objects (what the bank gets is what was recorded).
    std::map<long long, std::string> copies;  // file id → local path
    auto copy = [&](const gateways::BankTransferFile& f, const std::filesystem::path& directory,
                    const std::string& name) {
        if (f.storage_key.empty()) return;  // written to a directory before 0012
        auto content = storage.get(f.storage_key, std::chrono::system_clock::now() +
                                                      gateways::BankTransferBatcher::kStorageTimeout);
        if (!content)
            throw WorkError("bank files: " + f.storage_key + " is recorded but missing from the " +
                            f.storage_backend + " storage backend");
        if (sha256_hex(*content) != f.sha256)
            throw WorkError("bank files: " + f.storage_key + " does not match its recorded SHA-256");
        copies[f.id] = gateways::BankFileWriter(directory).write(name.empty() ? f.file_name : name, *content).string();
    };
    std::vector<const gateways::BankTransferFile*> all;
    for (const auto& f : result.written) all.push_back(&f);
    for (const auto& f : result.existing) all.push_back(&f);
    if (!bank->output_dir.empty())
        for (const auto& f : result.written) copy(f, bank->output_dir, "");
    if (copy_to && copy_to->file_name.empty()) {
        for (const auto* f : all) copy(*f, copy_to->directory, "");
    } else if (copy_to && !all.empty()) {
        const gateways::BankTransferFile* chosen = all.front();
        if (result.written.empty())
            for (const auto* f : all) if (f->sequence > chosen->sequence) chosen = f;
        copy(*chosen, copy_to->directory, copy_to->file_name);
    }

    auto file_json = [&](const gateways::BankTransferFile& f) {
        nlohmann::json j{{"id", f.id}, {"file_name", f.file_name},
                         {"storage_backend", f.storage_backend}, {"storage_key", f.storage_key},
                         {"sha256", f.sha256}, {"document_id", f.document_id},
                         {"execution_date", f.execution_date},
                         {"currency", std::string(f.control_sum.currency().code())},
                         {"sequence", f.sequence}, {"count", f.count},
                         {"control_sum", f.control_sum.format_amount()}};
        if (!f.path.empty()) j["path"] = f.path.string();
        if (auto it = copies.find(f.id); it != copies.end()) j["local_copy"] = it->second;
        return j;
    };
    if (ctx.json) {
        auto written = nlohmann::json::array(), existing = nlohmann::json::array();
        for (const auto& f : result.written) written.push_back(file_json(f));
        for (const auto& f : result.existing) existing.push_back(file_json(f));
        ctx.out << nlohmann::json{{"payouts_handed_over", handed}, {"written", written},
                                  {"existing", existing}}
                       .dump()
                << '\n';
        return 0;
    }
    auto where = [](const gateways::BankTransferFile& f) {
        return f.storage_key.empty() ? f.path.string() : f.storage_key + " (" + f.storage_backend + ")";
    };
    auto copied = [&](const gateways::BankTransferFile& f) {
        auto it = copies.find(f.id);
        return it == copies.end() ? std::string() : ", copied to " + it->second;
    };
    for (const auto& f : result.written)
        ctx.out << "wrote " << where(f) << ": " << f.count << " transfer(s), control sum "
                << f.control_sum.to_string() << ", sha256 " << f.sha256 << copied(f) << '\n';
    for (const auto& f : result.existing)
        ctx.out << "already written " << where(f) << ": " << f.count
                << " transfer(s), control sum " << f.control_sum.to_string() << copied(f) << '\n';
    if (result.written.empty()) ctx.out << "nothing new to file for " << date << '\n';
    return 0;
}

int payments_import_statement(Context& ctx) {
    if (ctx.config.database_url().empty())
        throw InputError("no database configured: set ARTISTSAID_DATABASE_URL or database_url");
    const std::string path = ctx.args.at(0);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("cannot read " + path);
    std::stringstream text;
    text << in.rdbuf();
    auto transactions = gateways::CamtStatementReader::read(text.str());
    gateways::StatementMatcher matcher(ctx.config.database_url());
    auto report = matcher.match(transactions);
    int paid = ctx.options.count("apply") ? matcher.mark_payouts_paid(report) : 0;
    int settled = ctx.options.count("apply") ? settle_invoices(ctx.config.database_url(), report) : 0;
    if (ctx.json) {
        auto matched = nlohmann::json::array(), unmatched = nlohmann::json::array();
        for (const auto& m : report.matched) {
            auto j = transaction_json(m.transaction);
            j["kind"] = m.kind;
            j["id"] = m.id;
            j["reference"] = m.reference;
            j["already_settled"] = m.already_settled;
            matched.push_back(j);
        }
        for (const auto& u : report.unmatched) {
            auto j = transaction_json(u.transaction);
            j["reason"] = u.reason;
            unmatched.push_back(j);
        }
        ctx.out << nlohmann::json{{"matched", matched}, {"unmatched", unmatched},
                                  {"not_booked", report.not_booked}, {"payouts_marked_paid", paid},
                                  {"invoices_settled", settled}}
                       .dump()
                << '\n';
        return 0;
    }
    Table matched({"ENTRY", "AMOUNT", "MATCHED", "REFERENCE"});
    for (const auto& m : report.matched) {
        matched.add_row({m.transaction.entry_reference, m.transaction.amount.to_string(),
                         m.kind + " " + std::to_string(m.id) + (m.already_settled ? " (settled)" : ""),
                         m.reference});
    }
    matched.print(ctx.out);
    if (!report.unmatched.empty()) {
        ctx.out << "\nnot matched:\n";
        Table unmatched({"ENTRY", "AMOUNT", "DIRECTION", "REASON"});
        for (const auto& u : report.unmatched) {
            unmatched.add_row({u.transaction.entry_reference, u.transaction.amount.to_string(),
                               u.transaction.credit ? "in" : "out", u.reason});
        }
        unmatched.print(ctx.out);
    }
    ctx.out << report.matched.size() << " matched, " << report.unmatched.size()
            << " not matched, " << report.not_booked << " not booked";
    if (ctx.options.count("apply"))
        ctx.out << "; " << paid << " payout(s) marked paid; " << settled << " invoice(s) settled";
    ctx.out << '\n';
    return 0;
}

}  // namespace

Command payments_commands() {
    Command group;
    group.name = "payments";
    group.summary =
        "Payments at the gateways: reconcile unknown and pending outcomes, import bank "
        "statements, write bank payout files, keep payees' bank accounts.";
    Command reconcile;
    reconcile.name = "reconcile";
    reconcile.summary =
        "Look up every payment, refund and payout left unknown or pending at its gateway (by "
        "idempotency key) and record the outcome; nothing is charged again. Exit 3 if a "
        "gateway could not be asked.";
    reconcile.add_options = [](po::options_description& d) {
        d.add_options()("gateways", po::value<std::string>()->value_name("FILE"),
                        "gateways configuration (default: $ARTISTSAID_GATEWAYS_FILE or gateways.file; "
                        "without one only the sandbox)")(
            "min-age", po::value<std::string>()->value_name("DURATION"),
            "leave rows younger than this alone, their call may be in flight (default 60s)")(
            "limit", po::value<int>()->value_name("N"), "rows per run (default 500)");
    };
    reconcile.run = payments_reconcile;
    Command import_statement;
    import_statement.name = "import-statement";
    import_statement.summary =
        "Read a camt.053 statement or camt.054 notification and match its booked entries to "
        "open invoices (by the invoice number in the remittance information) and bank payouts "
        "(by EndToEndId); list what did not match and why. Changes nothing unless --apply.";
    import_statement.args_usage = "FILE";
    import_statement.min_args = import_statement.max_args = 1;
    import_statement.add_options = [](po::options_description& d) {
        d.add_options()("apply",
                        "record the matched bank payouts as paid and the matched incoming "
                        "transfers as payments of their invoices");
    };
    import_statement.run = payments_import_statement;
    Command payout_file;
    payout_file.name = "payout-file";
    payout_file.summary =
        "Hand the due bank payouts (method bank, status pending, to the payee's active "
        "account, see 'payments payees') to the bank_transfer gateway and write every "
        "transfer not yet filed into one pain.001 file per currency for the execution date, "
        "stored through the storage backend (storage.backend: local or s3) under "
        "bank/pain001/<date>/<currency>/ and recorded with its SHA-256 (bank_transfer_files "
        "and a bank_file document); prints each file's key, count, control sum and checksum. "
        "Running it again writes nothing new. Exit 2 (nothing written) for a bad date, "
        "currency, IBAN, BIC or storage configuration.";
    payout_file.add_options = [](po::options_description& d) {
        d.add_options()("date", po::value<std::string>()->value_name("YYYY-MM-DD"),
                        "requested execution date")(
            "currency", po::value<std::string>()->value_name("CCY"), "only this currency")(
            "gateways", po::value<std::string>()->value_name("FILE"),
            "gateways configuration with a bank_transfer section (default: "
            "$ARTISTSAID_GATEWAYS_FILE or gateways.file)")(
            "out", po::value<std::string>()->value_name("PATH"),
            "also copy the files to this directory (every file of the date, under its own "
            "name) or, with --currency, to this file (the one written now, else the latest); "
            "an existing copy with other content is refused");
    };
    payout_file.run = payments_payout_file;
    group.children = {reconcile, import_statement, payout_file, payees_commands()};
    return group;
}

}  // namespace artistsaid::cli
