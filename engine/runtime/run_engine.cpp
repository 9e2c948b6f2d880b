#include "engine/runtime/run_engine.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/core/logging.hpp"
#include "engine/queue/redis_queue.hpp"
#include "engine/store/database.hpp"
#include "engine/workflow/dag.hpp"
#include "engine/workflow/eval_context.hpp"
#include "engine/workflow/input_resolver.hpp"
#include "engine/workflow/validator.hpp"

extern char** environ;

namespace artistsaid::runtime {
namespace {

using workflow::StepStatus;
using Clock = std::chrono::system_clock;

int64_t to_ms(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string sha256_hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 0xf]);
    }
    return out;
}

StepStatus dag_status(const std::string& s) {
    if (s == "pending") return StepStatus::kPending;
    if (s == "succeeded") return StepStatus::kSucceeded;
    if (s == "continued") return StepStatus::kContinued;
    if (s == "skipped") return StepStatus::kSkipped;
    if (s == "failed" || s == "cancelled") return StepStatus::kFailed;
    return StepStatus::kRunning;  // queued, running, retrying, waiting
}

bool is_final(const std::string& s) {
    return s == "succeeded" || s == "failed" || s == "continued" || s == "skipped" ||
           s == "cancelled" || s == "compensated";
}

bool truthy(const nlohmann::json& v) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_null()) return false;
    if (v.is_string()) return !v.get<std::string>().empty() && v.get<std::string>() != "false";
    if (v.is_number_integer()) return v.get<long long>() != 0;
    return true;
}

std::string unique_key(const std::string& run_id, const std::string& step_id, int item,
                       int attempt, std::optional<Clock::time_point> run_at) {
    std::string key = run_id + ":" + step_id + ":" + std::to_string(item) + ":" +
                      std::to_string(attempt);
    if (run_at) key += ":w" + std::to_string(to_ms(*run_at));  // a wait's resumption
    return key;
}

// Replaces every secret value inside the strings of `value` with "***": step outputs and
// errors are stored and shown, and a plugin may echo what it was given.
nlohmann::json scrub_secrets(const nlohmann::json& value, const nlohmann::json& secrets) {
    if (value.is_string()) {
        std::string text = value.get<std::string>();
        for (const auto& [name, secret] : secrets.items()) {
            if (!secret.is_string()) continue;
            const std::string& s = secret.get_ref<const std::string&>();
            if (s.size() < 4) continue;
            for (size_t pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3))
                text.replace(pos, s.size(), "***");
        }
        return text;
    }
    if (value.is_array() || value.is_object()) {
        nlohmann::json out = value;
        for (auto& [key, member] : out.items()) member = scrub_secrets(member, secrets);
        return out;
    }
    return value;
}

double random_unit() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

struct RunEngine::ThreadConnections {
    std::unique_ptr<pqxx::connection> pg;
    std::unique_ptr<queue::RedisConnection> redis;
};

RunEngine::RunEngine(RuntimeOptions options, const StepRegistry& steps)
    : options_(std::move(options)), steps_(steps), catalog_(steps.catalog()) {
    static std::atomic<uint64_t> next_serial{1};
    serial_ = next_serial++;
}

RunEngine::~RunEngine() = default;

RunEngine::ThreadConnections& RunEngine::connections() {
    // Keyed by a serial, not the address: a later engine may reuse a freed address.
    thread_local std::map<uint64_t, ThreadConnections> per_engine;
    ThreadConnections& c = per_engine[serial_];
    if (!c.pg || !c.pg->is_open()) c.pg = store::connect(options_.database_url, options_.connect_timeout);
    if (!c.redis)
        c.redis = std::make_unique<queue::RedisConnection>(
            queue::RedisEndpoint::parse(options_.redis_url), options_.connect_timeout,
            std::chrono::seconds(10));
    return c;
}

