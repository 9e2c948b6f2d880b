#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/table.hpp"
#include "engine/store/migrator.hpp"

namespace artistsaid::cli {
namespace {

store::Migrator migrator_for(const Context& ctx) {
    auto timeout = std::chrono::duration_cast<std::chrono::seconds>(
        ctx.config.duration("connect_timeout"));
    return store::Migrator(ctx.config.database_url(), ctx.config.get("migrations_dir"), timeout);
}

int up(Context& ctx) {
    auto applied = migrator_for(ctx).up();
    if (ctx.json) {
        nlohmann::json names = nlohmann::json::array();
        for (const auto& f : applied) names.push_back(f.name);
        ctx.out << nlohmann::json{{"applied", names}}.dump() << '\n';
        return 0;
    }
    if (applied.empty()) ctx.out << "database is up to date\n";
    for (const auto& f : applied) ctx.out << "applied " << f.name << '\n';
    return 0;
}

int status(Context& ctx) {
    auto rows = migrator_for(ctx).status();
    auto state = [](const store::MigrationStatus& s) -> std::string {
        if (s.missing) return "applied, file missing";
        if (s.changed) return "applied, FILE CHANGED";
        return s.applied ? "applied" : "pending";
    };
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& s : rows)
            out.push_back({{"version", s.version},
                           {"name", s.name},
                           {"state", state(s)},
                           {"applied_at", s.applied_at ? nlohmann::json(*s.applied_at) : nullptr}});
        ctx.out << out.dump(2) << '\n';
        return 0;
    }
    Table table({"VERSION", "NAME", "STATE", "APPLIED AT"});
    for (const auto& s : rows)
        table.add_row({std::to_string(s.version), s.name, state(s), s.applied_at.value_or("")});
    table.print(ctx.out);
    return 0;
}

int create(Context& ctx) {
    auto path = store::Migrator::create(ctx.config.get("migrations_dir"), ctx.args.at(0));
    ctx.out << path.string() << '\n';
    return 0;
}

}  // namespace

Command migrate_commands() {
    Command group;
    group.name = "migrate";
    group.summary = "Apply and inspect the PostgreSQL schema migrations.";

    Command up_cmd;
    up_cmd.name = "up";
    up_cmd.summary =
        "Apply pending migrations in order, each in its own transaction. Safe to run "
        "concurrently; a no-op when up to date.";
    up_cmd.run = up;

    Command status_cmd;
    status_cmd.name = "status";
    status_cmd.summary = "List migrations: applied, pending, changed or missing.";
    status_cmd.run = status;

    Command new_cmd;
    new_cmd.name = "new";
    new_cmd.summary = "Create the next numbered migration file in migrations_dir.";
    new_cmd.args_usage = "NAME";
    new_cmd.min_args = new_cmd.max_args = 1;
    new_cmd.run = create;

    group.children = {up_cmd, status_cmd, new_cmd};
    return group;
}

}  // namespace artistsaid::cli
