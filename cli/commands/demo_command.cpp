#include <ostream>

#include "cli/commands/registry.hpp"
#include "engine/store/migrator.hpp"

namespace artistsaid::cli {
namespace {

// Until the billing cycle lands (issue 7), the demo prepares the database and says so.
int demo(Context& ctx) {
    auto timeout = std::chrono::duration_cast<std::chrono::seconds>(
        ctx.config.duration("connect_timeout"));
    store::Migrator migrator(ctx.config.database_url(), ctx.config.get("migrations_dir"), timeout);
    auto applied = migrator.up();
    ctx.out << "demo: database at " << redact_url(ctx.config.database_url()) << " migrated ("
            << applied.size() << " migration" << (applied.size() == 1 ? "" : "s")
            << " applied now)\n";
    for (const auto& s : migrator.status())
        ctx.out << "  " << s.name << (s.applied ? "  applied" : "  pending") << '\n';
    ctx.out << "demo: the billing-cycle demo is not built yet; this run only applied the "
               "schema.\n";
    return 0;
}

}  // namespace

Command demo_command() {
    Command cmd;
    cmd.name = "demo";
    cmd.summary = "Run the demo against the configured services (scripts/demo.sh starts local ones).";
    cmd.run = demo;
    return cmd;
}

}  // namespace artistsaid::cli
