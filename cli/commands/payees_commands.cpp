// `artistsaid payments payees add|list|show|disable`: the bank accounts payees (artists as
// provider clients, affiliates) are paid to by `payments payout-file`. An IBAN is personal
// data: every output shows it masked but for its last four characters.
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/table.hpp"
#include "engine/core/error.hpp"
#include "gateways/bank/payee_bank_accounts.hpp"

namespace artistsaid::cli {
namespace {

using gateways::PayeeBankAccount;
using gateways::PayeeBankAccounts;

PayeeBankAccounts accounts(const Context& ctx) {
    if (ctx.config.database_url().empty())
        throw InputError("no database configured: set ARTISTSAID_DATABASE_URL or database_url");
    return PayeeBankAccounts(ctx.config.database_url());
}

long long account_id(const Context& ctx) {
    const std::string& text = ctx.args.at(0);
    long long id = 0;
    std::size_t used = 0;
    try {
        id = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || id < 1)
        throw InputError("'" + text + "' is not an account id (a positive number)", ErrorCode::kUsage);
    return id;
}

nlohmann::json account_json(const PayeeBankAccount& a) {
    return {{"id", a.id},
            {"payee_kind", a.payee_kind},
            {"payee_id", a.payee_id},
            {"payee_name", a.payee_name},
            {"holder", a.holder},
            {"iban", PayeeBankAccounts::masked(a.iban)},
            {"bic", a.bic.empty() ? nlohmann::json() : nlohmann::json(a.bic)},
            {"active", a.disabled_at.empty()},
            {"created_at", a.created_at},
            {"disabled_at", a.disabled_at.empty() ? nlohmann::json() : nlohmann::json(a.disabled_at)}};
}

std::string payee_text(const PayeeBankAccount& a) {
    return (a.payee_kind == "provider" ? "client " : "affiliate ") + std::to_string(a.payee_id) +
           (a.payee_name.empty() ? "" : " (" + a.payee_name + ")");
}

void print_account(std::ostream& out, const PayeeBankAccount& a) {
    out << "account      " << a.id << '\n'
        << "payee        " << payee_text(a) << '\n'
        << "holder       " << a.holder << '\n'
        << "iban         " << PayeeBankAccounts::masked(a.iban) << '\n'
        << "bic          " << (a.bic.empty() ? "(none)" : a.bic) << '\n'
        << "status       " << (a.disabled_at.empty() ? "active" : "disabled " + a.disabled_at) << '\n'
        << "created      " << a.created_at << '\n';
}

std::string required(const Context& ctx, const char* name) {
    if (!ctx.options.count(name) || ctx.options[name].as<std::string>().empty())
        throw InputError(std::string("--") + name + " is required", ErrorCode::kUsage);
    return ctx.options[name].as<std::string>();
}

// The IBAN from --iban, or from the first line of --iban-file (a file or /dev/stdin), which
// keeps it out of shell history and the process list.
std::string iban_argument(Context& ctx) {
    const bool inline_iban = ctx.options.count("iban") > 0, file = ctx.options.count("iban-file") > 0;
    if (inline_iban == file)
        throw InputError("give exactly one of --iban IBAN and --iban-file PATH", ErrorCode::kUsage);
    if (inline_iban) return required(ctx, "iban");
    const std::string path = ctx.options["iban-file"].as<std::string>();
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line))
        throw InputError("--iban-file " + path + ": cannot read an IBAN from it");
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) throw InputError("--iban-file " + path + ": the first line is empty");
    return line;
}

int payees_add(Context& ctx) {
    gateways::NewPayeeBankAccount account;
    const bool client = ctx.options.count("client") > 0, affiliate = ctx.options.count("affiliate") > 0;
    if (client == affiliate)
        throw InputError("give exactly one of --client ID (an artist, a provider client) and "
                         "--affiliate ID", ErrorCode::kUsage);
    account.payee_kind = client ? "provider" : "affiliate";
    account.payee_id = ctx.options[client ? "client" : "affiliate"].as<long long>();
    account.holder = required(ctx, "holder");
    account.iban = iban_argument(ctx);
    if (ctx.options.count("bic")) account.bic = ctx.options["bic"].as<std::string>();
    auto added = accounts(ctx).add(account);
    if (ctx.json) {
        ctx.out << account_json(added).dump() << '\n';
        return 0;
    }
    ctx.out << "added bank account " << added.id << " for " << payee_text(added) << ": "
            << added.holder << ", IBAN " << PayeeBankAccounts::masked(added.iban)
            << (added.bic.empty() ? "" : ", BIC " + added.bic) << '\n';
    return 0;
}

