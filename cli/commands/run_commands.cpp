#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "cli/commands/registry.hpp"
#include "cli/runtime_access.hpp"
#include "cli/step_plugins.hpp"
#include "cli/table.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/id.hpp"
#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"
#include "engine/store/database.hpp"
#include "engine/store/run_store.hpp"
#include "engine/workflow/input_resolver.hpp"

namespace artistsaid::cli {
namespace {

std::vector<std::string> input_assignments(const Context& ctx) {
    if (!ctx.options.count("input")) return {};
    return ctx.options["input"].as<std::vector<std::string>>();
}

std::unique_ptr<pqxx::connection> database(const Context& ctx) {
    return store::connect(ctx.config.database_url(),
                          std::chrono::duration_cast<std::chrono::seconds>(
                              ctx.config.duration("connect_timeout")));
}

store::RunRow find_run(pqxx::connection& conn, const std::string& id) {
    pqxx::read_transaction tx(conn);
    auto run = store::RunStore::find_run(tx, id);
    if (!run) throw InputError("no run " + id, ErrorCode::kNotFound);
    return *run;
}

void check_run_id(const std::string& id) {
    if (!Uuid::parse(id)) throw InputError("'" + id + "' is not a run id (a UUID)");
}

std::string step_label(const store::StepRow& s) {
    return s.step_id + (s.item_index >= 0 ? "[" + std::to_string(s.item_index) + "]" : "");
}

// Prints each step's status changes until the run finishes; returns the final run. Only the
// steps' own rows are polled (a fan-out may have a million item rows); on a terminal, a
// running fan-out's progress is printed every few seconds.
store::RunRow wait_for(const Context& ctx, pqxx::connection& conn, const std::string& run_id,
                       std::chrono::milliseconds timeout) {
    bool tty = ::isatty(STDOUT_FILENO) != 0;
    std::map<std::string, std::string> seen;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto next_progress = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (;;) {
        store::RunRow run;
        std::vector<store::StepRow> steps;
        {
            pqxx::read_transaction tx(conn);
            run = *store::RunStore::find_run(tx, run_id);
            steps = store::RunStore::parents_of(tx, run_id);
        }
        bool fanning_out = false;
        for (const auto& s : steps) {
            const std::string key = step_label(s);
            fanning_out = fanning_out || (s.status == "running" && s.inputs.contains("count"));
            if (seen[key] == s.status || s.status == "pending") continue;
            seen[key] = s.status;
            if (!ctx.json && (tty || s.status != "queued"))
                ctx.out << "  " << key << ": " << s.status
                        << (s.attempt > 1 ? " (attempt " + std::to_string(s.attempt) + ")" : "")
                        << (s.error.empty() ? "" : " — " + logging::redact(s.error)) << '\n';
        }
        if (tty && !ctx.json && fanning_out && std::chrono::steady_clock::now() > next_progress) {
            next_progress = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            nlohmann::json summary;
            {
                pqxx::read_transaction tx(conn);
                summary = store::RunStore::item_summary(tx, run_id);
            }
            for (const auto& [step, counts] : summary.items()) {
                long long done = 0, all = 0;
                for (const auto& [status, n] : counts.items()) {
                    all += n.get<long long>();
                    if (status != "queued" && status != "running" && status != "retrying" &&
                        status != "waiting")
                        done += n.get<long long>();
                }
                ctx.out << "  " << step << ": " << done << " items finished, " << all - done
                        << " in progress\n";
            }
        }
        ctx.out.flush();
        if (run.status == "succeeded" || run.status == "failed" || run.status == "cancelled")
            return run;
        if (std::chrono::steady_clock::now() > deadline)
            throw WorkError("run " + run_id + " still " + run.status + " after --timeout");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

int run_workflow(Context& ctx) {
    auto definition = load_workflow(ctx.config, ctx.args.at(0));
    nlohmann::json given = workflow::InputResolver::parse_assignments(input_assignments(ctx));
    if (ctx.options.count("dry-run")) {
        runtime::RuntimeOptions options;
        runtime::load_env_and_secrets(options);
        runtime::RunEngine engine(options, step_registry());
        auto plan = engine.plan(definition, given);
        if (ctx.json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& p : plan)
                out.push_back({{"id", p.id}, {"uses", p.uses}, {"needs", p.needs},
                               {"level", p.level}, {"with", p.with}});
            ctx.out << nlohmann::json{{"workflow", definition.name},
                                      {"version", definition.version},
                                      {"steps", out}}
                           .dump(2)
                    << '\n';
            return 0;
        }
        ctx.out << "plan for " << definition.name << " v" << definition.version
                << " (nothing is executed):\n";
        Table table({"STAGE", "STEP", "USES", "NEEDS", "WITH"});
        for (const auto& p : plan) {
            std::string needs;
            for (const auto& n : p.needs) needs += (needs.empty() ? "" : ",") + n;
            std::string with = p.with.dump();
            if (with.size() > 60) with = with.substr(0, 57) + "...";
            table.add_row({std::to_string(p.level + 1), p.id, p.uses, needs, with});
        }
        table.print(ctx.out);
        return 0;
    }
    auto engine = make_run_engine(ctx.config);
    runtime::StartRequest request;
    request.inputs = given;
    request.trigger_kind = "cli";
    auto started = engine->start(definition, request);
    if (!ctx.options.count("wait")) {
        if (ctx.json)
            ctx.out << nlohmann::json{{"run", started.run_id}}.dump() << '\n';
        else
            ctx.out << started.run_id << '\n';
        return 0;
    }
    if (!ctx.json) ctx.out << "run " << started.run_id << " of " << definition.name << '\n';
    auto timeout = ctx.options.count("timeout")
                       ? parse_duration(ctx.options["timeout"].as<std::string>())
                       : std::chrono::milliseconds(std::chrono::hours(24));
    auto conn = database(ctx);
    auto run = wait_for(ctx, *conn, started.run_id, timeout);
    if (ctx.json)
        ctx.out << nlohmann::json{{"run", run.id}, {"status", run.status}, {"error", run.error}}.dump()
                << '\n';
    else
        ctx.out << "run " << run.id << " " << run.status
                << (run.error.empty() ? "" : ": " + logging::redact(run.error)) << '\n';
    return run.status == "succeeded" ? 0 : 1;
}

int runs_list(Context& ctx) {
    auto conn = database(ctx);
    store::RunFilter filter;
    if (ctx.options.count("status")) filter.status = ctx.options["status"].as<std::string>();
    if (ctx.options.count("workflow")) filter.workflow = ctx.options["workflow"].as<std::string>();
    if (ctx.options.count("limit")) filter.limit = ctx.options["limit"].as<int>();
    std::vector<store::RunRow> runs;
    {
        pqxx::read_transaction tx(*conn);
        runs = store::RunStore::list_runs(tx, filter);
    }
    if (ctx.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : runs)
            out.push_back({{"id", r.id}, {"workflow", r.workflow_name}, {"version", r.workflow_version},
                           {"status", r.status}, {"trigger", r.trigger_kind},
                           {"created_at", r.created_at}, {"finished_at", r.finished_at},
                           {"error", logging::redact(r.error)}});
        ctx.out << out.dump(2) << '\n';
        return 0;
    }
    Table table({"ID", "WORKFLOW", "VERSION", "STATUS", "TRIGGER", "CREATED", "FINISHED"});
    for (const auto& r : runs)
        table.add_row({r.id, r.workflow_name, std::to_string(r.workflow_version), r.status,
                       r.trigger_kind, r.created_at, r.finished_at});
    table.print(ctx.out);
    return 0;
}

int runs_show(Context& ctx) {
    check_run_id(ctx.args.at(0));
    {  // registers ARTISTSAID_SECRET_* values with the redactor (defence in depth)
        runtime::RuntimeOptions secrets;
        runtime::load_env_and_secrets(secrets);
    }
    auto conn = database(ctx);
    auto run = find_run(*conn, ctx.args[0]);
    const bool all_items = ctx.options.count("items") != 0;
    const int limit = ctx.options.count("limit") ? ctx.options["limit"].as<int>() : 100;
    std::vector<store::StepRow> steps, items;
    nlohmann::json summary;
    {
        pqxx::read_transaction tx(*conn);
        steps = store::RunStore::parents_of(tx, run.id);
        summary = store::RunStore::item_summary(tx, run.id);
        // Without --items, only the items that failed (a fan-out may have a million rows).
        items = store::RunStore::items_of(
            tx, run.id, all_items ? std::vector<std::string>{} : std::vector<std::string>{"failed", "continued"},
            limit);
    }
    auto step_json = [](const store::StepRow& s) {
        return nlohmann::json{{"step", s.step_id}, {"item", s.item_index}, {"status", s.status},
                              {"attempt", s.attempt}, {"inputs", s.inputs}, {"outputs", s.outputs},
                              {"error", logging::redact(s.error)}, {"started_at", s.started_at},
                              {"finished_at", s.finished_at}};
    };
    if (ctx.json) {
        nlohmann::json out = {{"id", run.id}, {"workflow", run.workflow_name},
                              {"version", run.workflow_version}, {"status", run.status},
                              {"trigger", run.trigger_kind}, {"inputs", run.inputs},
                              {"outputs", run.outputs}, {"error", logging::redact(run.error)},
                              {"failed_step", run.failed_step},
                              {"parent_run", run.parent_run_id}, {"created_at", run.created_at},
                              {"started_at", run.started_at}, {"finished_at", run.finished_at}};
        nlohmann::json list = nlohmann::json::array(), item_list = nlohmann::json::array();
        for (const auto& s : steps) list.push_back(step_json(s));
        for (const auto& s : items) item_list.push_back(step_json(s));
        out["steps"] = list;
        out["item_counts"] = summary;
        out[all_items ? "items" : "failed_items"] = item_list;
        ctx.out << logging::redact(out.dump(2)) << '\n';
        return 0;
    }
    ctx.out << "run       " << run.id << "\nworkflow  " << run.workflow_name << " v"
            << run.workflow_version << "\nstatus    " << run.status << "\ntrigger   "
            << run.trigger_kind << (run.parent_run_id.empty() ? "" : " (child of " + run.parent_run_id + ")")
            << "\ncreated   " << run.created_at << "\nfinished  " << run.finished_at
            << "\ninputs    " << logging::redact(run.inputs.dump()) << '\n';
    if (!run.error.empty()) ctx.out << "error     " << logging::redact(run.error) << '\n';
    ctx.out << '\n';
    Table table({"STEP", "STATUS", "ATTEMPT", "OUTPUTS", "ERROR"});
    auto add = [&](const store::StepRow& s) {
        std::string outputs = s.outputs.is_null() ? "" : logging::redact(s.outputs.dump());
        if (outputs.size() > 50) outputs = outputs.substr(0, 47) + "...";
        table.add_row({step_label(s), s.status, std::to_string(s.attempt), outputs,
                       logging::redact(s.error)});
    };
    for (const auto& s : steps) add(s);
    for (const auto& s : items) add(s);
    table.print(ctx.out);
    for (const auto& [step, counts] : summary.items()) {
        std::string line;
        for (const auto& [status, n] : counts.items())
            line += (line.empty() ? "" : ", ") + std::to_string(n.get<long long>()) + " " + status;
        ctx.out << "items of " << step << ": " << line << '\n';
    }
    if (!all_items && !items.empty())
        ctx.out << "(failed items shown; --items lists every item, up to --limit)\n";
    return 0;
}

int runs_cancel(Context& ctx) {
    check_run_id(ctx.args.at(0));
    auto engine = make_run_engine(ctx.config);
    if (!engine->cancel(ctx.args[0]))
        throw WorkError("run " + ctx.args[0] + " has already finished");
    ctx.out << "cancelled " << ctx.args[0] << '\n';
    return 0;
}

int runs_retry(Context& ctx) {
    check_run_id(ctx.args.at(0));
    auto engine = make_run_engine(ctx.config);
    engine->retry(ctx.args[0]);
    ctx.out << "retrying " << ctx.args[0] << " from its failed steps\n";
    return 0;
}

int reconcile(Context& ctx) {
    auto engine = make_run_engine(ctx.config);
    auto report = engine->reconcile();
    if (ctx.json)
        ctx.out << nlohmann::json{{"runs_checked", report.runs_checked},
                                  {"jobs_enqueued", report.jobs_enqueued}}
                       .dump()
                << '\n';
    else
        ctx.out << "checked " << report.runs_checked << " running run(s); enqueued "
                << report.jobs_enqueued << " step job(s) (existing jobs are not duplicated)\n";
    return 0;
}

}  // namespace

Command run_command() {
    Command cmd;
    cmd.name = "run";
    cmd.summary = "Start a run of a workflow (from workflows_dir).";
    cmd.args_usage = "NAME";
    cmd.min_args = cmd.max_args = 1;
    cmd.add_options = [](po::options_description& d) {
        d.add_options()("input,i", po::value<std::vector<std::string>>()->value_name("K=V"),
                        "an input (repeatable); JSON text for arrays and objects")(
            "wait", "follow the run's steps and exit with its status (0 succeeded, 1 not)")(
            "timeout", po::value<std::string>()->value_name("DURATION"),
            "with --wait: give up after this long (exit 1)")(
            "dry-run", "validate, resolve inputs and print the plan; execute nothing");
    };
    cmd.run = run_workflow;
    return cmd;
}

Command runs_commands() {
    Command group;
    group.name = "runs";
    group.summary = "List, inspect, cancel and retry workflow runs.";
    Command list;
    list.name = "list";
    list.summary = "Recent runs, newest first.";
    list.add_options = [](po::options_description& d) {
        d.add_options()("status", po::value<std::string>()->value_name("S"),
                        "running, succeeded, failed, cancelled")(
            "workflow", po::value<std::string>()->value_name("NAME"), "only this workflow")(
            "limit", po::value<int>()->value_name("N"), "at most N (50)");
    };
    list.run = runs_list;
    Command show;
    show.name = "show";
    show.summary =
        "A run with its steps, attempts, outputs (secrets redacted) and errors; fan-out items "
        "as counts and the failed ones.";
    show.args_usage = "ID";
    show.min_args = show.max_args = 1;
    show.add_options = [](po::options_description& d) {
        d.add_options()("items", "list every fan-out item (up to --limit), not only failed ones")(
            "limit", po::value<int>()->value_name("N"), "items listed at most (100)");
    };
    show.run = runs_show;
    Command cancel;
    cancel.name = "cancel";
    cancel.summary =
        "Stop a run: no new steps start, waiting ones and child runs are cancelled, then the "
        "compensations of completed steps run.";
    cancel.args_usage = "ID";
    cancel.min_args = cancel.max_args = 1;
    cancel.run = runs_cancel;
    Command retry;
    retry.name = "retry";
    retry.summary = "Run a failed run again from its failed steps.";
    retry.args_usage = "ID";
    retry.min_args = retry.max_args = 1;
    retry.run = runs_retry;
    group.children = {list, show, cancel, retry};
    return group;
}

Command reconcile_command() {
    Command cmd;
    cmd.name = "reconcile";
    cmd.summary =
        "Re-enqueue steps of running runs whose jobs Redis lost (workers also do this "
        "periodically).";
    cmd.run = reconcile;
    return cmd;
}

}  // namespace artistsaid::cli
