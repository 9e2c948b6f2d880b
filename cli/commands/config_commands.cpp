#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/table.hpp"

namespace artistsaid::cli {
namespace {

int show(Context& ctx) {
    if (ctx.json) {
        ctx.out << ctx.config.to_json().dump(2) << '\n';
        return 0;
    }
    ctx.out << "config file: " << ctx.config.file().value_or("(none)") << "\n\n";
    Table table({"KEY", "VALUE", "SOURCE"});
    for (const auto& e : ctx.config.entries()) {
        std::string shown = ctx.config.shown(e.key);
        table.add_row({e.key, shown.empty() ? "(unset)" : shown, std::string(to_string(e.source))});
    }
    table.print(ctx.out);
    return 0;
}

int keys(Context& ctx) {
    Table table({"KEY", "ENVIRONMENT", "DEFAULT", "DESCRIPTION"});
    for (const auto& k : config_keys())
        table.add_row({std::string(k.key), std::string(k.env),
                       k.default_value.empty() ? "(unset)" : std::string(k.default_value),
                       std::string(k.description)});
    table.print(ctx.out);
    return 0;
}

}  // namespace

Command config_commands() {
    Command group;
    group.name = "config";
    group.summary = "Show the effective configuration (secrets redacted).";
    Command show_cmd;
    show_cmd.name = "show";
    show_cmd.summary =
        "Print every setting, its value (secrets redacted) and where it came from "
        "(flag > env > file > default).";
    show_cmd.run = show;
    Command keys_cmd;
    keys_cmd.name = "keys";
    keys_cmd.summary = "List every setting with its environment variable and default.";
    keys_cmd.run = keys;
    group.children = {show_cmd, keys_cmd};
    return group;
}

}  // namespace artistsaid::cli
