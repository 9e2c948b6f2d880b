// `artistsaid ledger verify`: the books' consistency checks (plugins/billing/ledger_verifier).
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "plugins/billing/ledger_verifier.hpp"

namespace artistsaid::cli {
namespace {

int ledger_verify(Context& ctx) {
    const std::string& url = ctx.config.database_url();
    if (url.empty()) throw InputError("no database configured: set ARTISTSAID_DATABASE_URL");
    auto conn = store::connect(
        url, std::chrono::duration_cast<std::chrono::seconds>(ctx.config.duration("connect_timeout")),
        ctx.config.duration("statement_timeout"));
    const auto report = billing::LedgerVerifier().verify(*conn);
    const bool ok = report.value("ok", false);
    if (ctx.json) {
        ctx.out << report.dump() << '\n';
        return ok ? 0 : 1;
    }
    for (const auto& check : report["checks"]) {
        const long long failures = check.value("failures", 0LL);
        ctx.out << (failures == 0 ? "ok    " : "FAIL  ") << check.value("name", "") << ": "
                << check.value("description", "");
        if (failures > 0) ctx.out << " — " << failures << " failure(s)";
        ctx.out << '\n';
        for (const auto& example : check["examples"])
            ctx.out << "        " << example.get<std::string>() << '\n';
    }
    ctx.out << (ok ? "ledger verified\n" : "ledger verification FAILED\n");
    return ok ? 0 : 1;
}

}  // namespace

Command ledger_commands() {
    Command group;
    group.name = "ledger";
    group.summary = "The double-entry ledger.";
    Command verify;
    verify.name = "verify";
    verify.summary =
        "Check that every transaction balances per currency, every paid invoice has payments "
        "equal to its total, and no payment is counted twice (exit 1 with a report if not).";
    verify.run = ledger_verify;
    group.children = {verify};
    return group;
}

}  // namespace artistsaid::cli
