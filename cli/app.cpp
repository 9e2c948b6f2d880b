#include "cli/app.hpp"

#include <ostream>
#include <sstream>

#include "cli/command.hpp"
#include "cli/commands/registry.hpp"
#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"
#include "engine/core/suggest.hpp"
#include "plugins/common/plugin_settings.hpp"

#ifndef ARTISTSAID_VERSION
#define ARTISTSAID_VERSION "0.0.0"
#endif

namespace artistsaid::cli {
namespace {

// Global flags: accepted before the command and after it, at every level. The ones
// that set configuration map to config keys (see engine/core/config.hpp).
struct GlobalFlag {
    const char* flag;
    const char* config_key;  // nullptr: not a setting
    const char* help;
};
constexpr GlobalFlag kSettingFlags[] = {
    {"database-url", "database_url", "PostgreSQL URL (overrides ARTISTSAID_DATABASE_URL)"},
    {"redis-url", "redis_url", "Redis URL (overrides ARTISTSAID_REDIS_URL)"},
    {"log-level", "log.level", "trace|debug|info|warn|error|off"},
    {"log-format", "log.format", "auto|text|json"},
};

po::options_description global_options() {
    po::options_description d("Global options");
    d.add_options()("help,h", "show help for this command and exit")(
        "version", "print the version and exit")(
        "config", po::value<std::string>()->value_name("FILE"),
        "YAML configuration file (or ARTISTSAID_CONFIG)")(
        "json", "machine-readable JSON output for listings");
    for (const auto& f : kSettingFlags)
        d.add_options()(f.flag, po::value<std::string>()->value_name("VALUE"), f.help);
    return d;
}

bool global_takes_value(const std::string& token) {
    if (token.rfind("--", 0) != 0 || token.find('=') != std::string::npos) return false;
    std::string name = token.substr(2);
    if (name == "config") return true;
    for (const auto& f : kSettingFlags)
        if (name == f.flag) return true;
    return false;
}

std::string path_text(const std::vector<const Command*>& path) {
    std::string text;
    for (const auto* c : path) text += (text.empty() ? "" : " ") + c->name;
    return text;
}

po::options_description command_options(const Command& command) {
    po::options_description own("Options");
    if (command.add_options) command.add_options(own);
    return own;
}

void print_help(std::ostream& out, const std::vector<const Command*>& path) {
    const Command& command = *path.back();
    std::string name = path_text(path);
    if (command.is_group()) {
        out << "Usage: " << name << " <command> [options]\n\n" << command.summary << "\n\nCommands:\n";
        size_t width = 0;
        for (const auto& c : command.children) width = std::max(width, c.name.size());
        for (const auto& c : command.children)
            out << "  " << c.name << std::string(width - c.name.size() + 3, ' ') << c.summary << '\n';
        out << "\nRun '" << name << " <command> --help' for a command's options.\n";
    } else {
        out << "Usage: " << name << " [options]" << (command.args_usage.empty() ? "" : " ")
            << command.args_usage << "\n\n" << command.summary << "\n";
        auto own = command_options(command);
        if (!own.options().empty()) out << '\n' << own;
    }
    out << '\n' << global_options();
}

class UsageError : public InputError {
public:
    UsageError(const std::string& message, std::string hint)
        : InputError(message, ErrorCode::kUsage), hint_(std::move(hint)) {}
    const std::string& hint() const { return hint_; }

private:
    std::string hint_;
};

int dispatch(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    static const Command root = build_command_tree();
    std::vector<const Command*> path{&root};
    std::vector<std::string> rest;

    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& token = argv[i];
        if (token == "--") {
            rest.insert(rest.end(), argv.begin() + static_cast<long>(i), argv.end());
            break;
        }
        if (token.size() > 1 && token[0] == '-') {
            rest.push_back(token);
            if (global_takes_value(token) && i + 1 < argv.size()) rest.push_back(argv[++i]);
            continue;
        }
        const Command& current = *path.back();
        if (!current.is_group()) {
            rest.push_back(token);
            continue;
        }
        const Command* next = current.child(token);
        if (next == nullptr) {
            std::vector<std::string> names;
            for (const auto& c : current.children) names.push_back(c.name);
            std::string message = "unknown command '" + token + "' for '" + path_text(path) + "'";
            if (auto hint = closest_match(token, names)) message += " (did you mean '" + *hint + "'?)";
            throw UsageError(message, path_text(path));
        }
        path.push_back(next);
    }

    const Command& command = *path.back();
    po::options_description all;
    all.add(command_options(command)).add(global_options());
    all.add_options()("args", po::value<std::vector<std::string>>()->multitoken(), "");
    po::positional_options_description positional;
    positional.add("args", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(rest).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what(), path_text(path));
    }

    if (vm.count("help")) {
        print_help(out, path);
        return 0;
    }
    if (vm.count("version")) {
        out << "artistsaid " << ARTISTSAID_VERSION << '\n';
        return 0;
    }
    if (command.is_group()) {
        print_help(err, path);
        err << '\n';
        throw UsageError("'" + path_text(path) + "' needs a command", path_text(path));
    }

    std::vector<std::string> args;
    if (vm.count("args")) args = vm["args"].as<std::vector<std::string>>();
    if (args.size() < command.min_args || args.size() > command.max_args) {
        std::string expected = command.args_usage.empty() ? "no arguments" : command.args_usage;
        throw UsageError("'" + path_text(path) + "' takes " + expected + " (got " +
                             std::to_string(args.size()) + " argument" +
                             (args.size() == 1 ? "" : "s") + ")",
                         path_text(path));
    }

    ConfigInputs inputs;
    inputs.env = Config::process_env();
    if (vm.count("config")) inputs.file = vm["config"].as<std::string>();
    for (const auto& f : kSettingFlags)
        if (vm.count(f.flag)) inputs.flags[f.config_key] = vm[f.flag].as<std::string>();

    inputs.extra_keys = plugins::PluginSettings::config_keys();

    Context context{Config::load(inputs), vm.count("json") > 0, vm, args, out, err};
    for (auto& secret : context.config.secret_values()) logging::add_secret(std::move(secret));
    // The step plugins and gateways read their settings through PluginEnvironment: give it
    // what the configuration file said (the environment still wins there).
    std::map<std::string, std::string> plugin_file_settings;
    const auto& plugin_keys = plugins::PluginSettings::config_keys();
    for (std::size_t i = 0; i < plugin_keys.size(); ++i) {
        const auto& e = context.config.extra_entries().at(i);
        if (e.source == ConfigSource::kFile)
            plugin_file_settings[std::string(plugin_keys[i].env)] = e.value;
    }
    plugins::PluginEnvironment::set_config_file_settings(std::move(plugin_file_settings));
    logging::init({context.config.get("log.level"), context.config.get("log.format")});
    return command.run(context);
}

}  // namespace

int run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    try {
        return dispatch(argv, out, err);
    } catch (const UsageError& e) {
        err << "artistsaid: " << logging::redact(e.what()) << "\nRun '" << e.hint()
            << " --help' for usage.\n";
        return static_cast<int>(ExitCode::kBadInput);
    } catch (const Error& e) {
        err << "artistsaid: error: " << logging::redact(e.what()) << '\n';
        return static_cast<int>(e.exit_code());
    } catch (const std::exception& e) {
        err << "artistsaid: internal error: " << logging::redact(e.what()) << '\n';
        return static_cast<int>(ExitCode::kFailed);
    }
}

}  // namespace artistsaid::cli