std::shared_ptr<const workflow::WorkflowDefinition> RunEngine::definition_of(
    const store::RunRow& run) {
    std::string checksum = run.definition.value("checksum", "");
    {
        std::lock_guard lock(definitions_mutex_);
        if (auto it = definitions_.find(checksum); it != definitions_.end()) return it->second;
    }
    workflow::Validator validator(catalog_);
    auto result = validator.validate(run.definition.value("source", ""),
                                     run.definition.value("file", run.workflow_name + ".yaml"));
    if (!result.ok())
        throw WorkError("the definition stored with run " + run.id +
                        " no longer validates (was a step type removed?)");
    auto compiled = std::make_shared<const workflow::WorkflowDefinition>(std::move(*result.definition));
    std::lock_guard lock(definitions_mutex_);
    definitions_.emplace(checksum, compiled);
    return compiled;
}

nlohmann::json RunEngine::steps_context(const std::vector<store::StepRow>& steps) const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& s : steps) {
        if (s.item_index != -1) continue;
        std::string status = s.status;
        if (!is_final(status)) continue;
        out[s.step_id] = {{"outputs", s.outputs.is_null() ? nlohmann::json::object() : s.outputs},
                          {"status", status == "continued" ? "continued" : status}};
    }
    return out;
}

std::vector<PlannedStep> RunEngine::plan(const workflow::WorkflowDefinition& definition,
                                         const nlohmann::json& inputs) const {
    workflow::EvalContext context;
    context.env = &options_.env;
    nlohmann::json resolved = workflow::InputResolver(definition).resolve(inputs, context);
    nlohmann::json no_secrets = nlohmann::json::object();
    context.inputs = &resolved;
    context.secrets = &no_secrets;
    auto dag = workflow::Dag::build(definition.steps);
    std::vector<PlannedStep> out;
    auto levels = dag.levels();
    for (size_t level = 0; level < levels.size(); ++level) {
        for (size_t index : levels[level]) {
            const auto& step = definition.steps[index];
            PlannedStep p;
            p.id = step.id;
            p.uses = step.uses;
            p.needs = step.needs;
            p.level = static_cast<int>(level);
            if (!step.with.referenced_steps().empty()) {
                p.with = step.with.raw();  // depends on earlier steps' outputs
            } else {
                try {
                    p.with = step.with.render(context).redacted();
                } catch (const std::exception&) {
                    p.with = step.with.raw();
                }
            }
            out.push_back(std::move(p));
        }
    }
    return out;
}

StartedRun RunEngine::start(const workflow::WorkflowDefinition& definition,
                            const StartRequest& request) {
    if (!definition.on.command && (request.trigger_kind == "cli" || request.trigger_kind == "api"))
        throw InputError("workflow " + definition.name +
                         " cannot be started by hand (on: command: false)");
    workflow::EvalContext context;
    context.env = &options_.env;
    nlohmann::json inputs = workflow::InputResolver(definition).resolve(request.inputs, context);

    auto& c = connections();
    store::RunRow run;
    run.id = new_id();
    run.workflow_name = definition.name;
    run.workflow_version = definition.version;
    run.definition = {{"source", definition.source},
                      {"file", definition.file},
                      {"checksum", sha256_hex(definition.source)}};
    run.inputs = inputs;
    run.status = "running";
    run.trigger_kind = request.trigger_kind;
    run.trigger_ref = request.trigger_ref;
    run.dedupe_key = request.dedupe_key;

    std::vector<Enqueue> jobs;
    try {
        pqxx::work tx(*c.pg);
        if (!request.dedupe_key.empty()) {
            if (auto existing = store::RunStore::find_by_dedupe_key(tx, request.dedupe_key))
                return StartedRun{*existing, true};
        }
        store::RunStore::insert_run(tx, run);
        std::vector<store::StepRow> steps;
        for (const auto& s : definition.steps) {
            store::StepRow row;
            row.id = new_id();
            row.run_id = run.id;
            row.step_id = s.id;
            row.idempotency_key = run.id + ":" + s.id;
            steps.push_back(std::move(row));
        }
        store::RunStore::insert_steps(tx, steps);
        store::RunStore::add_event(tx, run.id, "run.started",
                                   {{"workflow", run.workflow_name},
                                    {"version", run.workflow_version},
                                    {"trigger", run.trigger_kind}});
        // Register the definition version (first run of a version records its YAML).
        tx.exec_params0(
            "INSERT INTO workflow_definitions (name, version, checksum, yaml, source_path) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name, version) DO NOTHING",
            definition.name, definition.version, run.definition["checksum"].get<std::string>(),
            definition.source, definition.file);
        jobs = advance(tx, run, definition, steps);
        tx.commit();
    } catch (const pqxx::unique_violation&) {
        // Two starts with one dedupe key raced: the other one won.
        pqxx::read_transaction tx(*c.pg);
        if (auto existing = store::RunStore::find_by_dedupe_key(tx, request.dedupe_key))
            return StartedRun{*existing, true};
        throw;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        c.pg.reset();
        store::throw_from_pqxx("starting a run of " + definition.name);
    }
    publish(run.id, {{"kind", "run.started"}, {"workflow", run.workflow_name}});
    enqueue(run.id, jobs);
    return StartedRun{run.id, false};
}

