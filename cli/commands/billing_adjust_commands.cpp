// `artistsaid billing refund|credit-note|change-plan|refund-credit|void-credit-note`: money
// back through the gateway with a credit note, a credit note without money movement, a plan
// change with proration, client credit paid back through the gateway, and a credit note
// voided.
// Amounts are decimal text read exactly in the invoice's (subscription's) currency exponent
// ("12.50" USD, "1200" JPY); bad input exits 2 before anything is written.
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "cli/commands/billing_cli_support.hpp"
#include "cli/commands/registry.hpp"
#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/core/money.hpp"
#include "engine/runtime/run_engine.hpp"
#include "gateways/gateway_setup.hpp"
#include "plugins/billing/credit_note_issuer.hpp"
#include "plugins/billing/credit_note_voider.hpp"
#include "plugins/billing/plan_changer.hpp"
#include "plugins/common/plugin_environment.hpp"
#include "plugins/payments/credit_refund_issuer.hpp"
#include "plugins/payments/refund_issuer.hpp"

namespace artistsaid::cli {
namespace {

long long positive_id(Context& ctx, const char* flag) {
    if (!ctx.options.count(flag))
        throw InputError(std::string("--") + flag + " N is required", ErrorCode::kUsage);
    const auto id = ctx.options[flag].as<long long>();
    if (id <= 0) throw InputError(std::string("--") + flag + " must be a positive id");
    return id;
}

std::string text_option(Context& ctx, const char* flag, const std::string& fallback) {
    return ctx.options.count(flag) ? ctx.options[flag].as<std::string>() : fallback;
}

// The invoice's currency, to read a decimal amount in it (InputError if there is none).
std::string invoice_currency(pqxx::connection& conn, long long invoice_id) {
    pqxx::read_transaction tx(conn);
    auto r = tx.exec_params("SELECT currency FROM invoices WHERE id = $1", invoice_id);
    if (r.empty())
        throw InputError("no invoice " + std::to_string(invoice_id), ErrorCode::kNotFound);
    return r[0][0].as<std::string>();
}

// "12.50" in `currency` as minor units > 0; exit 2 for anything else, overflow included.
std::int64_t parse_amount(const std::string& text, const std::string& currency) {
    Money amount = Money::zero(Currency::from_code(currency));
    try {
        amount = Money::parse(text, Currency::from_code(currency));
    } catch (const InputError&) {
        throw;
    } catch (const Error&) {
        throw InputError("--amount '" + text + "' is too large");
    }
    if (amount.minor_units() <= 0)
        throw InputError("--amount must be positive (not '" + text + "')");
    return amount.minor_units();
}

// The configured gateways (--gateways, else $ARTISTSAID_GATEWAYS_FILE, else the configuration
// file's gateways.file; none: the sandbox) and the payments context over them.
struct CliPayments {
    explicit CliPayments(Context& ctx) {
        const std::string url = ctx.config.database_url();
        std::string file = text_option(ctx, "gateways", "");
        if (file.empty())
            file = plugins::PluginEnvironment::from_process().get_or("ARTISTSAID_GATEWAYS_FILE", "");
        const nlohmann::json settings =
            file.empty() ? nlohmann::json::object() : gateways::load_gateway_settings(file);
        runtime::RuntimeOptions secrets_holder;
        runtime::load_env_and_secrets(secrets_holder);
        gateways::register_gateways(registry, settings, secrets_holder.secrets, url);
        const Config& config = ctx.config;
        context = payments::PaymentsContext{
            [&config] { return open_billing_database(config); }, [url] { return url; },
            [this]() -> const gateways::GatewayRegistry& { return registry; }};
    }
    CliPayments(const CliPayments&) = delete;
    CliPayments& operator=(const CliPayments&) = delete;