int payees_list(Context& ctx) {
    auto list = accounts(ctx).list(ctx.options.count("all") > 0);
    if (ctx.json) {
        auto out = nlohmann::json::array();
        for (const auto& a : list) out.push_back(account_json(a));
        ctx.out << out.dump() << '\n';
        return 0;
    }
    Table table({"ID", "PAYEE", "HOLDER", "IBAN", "BIC", "STATUS"});
    for (const auto& a : list)
        table.add_row({std::to_string(a.id), payee_text(a), a.holder,
                       PayeeBankAccounts::masked(a.iban), a.bic.empty() ? "-" : a.bic,
                       a.disabled_at.empty() ? "active" : "disabled"});
    table.print(ctx.out);
    ctx.out << list.size() << " account(s)\n";
    return 0;
}

int payees_show(Context& ctx) {
    const long long id = account_id(ctx);
    auto found = accounts(ctx).find(id);
    if (!found) throw InputError("there is no payee bank account " + std::to_string(id));
    if (ctx.json) {
        ctx.out << account_json(*found).dump() << '\n';
        return 0;
    }
    print_account(ctx.out, *found);
    return 0;
}

int payees_disable(Context& ctx) {
    const long long id = account_id(ctx);
    const bool changed = accounts(ctx).disable(id);
    if (ctx.json) {
        ctx.out << nlohmann::json{{"id", id}, {"disabled", changed}}.dump() << '\n';
        return 0;
    }
    ctx.out << (changed ? "disabled bank account " : "bank account was already disabled: ") << id << '\n';
    return 0;
}

}  // namespace

Command payees_commands() {
    Command group;
    group.name = "payees";
    group.summary =
        "The bank accounts payees are paid to by bank transfer (payments payout-file): one "
        "active account per artist (provider client) or affiliate. IBANs are shown masked.";
    Command add;
    add.name = "add";
    add.summary =
        "Add a payee's bank account after checking the IBAN (country length, mod-97 check "
        "digits), the BIC and the holder's name (1 to 140 characters). Exit 2, nothing "
        "written, for a bad value, an unknown payee, or a payee that already has an active "
        "account (disable it first).";
    add.add_options = [](po::options_description& d) {
        d.add_options()("client", po::value<long long>()->value_name("ID"),
                        "the artist's client id (payee kind provider)")(
            "affiliate", po::value<long long>()->value_name("ID"), "the affiliate's id")(
            "holder", po::value<std::string>()->value_name("NAME"),
            "the account holder's name, as the bank knows it")(
            "iban", po::value<std::string>()->value_name("IBAN"),
            "the IBAN, printed (with spaces) or electronic form")(
            "iban-file", po::value<std::string>()->value_name("PATH"),
            "read the IBAN from the first line of PATH (e.g. /dev/stdin) instead of --iban")(
            "bic", po::value<std::string>()->value_name("BIC"), "the bank's BIC (optional)");
    };
    add.run = payees_add;
    Command list;
    list.name = "list";
    list.summary = "List the active payee bank accounts (IBAN masked but its last 4 characters).";
    list.add_options = [](po::options_description& d) {
        d.add_options()("all", "include disabled accounts");
    };
    list.run = payees_list;
    Command show;
    show.name = "show";
    show.summary = "Show one payee bank account (IBAN masked but its last 4 characters).";
    show.args_usage = "ID";
    show.min_args = show.max_args = 1;
    show.run = payees_show;
    Command disable;
    disable.name = "disable";
    disable.summary =
        "Disable a payee bank account: no new payouts are filed to it; it stays on record "
        "with the transfers already made (list --all shows it). Disabling twice is a no-op.";
    disable.args_usage = "ID";
    disable.min_args = disable.max_args = 1;
    disable.run = payees_disable;
    group.children = {add, list, show, disable};
    return group;
}

}  // namespace artistsaid::cli