std::vector<RunEngine::Enqueue> RunEngine::advance(pqxx::work& tx, const store::RunRow& run,
                                                   const workflow::WorkflowDefinition& definition,
                                                   std::vector<store::StepRow>& steps) {
    auto dag = workflow::Dag::build(definition.steps);
    std::map<std::string, store::StepRow*> by_id;
    for (auto& s : steps)
        if (s.item_index == -1) by_id[s.step_id] = &s;
    std::vector<StepStatus> status(dag.size(), StepStatus::kPending);
    bool any_failed = false;
    for (size_t i = 0; i < dag.size(); ++i) {
        auto it = by_id.find(dag.id(i));
        if (it != by_id.end()) status[i] = dag_status(it->second->status);
        any_failed = any_failed || status[i] == StepStatus::kFailed;
    }

    std::vector<Enqueue> jobs;
    bool any_running = std::any_of(status.begin(), status.end(),
                                   [](StepStatus s) { return s == StepStatus::kRunning; });
    std::vector<size_t> ready = any_failed ? std::vector<size_t>{} : dag.ready(status);
    if (!ready.empty()) {
        std::vector<std::string> ids;
        for (size_t i : ready) {
            store::StepRow* row = by_id.at(dag.id(i));
            row->status = "queued";
            ids.push_back(row->step_id);
            jobs.push_back(Enqueue{row->step_id, -1, row->attempt + 1, std::nullopt});
        }
        store::RunStore::set_steps_status(tx, run.id, ids, "queued");
        return jobs;
    }
    if (any_running) return jobs;

    // Nothing runs and nothing more can start: the run is over.
    std::vector<std::string> never_started;
    std::string first_error;
    nlohmann::json outputs = nlohmann::json::object();
    for (auto& s : steps) {
        if (s.item_index != -1) continue;
        if (s.status == "pending") never_started.push_back(s.step_id);
        if (s.status == "failed" && first_error.empty())
            first_error = "step " + s.step_id + " failed: " + s.error;
        if (s.status == "succeeded" || s.status == "continued") outputs[s.step_id] = s.outputs;
    }
    store::RunStore::set_steps_status(tx, run.id, never_started, "cancelled");
    std::string final_status = any_failed ? "failed" : "succeeded";
    store::RunStore::set_run_status(tx, run.id, final_status, first_error);
    tx.exec_params0("UPDATE workflow_runs SET outputs = $2::jsonb WHERE id = $1::uuid", run.id,
                    outputs.dump());
    store::RunStore::add_event(tx, run.id, "run." + final_status,
                               {{"error", first_error.empty() ? nlohmann::json() : nlohmann::json(first_error)}});
    return jobs;
}