    gateways::GatewayRegistry registry;
    payments::PaymentsContext context;
};

int billing_refund(Context& ctx) {
    const auto invoice_id = positive_id(ctx, "invoice");
    auto conn = open_billing_database(ctx.config);
    payments::RefundOptions o;
    o.invoice_id = invoice_id;
    if (ctx.options.count("amount"))
        o.amount = parse_amount(ctx.options["amount"].as<std::string>(),
                                invoice_currency(*conn, invoice_id));
    o.reason = text_option(ctx, "reason", "");
    o.idempotency_key = text_option(ctx, "key", "cli:refund:" + Uuid::v7().to_string());
    o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(60);
    const CliPayments payments(ctx);
    auto out = payments::RefundIssuer(payments.context).refund(o);
    out["idempotency_key"] = o.idempotency_key;
    print_billing_result(ctx, out);
    return out["status"] == "failed" ? static_cast<int>(ExitCode::kFailed) : 0;
}

int billing_credit_note(Context& ctx) {
    billing::CreditNoteRequest q;
    q.invoice_id = positive_id(ctx, "invoice");
    if (!ctx.options.count("amount")) throw InputError("--amount A is required", ErrorCode::kUsage);
    q.reason = text_option(ctx, "reason", "");
    if (q.reason.empty()) throw InputError("--reason TEXT is required", ErrorCode::kUsage);
    q.target = ctx.options.count("to-credit") ? billing::CreditNoteTarget::kClientCredit
                                              : billing::CreditNoteTarget::kInvoice;
    auto conn = open_billing_database(ctx.config);
    q.amount = parse_amount(ctx.options["amount"].as<std::string>(),
                            invoice_currency(*conn, q.invoice_id));
    q.idempotency_key = text_option(ctx, "key", "cli:credit_note:" + Uuid::v7().to_string());
    auto out = billing::CreditNoteIssuer::to_json(billing::CreditNoteIssuer::issue_now(*conn, q),
                                                  q.invoice_id);
    out["idempotency_key"] = q.idempotency_key;
    print_billing_result(ctx, out);
    return 0;
}

int billing_refund_credit(Context& ctx) {
    payments::CreditRefundOptions o;
    o.client_id = positive_id(ctx, "client");
    if (!ctx.options.count("currency"))
        throw InputError("--currency CCY is required", ErrorCode::kUsage);
    if (!ctx.options.count("amount")) throw InputError("--amount A is required", ErrorCode::kUsage);
    o.currency = ctx.options["currency"].as<std::string>();
    o.amount = parse_amount(ctx.options["amount"].as<std::string>(), o.currency);
    o.reason = text_option(ctx, "reason", "");
    o.idempotency_key = text_option(ctx, "key", "cli:refund_credit:" + Uuid::v7().to_string());
    o.deadline = std::chrono::system_clock::now() + std::chrono::seconds(60);
    const CliPayments payments(ctx);
    auto out = payments::CreditRefundIssuer(payments.context).refund(o);
    out["idempotency_key"] = o.idempotency_key;
    print_billing_result(ctx, out);
    return out["status"] == "failed" || out["status"] == "partial"
               ? static_cast<int>(ExitCode::kFailed)
               : 0;
}

int billing_void_credit_note(Context& ctx) {
    if (!ctx.options.count("number"))
        throw InputError("--number CN-... is required", ErrorCode::kUsage);
    auto conn = open_billing_database(ctx.config);
    auto out = billing::CreditNoteVoider::void_now(*conn, ctx.options["number"].as<std::string>(),
                                                   text_option(ctx, "reason", ""));
    print_billing_result(ctx, out);
    return 0;
}

int billing_change_plan(Context& ctx) {
    billing::PlanChangeOptions o;
    o.subscription_id = positive_id(ctx, "subscription");
    if (ctx.options.count("service")) o.service_code = ctx.options["service"].as<std::string>();
    if (ctx.options.count("price")) o.price = ctx.options["price"].as<std::string>();
    if (!o.service_code && !o.price)
        throw InputError("give --service CODE, --price AMOUNT or both", ErrorCode::kUsage);
    if (!ctx.options.count("on")) throw InputError("--on DATE is required", ErrorCode::kUsage);
    o.on = billing::parse_date(ctx.options["on"].as<std::string>(), "--on");
    o.dry_run = ctx.options.count("dry-run") > 0;
    // The same change asked twice is one change: the default key is made of its inputs.
    o.idempotency_key = text_option(ctx, "key",
                                    "cli:change_plan:" + std::to_string(o.subscription_id) + ":" +
                                        o.service_code.value_or("") + ":" + o.price.value_or("") +
                                        ":" + billing::format_date(o.on));
    auto conn = open_billing_database(ctx.config);
    print_billing_result(ctx, billing::PlanChanger().change(*conn, o));
    return 0;
}

}  // namespace

std::vector<Command> billing_adjust_commands() {
    Command refund;
    refund.name = "refund";
    refund.summary =
        "Refund a paid invoice (all that is left, or --amount) through its "
        "payment's gateway; issues a credit note and posts the ledger.";
    refund.add_options = [](po::options_description& d) {
        d.add_options()("invoice", po::value<long long>()->value_name("N"),
                        "the invoice (required)")(
            "amount", po::value<std::string>()->value_name("AMOUNT"),
            "decimal amount in the invoice's currency (default: all that is refundable)")(
            "reason", po::value<std::string>()->value_name("TEXT"), "why (on the credit note)")(
            "key", po::value<std::string>()->value_name("KEY"),
            "idempotency key: the same key never refunds twice (default: a new one, printed)")(
            "gateways", po::value<std::string>()->value_name("FILE"),
            "gateway settings (default $ARTISTSAID_GATEWAYS_FILE; none: the sandbox)");
    };
    refund.run = billing_refund;

    Command credit_note;
    credit_note.name = "credit-note";
    credit_note.summary =
        "Issue a credit note without moving money: off the invoice's open "
        "balance, or to the client's credit balance with --to-credit.";
    credit_note.add_options = [](po::options_description& d) {
        d.add_options()("invoice", po::value<long long>()->value_name("N"),
                        "the invoice (required)")(
            "amount", po::value<std::string>()->value_name("AMOUNT"),
            "decimal amount in the invoice's currency, tax included (required)")(
            "reason", po::value<std::string>()->value_name("TEXT"), "why (required)")(
            "to-credit", "credit the client's balance instead of the invoice's")(
            "key", po::value<std::string>()->value_name("KEY"),
            "idempotency key (default: a new one, printed)");
    };
    credit_note.run = billing_credit_note;

    Command change_plan;
    change_plan.name = "change-plan";
    change_plan.summary =
        "Change a subscription's service and/or price from a day of its "
        "current period; the proration is billed by the next billing run.";
    change_plan.add_options = [](po::options_description& d) {
        d.add_options()("subscription", po::value<long long>()->value_name("N"),
                        "the subscription (required)")(
            "service", po::value<std::string>()->value_name("CODE"), "the new service")(
            "price", po::value<std::string>()->value_name("AMOUNT"),
            "the new price per period, decimal in the subscription's currency")(
            "on", po::value<std::string>()->value_name("DATE"), "the day it starts (required)")(
            "dry-run", "compute and write nothing")(
            "key", po::value<std::string>()->value_name("KEY"),
            "idempotency key (default: made of the inputs, so a re-run changes nothing)");
    };
    change_plan.run = billing_change_plan;

    Command refund_credit;
    refund_credit.name = "refund-credit";
    refund_credit.summary =
        "Pay a client's credit balance back through the gateway, against the "
        "payments whose overpayment made it (newest first).";
    refund_credit.add_options = [](po::options_description& d) {
        d.add_options()("client", po::value<long long>()->value_name("N"),
                        "the client (required)")(
            "amount", po::value<std::string>()->value_name("AMOUNT"),
            "decimal amount in --currency (required)")(
            "currency", po::value<std::string>()->value_name("CCY"),
            "the credit's currency, ISO 4217 (required)")(
            "reason", po::value<std::string>()->value_name("TEXT"), "why")(
            "key", po::value<std::string>()->value_name("KEY"),
            "idempotency key: the same key never refunds twice (default: a new one, printed)")(
            "gateways", po::value<std::string>()->value_name("FILE"),
            "gateway settings (default $ARTISTSAID_GATEWAYS_FILE; none: the sandbox)");
    };
    refund_credit.run = billing_refund_credit;

    Command void_note;
    void_note.name = "void-credit-note";
    void_note.summary =
        "Void a credit note issued in error that moved no money out (its credit "
        "unused, or its invoice still open); a refund's note cannot be voided.";
    void_note.add_options = [](po::options_description& d) {
        d.add_options()("number", po::value<std::string>()->value_name("CN-..."),
                        "the credit note (required)")(
            "reason", po::value<std::string>()->value_name("TEXT"), "why it is voided");
    };
    void_note.run = billing_void_credit_note;
    return {refund, credit_note, change_plan, refund_credit, void_note};
}

}  // namespace artistsaid::cli
