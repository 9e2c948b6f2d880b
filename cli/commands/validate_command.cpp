#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/workflow_catalog.hpp"
#include "engine/core/error.hpp"
#include "engine/workflow/validator.hpp"
#include "engine/workflow/workflow_directory.hpp"

namespace artistsaid::cli {
namespace {

struct FileReport {
    std::string file;
    nlohmann::json errors = nlohmann::json::array();
    std::string rendered;
};

// `artistsaid validate FILE|DIR...`: every problem of every file in one run; exit 2 if any.
// A directory is checked as one deployment (duplicate names, workflow.run targets).
int validate(Context& ctx) {
    workflow::Validator validator(workflow_step_catalog());
    std::vector<FileReport> reports;
    std::size_t valid = 0;
    std::size_t error_count = 0;
    auto add = [&](const workflow::Diagnostics& d) {
        reports.push_back({d.file(), d.to_json(), d.render()});
        error_count += d.size();
    };
    for (const auto& arg : ctx.args) {
        try {
            std::error_code ec;
            if (std::filesystem::is_directory(arg, ec)) {
                auto dir = workflow::WorkflowDirectory::load(arg, validator);
                valid += dir.workflows().size();
                for (const auto& d : dir.invalid()) add(d);
                if (dir.file_count() == 0 && !ctx.json)
                    ctx.err << "artistsaid: warning: no *.yaml or *.yml files in " << arg << '\n';
                continue;
            }
            auto result = validator.validate_file(arg);
            if (result.ok()) {
                ++valid;
            } else {
                add(result.diagnostics);
            }
        } catch (const InputError& e) {
            reports.push_back({arg,
                               nlohmann::json::array({{{"file", arg},
                                                       {"line", 0},
                                                       {"column", 0},
                                                       {"message", e.what()},
                                                       {"expected", ""},
                                                       {"hint", ""}}}),
                               std::string("artistsaid: error: ") + e.what() + "\n"});
            ++error_count;
        }
    }
    if (ctx.json) {
        nlohmann::json files = nlohmann::json::array();
        for (const auto& r : reports) files.push_back({{"file", r.file}, {"errors", r.errors}});
        ctx.out << nlohmann::json{{"ok", error_count == 0},
                                  {"valid_workflows", valid},
                                  {"error_count", error_count},
                                  {"invalid_files", files}}
                       .dump(2)
                << '\n';
    } else {
        for (std::size_t i = 0; i < reports.size(); ++i)
            ctx.err << (i == 0 ? "" : "\n") << reports[i].rendered;
        if (error_count == 0) {
            ctx.out << "ok: " << valid << " workflow" << (valid == 1 ? "" : "s") << " valid\n";
        } else {
            ctx.err << '\n'
                    << error_count << " error" << (error_count == 1 ? "" : "s") << " in "
                    << reports.size() << " file" << (reports.size() == 1 ? "" : "s") << "; "
                    << valid << " workflow" << (valid == 1 ? "" : "s") << " valid\n";
        }
    }
    return error_count == 0 ? 0 : static_cast<int>(ExitCode::kBadInput);
}

}  // namespace

Command validate_command() {
    Command cmd;
    cmd.name = "validate";
    cmd.summary =
        "Check workflow files (or directories of them) and report every problem with "
        "file:line:column. Exit 2 if there is any.";
    cmd.args_usage = "FILE|DIR...";
    cmd.min_args = 1;
    cmd.max_args = 100000;
    cmd.run = validate;
    return cmd;
}

}  // namespace artistsaid::cli