void RunEngine::enqueue(const std::string& run_id, const std::vector<Enqueue>& jobs) {
    if (jobs.empty()) return;
    auto& c = connections();
    queue::RedisQueue q(*c.redis, options_.queue_prefix);
    std::vector<queue::NewJob> batch;
    for (const auto& e : jobs) {
        queue::NewJob job;
        job.type = std::string(kStepJobType);
        job.payload = nlohmann::json{{"run", run_id},
                                     {"step", e.step_id},
                                     {"item", e.item_index},
                                     {"attempt", e.attempt}}
                          .dump();
        job.options.unique_key = unique_key(run_id, e.step_id, e.item_index, e.attempt, e.run_at);
        job.options.run_at = e.run_at;
        // The queue retries only infrastructure failures (PostgreSQL unreachable and the
        // like); the step's own retry policy is applied by the run-time.
        job.options.retry.max_attempts = 10;
        job.options.retry.base_delay = std::chrono::seconds(1);
        job.options.retry.max_delay = std::chrono::minutes(5);
        batch.push_back(std::move(job));
    }
    try {
        q.enqueue_batch(options_.queue, batch);
    } catch (const Error& e) {
        // The steps are committed as queued: the reconciler enqueues them later.
        spdlog::warn("run {}: could not enqueue {} step job(s) now ({}); reconcile will",
                     run_id, batch.size(), e.what());
    }
}

void RunEngine::publish(const std::string& run_id, const nlohmann::json& event) {
    try {
        auto& c = connections();
        nlohmann::json message = event;
        message["run"] = run_id;
        message["at"] = to_ms(Clock::now());
        std::string text = message.dump();
        c.redis->append({"PUBLISH", options_.queue_prefix + ":run:" + run_id, text});
        c.redis->append({"PUBLISH", options_.queue_prefix + ":runs", text});
        c.redis->read_reply();
        c.redis->read_reply();
    } catch (const Error& e) {
        spdlog::debug("run {}: live update not published: {}", run_id, e.what());
    }
}

void RunEngine::register_handler(worker::HandlerRegistry& handlers) {
    handlers.add(std::string(kStepJobType), [this](const worker::JobContext& ctx) { perform(ctx); });
}

