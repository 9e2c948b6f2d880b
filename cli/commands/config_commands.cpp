#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/table.hpp"
#include "plugins/common/plugin_settings.hpp"

namespace artistsaid::cli {
namespace {

int show(Context& ctx) {
    // The step plugins' and gateways' settings (env > config file > default; secrets from the
    // environment or credentials only): listed after the engine's, secrets as set/unset.
    const auto plugin_env = plugins::PluginEnvironment::from_process();
    if (ctx.json) {
        auto j = ctx.config.to_json();
        j["plugins"] = plugins::PluginSettings::report_json(plugin_env);
        ctx.out << j.dump(2) << '\n';
        return 0;
    }
    ctx.out << "config file: " << ctx.config.file().value_or("(none)") << "\n\n";
    Table table({"KEY", "VALUE", "SOURCE"});
    for (const auto& e : ctx.config.entries()) {
        std::string shown = ctx.config.shown(e.key);
        table.add_row({e.key, shown.empty() ? "(unset)" : shown, std::string(to_string(e.source))});
    }
    table.print(ctx.out);
    ctx.out << "\nplugin settings (env > file > default; secrets: env or credentials):\n\n";
    Table plugin_table({"PLUGIN", "SETTING", "VALUE", "SOURCE"});
    for (const auto& v : plugins::PluginSettings::report(plugin_env))
        plugin_table.add_row({v.plugin, v.name, v.value.empty() ? "(unset)" : v.value, v.source});
    plugin_table.print(ctx.out);
    return 0;
}

int keys(Context& ctx) {
    Table table({"KEY", "ENVIRONMENT", "DEFAULT", "DESCRIPTION"});
    for (const auto& k : config_keys())
        table.add_row({std::string(k.key), std::string(k.env),
                       k.default_value.empty() ? "(unset)" : std::string(k.default_value),
                       std::string(k.description)});
    table.print(ctx.out);
    ctx.out << "\nplugin settings (environment variable or file key; a secret NAME is "
               "ARTISTSAID_SECRET_NAME or $CREDENTIALS_DIRECTORY/NAME, never in the file):\n\n";
    Table plugin_table({"PLUGIN", "SETTING", "FILE KEY", "DEFAULT", "DESCRIPTION"});
    for (const auto& s : plugins::PluginSettings::all())
        plugin_table.add_row({std::string(s.plugin),
                              (s.kind == plugins::PluginSetting::Kind::kSecret ? "secret " : "") +
                                  std::string(s.name),
                              s.file_key.empty() ? "-" : std::string(s.file_key),
                              s.default_value.empty() ? "(unset)" : std::string(s.default_value),
                              std::string(s.description)});
    plugin_table.print(ctx.out);
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
        "(flag > env > file > default); then the step plugins' and gateways' settings "
        "(env > file > default; secrets only as set/unset).";
    show_cmd.run = show;
    Command keys_cmd;
    keys_cmd.name = "keys";
    keys_cmd.summary = "List every setting with its environment variable and default.";
    keys_cmd.run = keys;
    group.children = {show_cmd, keys_cmd};
    return group;
}

}  // namespace artistsaid::cli