void RunEngine::perform(const worker::JobContext& ctx) {
    const auto& p = ctx.payload;
    if (!p.is_object() || !p.contains("run") || !p.contains("step"))
        throw InputError("workflow.step job without run and step");
    const std::string run_id = p["run"].get<std::string>();
    const std::string step_id = p["step"].get<std::string>();
    const int item = p.value("item", -1);
    const int attempt = p.value("attempt", 1);
    auto& c = connections();

    // 1. Claim the attempt: decide to skip, or render the inputs and mark it running.
    std::shared_ptr<const workflow::WorkflowDefinition> definition;
    const workflow::StepDefinition* step_def = nullptr;
    nlohmann::json with;
    bool resumed = false;
    std::vector<Enqueue> follow_ups;
    std::vector<nlohmann::json> events;
    try {
        pqxx::work tx(*c.pg);
        auto run = store::RunStore::lock_run(tx, run_id);
        if (!run || run->status != "running") return;  // finished or cancelled meanwhile
        definition = definition_of(*run);
        step_def = definition->find_step(step_id);
        if (step_def == nullptr) throw WorkError("run " + run_id + " has no step " + step_id);
        auto step = store::RunStore::lock_step(tx, run_id, step_id, item);
        if (!step || is_final(step->status) || step->status == "pending") return;
        if (attempt < step->attempt) return;  // a newer attempt exists
        resumed = step->status == "waiting";
        auto steps = store::RunStore::steps_of(tx, run_id);
        nlohmann::json steps_json = steps_context(steps);
        nlohmann::json run_json = {{"id", run_id},
                                   {"workflow", run->workflow_name},
                                   {"version", run->workflow_version},
                                   {"started_at", run->started_at}};
        workflow::EvalContext ectx;
        ectx.inputs = &run->inputs;
        ectx.steps = &steps_json;
        ectx.env = &options_.env;
        ectx.secrets = &options_.secrets;
        ectx.run = &run_json;

        std::string skip_or_error;
        bool skip = false;
        try {
            if (!resumed && step_def->condition &&
                !truthy(step_def->condition->render(ectx).data()))
                skip = true;
            if (!skip) {
                auto rendered = step_def->with.render(ectx);
                step->inputs = rendered.redacted();
                with = std::move(rendered).release();
            }
        } catch (const std::exception& e) {
            skip_or_error = logging::redact(e.what());
        }
        if (skip || !skip_or_error.empty()) {
            step->status = skip ? "skipped"
                                : (step_def->on_error == workflow::OnError::kContinue ? "continued"
                                                                                      : "failed");
            step->error = skip ? "" : "evaluating the step: " + skip_or_error;
            step->attempt = std::max(step->attempt, attempt);
            store::RunStore::update_step(tx, *step);
            for (auto& s : steps)
                if (s.step_id == step_id && s.item_index == item) s = *step;
            store::RunStore::add_event(tx, run_id, "step." + step->status,
                                       {{"step", step_id}, {"error", step->error}}, step->id);
            follow_ups = advance(tx, *run, *definition, steps);
            tx.commit();
            publish(run_id, {{"kind", "step." + step->status}, {"step", step_id}});
            enqueue(run_id, follow_ups);
            return;
        }
        step->status = "running";
        step->attempt = attempt;
        step->next_attempt_ms = 0;
        store::RunStore::update_step(tx, *step);
        if (!resumed)
            store::RunStore::add_event(tx, run_id, "step.started",
                                       {{"step", step_id}, {"attempt", attempt}}, step->id);
        tx.commit();
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        c.pg.reset();
        store::throw_from_pqxx("starting step " + step_id + " of run " + run_id);
    }
    if (!resumed) publish(run_id, {{"kind", "step.started"}, {"step", step_id}, {"attempt", attempt}});

    // 2. Run the plugin, outside any transaction.
    StepPlugin* plugin = steps_.find(step_def->uses);
    auto timeout = step_def->timeout.value_or(std::chrono::hours(1));
    StepCall call;
    call.run_id = run_id;
    call.step_id = step_id;
    call.item_index = item;
    call.attempt = attempt;
    call.idempotency_key = run_id + ":" + step_id + (item >= 0 ? ":" + std::to_string(item) : "");
    call.with = std::move(with);
    call.deadline = Clock::now() + timeout;
    call.resumed = resumed;
    call.should_stop = &ctx.should_stop;
    StepResult result;
    if (plugin == nullptr) {
        result = StepResult::failure("no plugin implements '" + step_def->uses + "'", false);
    } else {
        try {
            result = plugin->run(call);
        } catch (const InputError& e) {
            result = StepResult::failure(logging::redact(e.what()), false);
        } catch (const std::exception& e) {
            result = StepResult::failure(logging::redact(e.what()), true);
        }
    }
    if (result.kind == StepResult::Kind::kSucceeded && Clock::now() > call.deadline)
        result = StepResult::failure("timed out: the attempt took longer than " +
                                         std::to_string(timeout.count() / 1000) + "s",
                                     true);

    // 3. Commit the outcome and queue what it unlocked.
    std::string new_status;
    try {
        pqxx::work tx(*c.pg);
        auto run = store::RunStore::lock_run(tx, run_id);
        if (!run) return;
        auto step = store::RunStore::lock_step(tx, run_id, step_id, item);
        if (!step || step->attempt != attempt || step->status != "running") return;  // stale
        if (run->status != "running") {
            step->status = "cancelled";
            store::RunStore::update_step(tx, *step);
            tx.commit();
            return;
        }
        switch (result.kind) {
            case StepResult::Kind::kSucceeded:
                step->status = "succeeded";
                step->outputs = scrub_secrets(result.outputs, options_.secrets);
                step->error.clear();
                break;
            case StepResult::Kind::kWait: {
                step->status = "waiting";
                auto at = result.resume_at.value_or(Clock::now());
                step->next_attempt_ms = to_ms(at);
                follow_ups.push_back(Enqueue{step_id, item, attempt, at});
                break;
            }
            case StepResult::Kind::kFailed: {
                workflow::RetryPolicy policy = step_def->retry.value_or(workflow::RetryPolicy{});
                step->error = scrub_secrets(result.error, options_.secrets).get<std::string>();
                if (result.retryable && attempt < policy.attempts) {
                    auto delay = policy.jittered(policy.delay_before(attempt + 1), random_unit());
                    auto at = Clock::now() + delay;
                    step->status = "retrying";
                    step->next_attempt_ms = to_ms(at);
                    follow_ups.push_back(Enqueue{step_id, item, attempt + 1, at});
                } else {
                    step->status = step_def->on_error == workflow::OnError::kContinue ? "continued"
                                                                                      : "failed";
                }
                break;
            }
        }
        store::RunStore::update_step(tx, *step);
        store::RunStore::add_event(tx, run_id, "step." + step->status,
                                   {{"step", step_id},
                                    {"attempt", attempt},
                                    {"error", step->error.empty() ? nlohmann::json() : nlohmann::json(step->error)}},
                                   step->id);
        new_status = step->status;
        if (is_final(step->status)) {
            auto steps = store::RunStore::steps_of(tx, run_id);
            auto more = advance(tx, *run, *definition, steps);
            follow_ups.insert(follow_ups.end(), more.begin(), more.end());
        }
        tx.commit();
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        c.pg.reset();
        store::throw_from_pqxx("recording step " + step_id + " of run " + run_id);
    }
    publish(run_id, {{"kind", "step." + new_status}, {"step", step_id}, {"attempt", attempt}});
    enqueue(run_id, follow_ups);
}

ReconcileReport RunEngine::reconcile(int max_runs) {
    ReconcileReport report;
    auto& c = connections();
    std::vector<std::string> ids;
    {
        pqxx::read_transaction tx(*c.pg);
        ids = store::RunStore::active_run_ids(tx, max_runs);
    }
    for (const auto& run_id : ids) {
        ++report.runs_checked;
        std::vector<Enqueue> jobs;
        {
            pqxx::work tx(*c.pg);
            auto run = store::RunStore::lock_run(tx, run_id);
            if (!run || run->status != "running") continue;
            auto steps = store::RunStore::steps_of(tx, run_id);
            for (const auto& s : steps) {
                if (s.status == "queued")
                    jobs.push_back(Enqueue{s.step_id, s.item_index, s.attempt + 1, std::nullopt});
                else if (s.status == "running")
                    jobs.push_back(Enqueue{s.step_id, s.item_index, s.attempt, std::nullopt});
                else if (s.status == "retrying")
                    jobs.push_back(Enqueue{s.step_id, s.item_index, s.attempt + 1,
                                           Clock::time_point(std::chrono::milliseconds(s.next_attempt_ms))});
                else if (s.status == "waiting")
                    jobs.push_back(Enqueue{s.step_id, s.item_index, s.attempt,
                                           Clock::time_point(std::chrono::milliseconds(s.next_attempt_ms))});
            }
            // A run whose steps are all settled but which is still marked running (a
            // crash inside advance cannot cause this, but an operator's edit could).
            if (jobs.empty()) {
                auto definition = definition_of(*run);
                jobs = advance(tx, *run, *definition, steps);
            }
            tx.commit();
        }
        report.jobs_enqueued += static_cast<int>(jobs.size());
        enqueue(run_id, jobs);
    }
    return report;
}

bool RunEngine::cancel(const std::string& run_id) {
    auto& c = connections();
    {
        pqxx::work tx(*c.pg);
        auto run = store::RunStore::lock_run(tx, run_id);
        if (!run) throw InputError("no run " + run_id, ErrorCode::kNotFound);
        if (run->status != "running" && run->status != "pending" && run->status != "waiting")
            return false;
        std::vector<std::string> stop;
        for (const auto& s : store::RunStore::steps_of(tx, run_id))
            if (!is_final(s.status) && s.status != "running") stop.push_back(s.step_id);
        store::RunStore::set_steps_status(tx, run_id, stop, "cancelled");
        store::RunStore::set_run_status(tx, run_id, "cancelled", "cancelled by request");
        tx.exec_params0("UPDATE workflow_runs SET cancel_requested_at = now() WHERE id = $1::uuid",
                        run_id);
        store::RunStore::add_event(tx, run_id, "run.cancelled", nlohmann::json::object());
        tx.commit();
    }
    publish(run_id, {{"kind", "run.cancelled"}});
    return true;
}

void RunEngine::retry(const std::string& run_id) {
    auto& c = connections();
    std::vector<Enqueue> jobs;
    {
        pqxx::work tx(*c.pg);
        auto run = store::RunStore::lock_run(tx, run_id);
        if (!run) throw InputError("no run " + run_id, ErrorCode::kNotFound);
        if (run->status != "failed" && run->status != "cancelled")
            throw InputError("run " + run_id + " is " + run->status +
                             ": only failed or cancelled runs can be retried");
        auto definition = definition_of(*run);
        auto steps = store::RunStore::steps_of(tx, run_id);
        std::vector<std::string> reset;
        for (auto& s : steps) {
            if (s.status == "failed" || s.status == "cancelled") {
                s.status = "pending";
                s.error.clear();
                s.attempt = 0;
                store::RunStore::update_step(tx, s);
                reset.push_back(s.step_id);
            }
        }
        store::RunStore::set_run_status(tx, run_id, "running");
        tx.exec_params0(
            "UPDATE workflow_runs SET finished_at = NULL, error = NULL, outputs = NULL "
            "WHERE id = $1::uuid",
            run_id);
        store::RunStore::add_event(tx, run_id, "run.retried", {{"steps", reset}});
        jobs = advance(tx, *run, *definition, steps);
        tx.commit();
    }
    publish(run_id, {{"kind", "run.retried"}});
    enqueue(run_id, jobs);
}

void load_env_and_secrets(RuntimeOptions& options) {
    const std::string env_prefix = "ARTISTSAID_ENV_", secret_prefix = "ARTISTSAID_SECRET_";
    for (char** e = environ; *e != nullptr; ++e) {
        std::string entry(*e);
        auto eq = entry.find('=');
        if (eq == std::string::npos) continue;
        std::string key = entry.substr(0, eq), value = entry.substr(eq + 1);
        if (key.rfind(env_prefix, 0) == 0) options.env[key.substr(env_prefix.size())] = value;
        if (key.rfind(secret_prefix, 0) == 0) {
            options.secrets[key.substr(secret_prefix.size())] = value;
            logging::add_secret(value);
        }
    }
    if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir != nullptr && *dir != '\0') {
        std::error_code ec;
        for (const auto& file : std::filesystem::directory_iterator(dir, ec)) {
            if (!file.is_regular_file()) continue;
            std::ifstream in(file.path(), std::ios::binary);
            std::stringstream text;
            text << in.rdbuf();
            std::string value = text.str();
            while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
            options.secrets[file.path().filename().string()] = value;
            logging::add_secret(value);
        }
    }
}

}  // namespace artistsaid::runtime
