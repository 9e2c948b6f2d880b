#include "engine/runtime/run_engine.hpp"

#include <algorithm>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/core/logging.hpp"
#include "engine/queue/redis_queue.hpp"
#include "engine/runtime/buffered_writes.hpp"
#include "engine/runtime/run_engine_detail.hpp"
#include "engine/store/database.hpp"
#include "engine/store/run_write_buffer.hpp"
#include "engine/workflow/dag.hpp"
#include "engine/workflow/eval_context.hpp"
#include "engine/workflow/input_resolver.hpp"
#include "engine/workflow/validator.hpp"
#include "engine/workflow/workflow_directory.hpp"

extern char** environ;

namespace artistsaid::runtime {

using namespace detail;

namespace {

// Definition snapshots known to be committed, per engine (its serial) and exact YAML
// (checksum and file): their workflow_definitions ids.
std::mutex g_snapshots_mutex;
std::map<std::string, std::int64_t> g_snapshots;

std::string snapshot_key(uint64_t serial, const std::string& checksum, const std::string& file) {
    return std::to_string(serial) + '\n' + checksum + '\n' + file;
}

// The id of the snapshot of `definition` (0014_run_rows.sql): from the engine's cache, else
// found or inserted in `tx` — remembered by remember_snapshot once `tx` committed, as a
// rolled-back insert leaves no row. Concurrent first inserts of one snapshot wait for each
// other's commit, so that happens once per engine and YAML.
std::int64_t snapshot_of(uint64_t serial, pqxx::work& tx,
                         const workflow::WorkflowDefinition& definition,
                         const std::string& checksum) {
    {
        std::lock_guard lock(g_snapshots_mutex);
        auto it = g_snapshots.find(snapshot_key(serial, checksum, definition.file));
        if (it != g_snapshots.end()) return it->second;
    }
    tx.conn().prepare("aa_definition_snapshot",
        "WITH i AS (INSERT INTO workflow_definitions (name, version, checksum, yaml, source_path) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (checksum, coalesce(source_path, '')) "
        "DO NOTHING RETURNING id) "
        "SELECT id FROM i UNION ALL SELECT id FROM workflow_definitions "
        "WHERE checksum = $3 AND coalesce(source_path, '') = $5 LIMIT 1");
    auto r = tx.exec_prepared("aa_definition_snapshot", definition.name, definition.version,
                              checksum, definition.source, definition.file);
    if (r.empty()) {
        // Inserted by a transaction that committed while this statement waited for it: the
        // next statement sees it.
        r = tx.exec_params(
            "SELECT id FROM workflow_definitions WHERE checksum = $1 AND "
            "coalesce(source_path, '') = $2",
            checksum, definition.file);
    }
    if (r.empty())
        throw Error(ErrorCode::kInternal,
                    "the definition snapshot of " + definition.name + " was not stored");
    return r[0][0].as<std::int64_t>();
}

void remember_snapshot(uint64_t serial, const store::RunRow& run) {
    if (!run.definition_id) return;
    std::lock_guard lock(g_snapshots_mutex);
    g_snapshots.emplace(snapshot_key(serial, run.definition.value("checksum", ""),
                                     run.definition.value("file", "")),
                        *run.definition_id);
}

}  // namespace

RunEngine::RunEngine(RuntimeOptions options, const StepRegistry& steps)
    : options_(std::move(options)), steps_(steps), catalog_(steps.catalog()) {
    static std::atomic<uint64_t> next_serial{1};
    serial_ = next_serial++;
}

RunEngine::~RunEngine() = default;

void RunEngine::set_workflow_source(WorkflowSource source) { workflow_source_ = std::move(source); }

RunEngine::ThreadConnections& RunEngine::connections() {
    // Keyed by a serial, not the address: a later engine may reuse a freed address.
    thread_local std::map<uint64_t, ThreadConnections> per_engine;
    ThreadConnections& c = per_engine[serial_];
    if (!c.pg || !c.pg->is_open()) {
        c.pg = store::connect(options_.database_url, options_.connect_timeout);
        // Short statements only: JIT-compiling one (PostgreSQL does so when an estimate
        // passes jit_above_cost, as a fan-out's recursive lane lookup can) costs 0.3-2 s.
        pqxx::nontransaction tx(*c.pg);
        tx.exec0("SET jit = off");
    }
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

RunEngine::Target RunEngine::target_of(const workflow::WorkflowDefinition& definition,
                                       const std::string& step_id) const {
    Target t;
    if (step_id.rfind(kCompensationPrefix, 0) == 0) {
        t.role = StepRole::kCompensation;
        t.step = definition.find_step(step_id.substr(kCompensationPrefix.size()));
        if (t.step != nullptr && !t.step->compensate) t.step = nullptr;
        return t;
    }
    for (const auto& s : definition.on_failure) {
        if (s.id == step_id) {
            t.role = StepRole::kFailureHandler;
            t.step = &s;
            return t;
        }
    }
    t.step = definition.find_step(step_id);
    return t;
}

nlohmann::json RunEngine::steps_context(const std::vector<store::StepRow>& rows, bool all) const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& s : rows) {
        if (s.item_index != -1 || is_compensation(s.step_id)) continue;
        if (!all && !is_final(s.status)) continue;
        bool ran = s.status == "succeeded" || s.status == "continued" || s.status == "compensated" ||
                   s.status == "failed" || s.status == "cancelled";
        out[s.step_id] = {
            {"outputs", s.outputs.is_null() ? (ran || !all ? nlohmann::json::object() : nlohmann::json())
                                            : s.outputs},
            {"status", s.status}};
    }
    return out;
}

nlohmann::json RunEngine::run_context(const store::RunRow& run, bool failure) const {
    nlohmann::json out = {{"id", run.id},
                          {"workflow", run.workflow_name},
                          {"version", run.workflow_version},
                          {"started_at", run.started_at}};
    if (failure) {
        out["failed_step"] = run.failed_step.empty() ? nlohmann::json() : nlohmann::json(run.failed_step);
        out["error"] = run.error.empty() ? nlohmann::json() : nlohmann::json(run.error);
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
            if (!step.with.referenced_steps().empty() || step.with.uses_item()) {
                p.with = step.with.raw();  // depends on earlier steps' outputs or the item
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

// --- starting runs ---------------------------------------------------------------------

RunEngine::Jobs RunEngine::start_in(pqxx::work& tx, const workflow::WorkflowDefinition& definition,
                                    store::RunRow& run, std::vector<nlohmann::json>* updates) {
    run.id = run.id.empty() ? new_id() : run.id;
    run.workflow_name = definition.name;
    run.workflow_version = definition.version;
    const std::string checksum = sha256_hex(definition.source);
    // The run refers to the snapshot of its exact YAML, stored once (0014_run_rows.sql):
    // it carries no copy of the text (only what remember_snapshot needs), since a run
    // written here always has its definition_id.
    run.definition = {{"file", definition.file}, {"checksum", checksum}};
    run.definition_id = snapshot_of(serial_, tx, definition, checksum);
    run.status = "running";
    if (definition.concurrency) {
        // The key was rendered by the caller (it may read inputs and env only).
        store::RunStore::lock_concurrency_key(tx, run.concurrency_key);
        if (store::RunStore::count_active_runs(tx, run.concurrency_key) >=
            definition.concurrency->limit)
            run.status = "pending";
        // Runs already waiting go first (FIFO), even if a slot just freed.
        else if (!store::RunStore::pending_runs(tx, run.concurrency_key, 1).empty())
            run.status = "pending";
    }
    std::vector<store::StepRow> steps;
    for (const auto& s : definition.steps) {
        store::StepRow row;
        row.id = new_id();
        row.run_id = run.id;
        row.step_id = s.id;
        row.idempotency_key = run.id + ":" + s.id;
        steps.push_back(std::move(row));
    }
    const std::string first_event = run.status == "pending" ? "run.pending" : "run.started";
    const nlohmann::json first_payload = {{"workflow", run.workflow_name},
                                          {"version", run.workflow_version},
                                          {"trigger", run.trigger_kind}};
    // A run started with its inline steps is kept in the thread's write buffer, when there
    // is one, and written once in its final state (flushed before anything reads it).
    if (updates != nullptr && BufferedWrites::current() != nullptr)
        BufferedWrites::current()->add_run(run, steps, first_event, first_payload);
    else
        store::RunStore::insert_run_with_steps(tx, run, steps, first_event, first_payload);
    if (run.status != "running") return {};
    if (updates == nullptr) return advance(tx, run, definition, steps);  // the rows just inserted
    // The first steps that run inline (built-ins without I/O) run now, in this transaction.
    InlineStart first;
    Jobs ready = advance(tx, run, definition, steps, &first.deferred);
    static const std::atomic<bool> kNeverStop{false};
    return run_inline(tx, run, definition, steps, std::move(first), std::move(ready), kNeverStop,
                      *updates);
}

RunEngine::PendingStart RunEngine::prepare_start(const workflow::WorkflowDefinition& definition,
                                                 const StartRequest& request) const {
    if (!definition.on.command && (request.trigger_kind == "cli" || request.trigger_kind == "api"))
        throw InputError("workflow " + definition.name +
                         " cannot be started by hand (on: command: false)");
    workflow::EvalContext context;
    context.env = &options_.env;
    nlohmann::json inputs = workflow::InputResolver(definition).resolve(request.inputs, context);

    PendingStart p;
    p.definition = &definition;
    p.run.inputs = inputs;
    p.run.trigger_kind = request.trigger_kind;
    p.run.trigger_ref = request.trigger_ref;
    p.run.dedupe_key = request.dedupe_key;
    if (definition.concurrency)
        p.run.concurrency_key = render_concurrency_key(definition, inputs, options_.env);
    // The id is drawn now, so a start repeated alone after its batch failed (or whose
    // commit outcome is unknown) cannot create a second run: it would collide.
    p.run.id = new_id();
    p.original = p.run;
    return p;
}

StartedRun RunEngine::start(const workflow::WorkflowDefinition& definition,
                            const StartRequest& request) {
    PendingStart p = prepare_start(definition, request);
    if (may_group(p))
        starts_.submit(p, [this](const std::vector<PendingStart*>& batch) { start_batch(batch); });
    else
        start_alone(p);
    if (p.error) std::rethrow_exception(p.error);
    return acknowledge(p);
}

std::vector<StartOutcome> RunEngine::start_all(const std::vector<StartCall>& calls) {
    std::vector<StartOutcome> out(calls.size());
    std::vector<PendingStart> pending(calls.size());
    std::vector<PendingStart*> batch;
    for (size_t i = 0; i < calls.size(); ++i) {
        try {
            if (calls[i].definition == nullptr) throw InputError("start_all: a call without a workflow");
            pending[i] = prepare_start(*calls[i].definition, calls[i].request);
        } catch (...) {
            out[i].error = std::current_exception();
            continue;
        }
        if (may_group(pending[i]))
            batch.push_back(&pending[i]);
        else
            start_alone(pending[i]);
    }
    if (!batch.empty()) start_batch(batch);
    for (size_t i = 0; i < calls.size(); ++i) {
        if (out[i].error) continue;
        if (pending[i].error) {
            out[i].error = pending[i].error;
            continue;
        }
        out[i].run = acknowledge(pending[i]);
    }
    return out;
}

void RunEngine::store_snapshots_in_order(pqxx::work& tx, const std::vector<PendingStart*>& batch) {
    // A batch of several workflows stores their snapshots first, ordered by (checksum, file):
    // two batches then never wait on each other's new snapshot rows in opposite orders.
    // Most batches start one workflow: only then is nothing hashed a second time.
    std::vector<const workflow::WorkflowDefinition*> definitions;
    for (const PendingStart* p : batch)
        if (std::find(definitions.begin(), definitions.end(), p->definition) == definitions.end())
            definitions.push_back(p->definition);
    if (definitions.size() < 2) return;
    std::map<std::pair<std::string, std::string>, const workflow::WorkflowDefinition*> distinct;
    for (const auto* d : definitions)
        distinct.emplace(std::make_pair(sha256_hex(d->source), d->file), d);
    if (distinct.size() < 2) return;
    for (const auto& [key, definition] : distinct) snapshot_of(serial_, tx, *definition, key.first);
}

void RunEngine::start_batch(const std::vector<PendingStart*>& batch) {
    if (batch.size() == 1) {
        start_alone(*batch.front());
        return;
    }
    auto& c = connections();
    try {
        store::RunWriteBuffer buffer;
        BufferedWrites scope(buffer);
        pqxx::work tx(*c.pg);
        store_snapshots_in_order(tx, batch);
        for (PendingStart* p : batch) p->jobs = start_in(tx, *p->definition, p->run, &p->updates);
        flush_writes(tx);
        tx.commit();
    } catch (const pqxx::in_doubt_error&) {
        // The commit may or may not have happened: repeating the starts could not create
        // duplicates (their ids are fixed) but would report them as failed; say so.
        c.pg.reset();
        std::exception_ptr error;
        try {
            store::throw_from_pqxx("starting " + std::to_string(batch.size()) + " runs");
        } catch (...) {
            error = std::current_exception();
        }
        for (PendingStart* p : batch) p->error = error;
        return;
    } catch (const std::exception& e) {
        // One bad start must not fail the others: each goes again in its own transaction,
        // where only the bad one fails.
        spdlog::debug("a batch of {} starts failed ({}); starting them one by one",
                      batch.size(), e.what());
        if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) c.pg.reset();
        for (PendingStart* p : batch) {
            p->run = p->original;
            p->jobs.clear();
            p->updates.clear();
            start_alone(*p);
        }
        return;
    }
    for (PendingStart* p : batch) remember_snapshot(serial_, p->run);
}

void RunEngine::start_alone(PendingStart& p) {
    const workflow::WorkflowDefinition& definition = *p.definition;
    auto& c = connections();
    try {
        try {
            store::RunWriteBuffer buffer;
            BufferedWrites scope(buffer);
            pqxx::work tx(*c.pg);
            if (!p.run.dedupe_key.empty()) {
                if (auto existing = store::RunStore::find_by_dedupe_key(tx, p.run.dedupe_key)) {
                    p.existing = *existing;
                    return;
                }
            }
            p.jobs = start_in(tx, definition, p.run, &p.updates);
            flush_writes(tx);
            tx.commit();
            remember_snapshot(serial_, p.run);
        } catch (const pqxx::unique_violation&) {
            if (!p.run.dedupe_key.empty()) {
                // Two starts with one dedupe key raced: the other one won.
                pqxx::read_transaction tx(*c.pg);
                if (auto existing = store::RunStore::find_by_dedupe_key(tx, p.run.dedupe_key)) {
                    p.existing = *existing;
                    return;
                }
            }
            store::throw_from_pqxx("starting a run of " + definition.name);
        } catch (const Error&) {
            throw;
        } catch (const std::exception&) {
            c.pg.reset();
            store::throw_from_pqxx("starting a run of " + definition.name);
        }
    } catch (...) {
        p.error = std::current_exception();
    }
}

StartedRun RunEngine::acknowledge(PendingStart& p) {
    if (p.existing) return StartedRun{*p.existing, true, false};
    nlohmann::json started = {{"kind", p.run.status == "pending" ? "run.pending" : "run.started"},
                              {"workflow", p.run.workflow_name}};
    p.updates.insert(p.updates.begin(), std::move(started));
    publish_all(p.run.id, p.updates);
    enqueue(p.run.id, p.jobs);
    return StartedRun{p.run.id, false, p.run.status == "pending"};
}

// --- running steps ---------------------------------------------------------------------

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
    // Items of a fan-out take the short path (no run lock); everything else, including
    // a fan-out's own row, the long one.
    if (item >= 0 && !is_compensation(step_id))
        perform_item(ctx, run_id, step_id, item, attempt);
    else
        perform_step(ctx, run_id, step_id, item, attempt);
}

StepResult RunEngine::execute(const StepPlugin* plugin, const std::string& uses, StepCall& call,
                              std::chrono::milliseconds timeout) {
    call.deadline = Clock::now() + timeout;
    StepResult result;
    if (plugin == nullptr) {
        result = StepResult::failure("no plugin implements '" + uses + "'", false);
    } else {
        try {
            result = const_cast<StepPlugin*>(plugin)->run(call);
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
    return result;
}

RunEngine::Claim RunEngine::prepare(pqxx::work& tx, const store::RunRow& run, const Target& target,
                                    const store::StepRow& row,
                                    const std::vector<store::StepRow>& parents, bool resumed) {
    const bool failure = target.role == StepRole::kFailureHandler;
    const workflow::ValueTemplate& with_template =
        target.role == StepRole::kCompensation ? target.step->compensate->with : target.step->with;
    // A step whose `with` (and `if`) hold no expression reads nothing of the run: most
    // inline steps. Their context is left empty instead of copying every finished step's
    // outputs into it.
    const bool reads_context =
        target.role == StepRole::kCompensation || !with_template.is_literal() ||
        (target.step->condition && !target.step->condition->is_literal());
    nlohmann::json steps_json =
        reads_context ? steps_context(parents, failure) : nlohmann::json::object();
    nlohmann::json run_json = reads_context ? run_context(run, failure) : nlohmann::json::object();
    nlohmann::json item_json;
    workflow::EvalContext ectx;
    ectx.inputs = &run.inputs;
    ectx.steps = &steps_json;
    ectx.env = &options_.env;
    ectx.secrets = &options_.secrets;
    ectx.run = &run_json;
    const int item = row.item_index;
    if (target.role == StepRole::kCompensation) {
        // The compensation reads the undone step's own outputs (an item's, per item).
        if (item >= 0) {
            flush_writes(tx);
            auto original = store::RunStore::find_step(tx, run.id, target.step->id, item);
            if (original) {
                item_json = original->item;
                steps_json[target.step->id] = {{"outputs", original->outputs},
                                               {"status", original->status}};
            }
        } else {
            for (const auto& s : parents)
                if (s.step_id == target.step->id)
                    steps_json[s.step_id] = {{"outputs", s.outputs}, {"status", s.status}};
        }
    } else if (item >= 0) {
        item_json = row.item;
    }
    if (item >= 0) {
        ectx.item = &item_json;
        ectx.index = item;
    }
    Claim claim;
    try {
        if (!resumed && target.role != StepRole::kCompensation && item < 0 &&
            target.step->condition && !truthy(target.step->condition->render(ectx).data())) {
            claim.settled = "skipped";
            return claim;
        }
        auto rendered = with_template.render(ectx);
        claim.inputs = rendered.redacted();
        claim.with = std::move(rendered).release();
    } catch (const std::exception& e) {
        claim.settled = continues(target) ? "continued" : "failed";
        claim.error = "evaluating the step: " + logging::redact(e.what());
    }
    return claim;
}

bool RunEngine::runs_inline(const Target& target) const {
    if (target.step == nullptr || (target.role == StepRole::kMain && target.step->for_each))
        return false;
    const std::string& uses =
        target.role == StepRole::kCompensation ? target.step->compensate->uses : target.step->uses;
    const StepPlugin* plugin = steps_.find(uses);
    return plugin != nullptr && plugin->runs_inline();
}

RunEngine::Jobs RunEngine::run_inline(pqxx::work& tx, store::RunRow& run,
                                      const workflow::WorkflowDefinition& definition,
                                      std::vector<store::StepRow>& parents,
                                      InlineStart first, Jobs ready,
                                      const std::atomic<bool>& should_stop,
                                      std::vector<nlohmann::json>& updates) {
    Jobs out;
    std::deque<Enqueue> chain;
    Deferred deferred = std::move(first.deferred);
    auto route = [&](Jobs produced) {
        for (auto& j : produced) {
            bool chainable = (j.run_id.empty() || j.run_id == run.id) && j.item_index == -1 &&
                             !j.run_at && runs_inline(target_of(definition, j.step_id));
            (chainable ? chain.emplace_back(std::move(j)) : out.emplace_back(std::move(j)));
        }
    };
    // Runs one claimed row's plugin inside this transaction and records the outcome; the
    // row is parents[index], and `parents` stays current (settle advances with it).
    auto run_row = [&](const Target& target, size_t index, nlohmann::json row_with) {
        store::StepRow& row = parents[index];
        const std::string& uses = target.role == StepRole::kCompensation
                                      ? target.step->compensate->uses
                                      : target.step->uses;
        StepCall call;
        call.run_id = run.id;
        call.step_id = row.step_id;
        call.item_index = -1;
        call.attempt = row.attempt;
        call.idempotency_key = idempotency_key(run.id, row.step_id, -1);
        call.with = std::move(row_with);
        call.should_stop = &should_stop;
        StepResult result = execute(steps_.find(uses), uses, call,
                                    target.step->timeout.value_or(kDefaultTimeout));
        workflow::RetryPolicy policy = target.step->retry.value_or(workflow::RetryPolicy{});
        const std::string step_id = row.step_id;
        if (result.kind == StepResult::Kind::kSucceeded) {
            updates.push_back({{"kind", "step.succeeded"}, {"step", step_id}});
            route(settle(tx, run, definition, target, row, "succeeded",
                         redact_json(std::move(result.outputs)), "", true, &parents, &deferred));
        } else if (result.kind == StepResult::Kind::kFailed && result.retryable &&
                   row.attempt < policy.attempts) {
            auto at = Clock::now() +
                      policy.jittered(policy.delay_before(row.attempt + 1), random_unit());
            row.status = "retrying";
            row.error = logging::redact(result.error);
            row.next_attempt_ms = to_ms(at);
            detail::record_step(
                tx, row,
                {{{"kind", "step.started"}, {"payload", {{"step", step_id}, {"attempt", row.attempt}}}},
                 {{"kind", "step.retrying"},
                  {"payload", {{"step", step_id}, {"attempt", row.attempt}, {"error", row.error}}}}});
            updates.push_back({{"kind", "step.retrying"}, {"step", step_id}});
            out.push_back(Enqueue{run.id, step_id, -1, row.attempt + 1, at});
        } else if (result.kind == StepResult::Kind::kFailed) {
            std::string status = continues(target) ? "continued" : "failed";
            updates.push_back({{"kind", "step." + status}, {"step", step_id}});
            route(settle(tx, run, definition, target, row, status, nlohmann::json(),
                         logging::redact(result.error), true, &parents, &deferred));
        } else {  // an inline step that waits: recorded as on the long path
            try {
                row.status = "running";
                route(record_wait(tx, run, row, result));
            } catch (const InputError& e) {
                route(settle(tx, run, definition, target, row,
                             continues(target) ? "continued" : "failed", nlohmann::json(),
                             logging::redact(e.what()), true, &parents, &deferred));
            }
        }
    };

    int executed = 0;
    if (first.target != nullptr) {
        run_row(*first.target, first.row, first.with);
        executed = 1;
    }
    route(std::move(ready));
    // Steps it made ready that also run inline follow in this transaction (at most
    // kMaxInlineChain), instead of becoming jobs.
    while (!chain.empty()) {
        Enqueue j = std::move(chain.front());
        chain.pop_front();
        Target target = target_of(definition, j.step_id);
        std::optional<size_t> index;
        if (executed < kMaxInlineChain && may_start(run.status, target.role)) {
            for (size_t i = 0; i < parents.size(); ++i)
                if (parents[i].step_id == j.step_id && parents[i].status == "queued") index = i;
        }
        if (!index) {
            out.push_back(std::move(j));
            continue;
        }
        ++executed;
        store::StepRow& row = parents[*index];
        row.attempt = std::max(row.attempt + 1, j.attempt);
        Claim claim = prepare(tx, run, target, row, parents, false);
        if (!claim.settled.empty()) {
            updates.push_back({{"kind", "step." + claim.settled}, {"step", row.step_id}});
            route(settle(tx, run, definition, target, row, claim.settled, nlohmann::json(),
                         claim.error, false, &parents, &deferred));
            continue;
        }
        row.inputs = std::move(claim.inputs);
        run_row(target, *index, std::move(claim.with));
    }
    // What stays a job (the chain's limit, a step that may not start) is written as queued.
    std::vector<std::string> queued;
    for (const auto& s : parents)
        if (deferred.count(s.step_id) != 0 && s.status == "queued" && s.item_index < 0)
            queued.push_back(s.step_id);
    detail::set_steps_status(tx, run.id, queued, "queued");
    return out;
}

void RunEngine::perform_step(const worker::JobContext& ctx, const std::string& run_id,
                             const std::string& step_id, int item, int attempt) {
    auto& c = connections();

    // 1. Claim the attempt: decide to skip, or render the inputs and mark it running.
    std::shared_ptr<const workflow::WorkflowDefinition> definition;
    Target target;
    Claim claim;
    bool resumed = false;
    nlohmann::json resume;
    Jobs follow_ups;
    try {
        pqxx::work tx(*c.pg);
        auto run = store::RunStore::lock_run(tx, run_id);
        if (!run) return;
        definition = definition_of(*run);
        target = target_of(*definition, step_id);
        if (target.step == nullptr) throw WorkError("run " + run_id + " has no step " + step_id);
        if (target.role == StepRole::kMain && item >= 0 &&
            (run->status == "failing" || run->status == "cancelling")) {
            // An item that has not started while its run stops is cancelled, and its lane
            // ends. (A queued item may be running its first attempt elsewhere only if its
            // job was delivered twice; that attempt's result is then not recorded.)
            auto step = store::RunStore::lock_step(tx, run_id, step_id, item);
            if (!step || (step->status != "queued" && step->status != "retrying" &&
                          step->status != "waiting"))
                return;
            auto fanout = store::RunStore::end_lane(tx, run_id, step_id, step->id, "cancelled",
                                                    "the run stopped before this item started");
            if (fanout && fanout->finished())
                follow_ups = collect_fan_out(tx, *run, *definition, *target.step);
            tx.commit();
            enqueue(run_id, follow_ups);
            return;
        }
        if (!may_start(run->status, target.role)) return;  // finished, cancelled, failing
        // A step's own row is guarded by the run's lock (everything that changes one holds
        // it); an item row is locked itself.
        auto parents = store::RunStore::parents_of(tx, run_id);
        std::optional<store::StepRow> item_row;
        store::StepRow* step = nullptr;
        if (item < 0) {
            for (auto& s : parents)
                if (s.step_id == step_id) step = &s;
        } else {
            item_row = store::RunStore::lock_step(tx, run_id, step_id, item);
            if (item_row) step = &*item_row;
        }
        if (step == nullptr || is_final(step->status) || step->status == "pending") return;
        if (attempt < step->attempt) return;  // a newer attempt exists

        // A for_each step's own row runs no plugin: it expands into items and later
        // collects them.
        if (target.role == StepRole::kMain && target.step->for_each && item == -1) {
            follow_ups = step->status == "queued"
                             ? expand(tx, *run, *definition, *target.step, *step)
                             : drive(tx, *run, *definition, *target.step, *step);
            tx.commit();
            publish(run_id, {{"kind", "step." + step->status}, {"step", step_id}});
            enqueue(run_id, follow_ups);
            return;
        }

        if (step->status == "waiting") {
            auto payload = resume_payload(tx, *step);
            if (!payload) {  // not yet: an early or repeated job
                tx.commit();
                return;
            }
            resumed = true;
            resume = std::move(*payload);
        }
        claim = prepare(tx, *run, target, *step, parents, resumed);
        step->attempt = std::max(step->attempt, attempt);
        if (!claim.settled.empty()) {
            if (item >= 0) {  // an item is settled through its fan-out's lane
                step->status = "running";
                store::RunStore::update_step(tx, *step);
            }
            follow_ups = settle(tx, *run, *definition, target, *step, claim.settled,
                                nlohmann::json(), claim.error, false,
                                item < 0 ? &parents : nullptr);
            tx.commit();
            publish(run_id, {{"kind", "step." + claim.settled}, {"step", step_id}});
            enqueue(run_id, follow_ups);
            return;
        }
        step->inputs = claim.inputs;
        if (!resumed && item < 0 && runs_inline(target)) {
            // Built-in steps without I/O run here, inside the claiming transaction, and
            // the inline steps they make ready follow: a chain of them is one commit.
            std::vector<nlohmann::json> updates;
            const size_t index = static_cast<size_t>(step - parents.data());
            follow_ups = run_inline(tx, *run, *definition, parents,
                                    InlineStart{&target, index, std::move(claim.with), {}}, {},
                                    ctx.should_stop, updates);
            tx.commit();
            publish_all(run_id, updates);
            enqueue(run_id, follow_ups);
            return;
        }
        step->status = "running";
        step->attempt = attempt;
        step->next_attempt_ms = 0;
        nlohmann::json events = nlohmann::json::array();
        if (!resumed && item < 0)
            events.push_back({{"kind", "step.started"},
                              {"payload", {{"step", step_id}, {"attempt", attempt}}}});
        store::RunStore::record_step(tx, *step, events);
        tx.commit();
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        c.pg.reset();
        store::throw_from_pqxx("starting step " + step_id + " of run " + run_id);
    }
    if (!resumed && item < 0)
        publish(run_id, {{"kind", "step.started"}, {"step", step_id}, {"attempt", attempt}});

    // 2. Run the plugin, outside any transaction.
    const std::string& uses =
        target.role == StepRole::kCompensation ? target.step->compensate->uses : target.step->uses;
    StepCall call;
    call.run_id = run_id;
    call.step_id = step_id;
    call.item_index = item;
    call.attempt = attempt;
    call.idempotency_key = idempotency_key(run_id, step_id, item);
    call.with = std::move(claim.with);
    call.resumed = resumed;
    call.resume = std::move(resume);
    call.should_stop = &ctx.should_stop;
    StepResult result = execute(steps_.find(uses), uses, call,
                                target.step->timeout.value_or(kDefaultTimeout));

    // 3. Commit the outcome and queue what it unlocked.
    std::string new_status;
    try {
        pqxx::work tx(*c.pg);
        auto run = store::RunStore::lock_run(tx, run_id);
        if (!run) return;
        auto parents = store::RunStore::parents_of(tx, run_id);
        std::optional<store::StepRow> item_row;
        store::StepRow* step = nullptr;
        if (item < 0) {
            for (auto& s : parents)
                if (s.step_id == step_id) step = &s;
        } else {
            item_row = store::RunStore::lock_step(tx, run_id, step_id, item);
            if (item_row) step = &*item_row;
        }
        if (step == nullptr || step->attempt != attempt || step->status != "running")
            return;  // stale
        if (is_run_final(run->status)) {  // a straggler of a finished run
            step->status = "cancelled";
            store::RunStore::update_step(tx, *step);
            tx.commit();
            return;
        }
        // A main step that ends while the run is failing or cancelling is recorded as it
        // ended (so it can be compensated) but not retried.
        const bool may_retry = may_start(run->status, target.role);
        bool final = false;
        std::string status, error;
        nlohmann::json outputs;
        switch (result.kind) {
            case StepResult::Kind::kSucceeded:
                final = true;
                status = "succeeded";
                outputs = redact_json(std::move(result.outputs));
                break;
            case StepResult::Kind::kFailed: {
                workflow::RetryPolicy policy = target.step->retry.value_or(workflow::RetryPolicy{});
                error = logging::redact(result.error);
                if (may_retry && result.retryable && attempt < policy.attempts) {
                    auto at = Clock::now() + policy.jittered(policy.delay_before(attempt + 1),
                                                             random_unit());
                    step->status = "retrying";
                    step->error = error;
                    step->next_attempt_ms = to_ms(at);
                    follow_ups.push_back(Enqueue{run_id, step_id, item, attempt + 1, at});
                } else {
                    final = true;
                    status = continues(target) ? "continued" : "failed";
                }
                break;
            }
            case StepResult::Kind::kWait:
            case StepResult::Kind::kWaitEvent:
            case StepResult::Kind::kStartChild:
                if (!may_retry) {  // the run is stopping: waiting makes no sense any more
                    final = true;
                    status = "cancelled";
                    break;
                }
                try {
                    follow_ups = record_wait(tx, *run, *step, result);
                } catch (const InputError& e) {
                    final = true;
                    status = continues(target) ? "continued" : "failed";
                    error = logging::redact(e.what());
                }
                break;
        }
        if (final) {
            new_status = status;
            auto more = settle(tx, *run, *definition, target, *step, status, outputs, error,
                               false, item < 0 ? &parents : nullptr);
            follow_ups.insert(follow_ups.end(), more.begin(), more.end());
        } else {
            new_status = step->status;
            nlohmann::json events = nlohmann::json::array();
            if (item < 0 || step->status == "retrying")
                events.push_back(
                    {{"kind", "step." + step->status},
                     {"payload",
                      {{"step", step_id}, {"item", item}, {"attempt", attempt},
                       {"error", step->error.empty() ? nlohmann::json() : nlohmann::json(step->error)}}}});
            store::RunStore::record_step(tx, *step, events);
        }
        tx.commit();
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        c.pg.reset();
        store::throw_from_pqxx("recording step " + step_id + " of run " + run_id);
    }
    if (item < 0)
        publish(run_id, {{"kind", "step." + new_status}, {"step", step_id}, {"attempt", attempt}});
    enqueue(run_id, follow_ups);
}

RunEngine::Jobs RunEngine::settle(pqxx::work& tx, store::RunRow& run,
                                  const workflow::WorkflowDefinition& definition,
                                  const Target& target, store::StepRow& row,
                                  const std::string& status, const nlohmann::json& outputs,
                                  const std::string& error, bool ran_inline,
                                  std::vector<store::StepRow>* parents, Deferred* deferred) {
    if (row.item_index >= 0 || target.role != StepRole::kMain) flush_writes(tx);
    if (row.item_index >= 0 && target.role == StepRole::kMain) {
        store::ItemOutcome o;
        o.row_id = row.id;
        o.attempt = row.attempt;
        o.status = status;
        o.inputs = row.inputs;
        o.outputs = status == "succeeded" ? outputs : nlohmann::json();
        o.error = error;
        o.stop = status == "failed";
        auto done = store::RunStore::complete_item(tx, run.id, row.step_id, o);
        if (!done.recorded) return {};
        if (status != "succeeded")
            store::RunStore::add_event(tx, run.id, "step." + status,
                                       {{"step", row.step_id}, {"item", row.item_index},
                                        {"attempt", row.attempt}, {"error", error}},
                                       row.id);
        Jobs jobs;
        if (done.next >= 0) jobs = item_jobs(run.id, row.step_id, {done.next});
        if (done.finished) {
            auto more = collect_fan_out(tx, run, definition, *target.step);
            jobs.insert(jobs.end(), more.begin(), more.end());
        }
        return jobs;
    }
    row.status = status;
    row.outputs = outputs;
    row.error = error;
    row.next_attempt_ms = 0;
    nlohmann::json events = nlohmann::json::array();
    if (ran_inline)  // it ran inside this transaction: it started here too
        events.push_back({{"kind", "step.started"},
                          {"payload", {{"step", row.step_id}, {"attempt", row.attempt}}}});
    events.push_back({{"kind", "step." + status},
                      {"payload",
                       {{"step", row.step_id}, {"item", row.item_index}, {"attempt", row.attempt},
                        {"error", error.empty() ? nlohmann::json() : nlohmann::json(error)}}}});
    detail::record_step(tx, row, events);
    if (target.role == StepRole::kCompensation && status == "succeeded") {
        // The undone step (or item) now reads as compensated.
        if (auto original = store::RunStore::lock_step(tx, run.id, target.step->id, row.item_index)) {
            original->status = "compensated";
            store::RunStore::update_step(tx, *original);
            if (parents != nullptr)
                for (auto& s : *parents)
                    if (s.id == original->id) s.status = "compensated";
        }
    }
    // `row` may be an element of `parents`: advancing may replace them, so it is not used
    // after this.
    return parents != nullptr ? advance(tx, run, definition, *parents, deferred)
                              : advance(tx, run, definition);
}

// --- waits -----------------------------------------------------------------------------

RunEngine::Jobs RunEngine::record_wait(pqxx::work& tx, const store::RunRow& run,
                                       store::StepRow& row, const StepResult& result) {
    flush_writes(tx);  // a wait row (and a child run) references the run and its step
    Jobs jobs;
    row.status = "waiting";
    row.error.clear();
    switch (result.kind) {
        case StepResult::Kind::kWait: {
            auto at = result.resume_at.value_or(Clock::now());
            row.next_attempt_ms = to_ms(at);
            jobs.push_back(Enqueue{run.id, row.step_id, row.item_index, row.attempt, at});
            break;
        }
        case StepResult::Kind::kWaitEvent: {
            store::WaitRow wait;
            wait.id = new_id();
            wait.run_id = run.id;
            wait.step_id = row.step_id;
            wait.item_index = row.item_index;
            wait.event = result.event;
            wait.key = result.key;
            wait.timeout_ms = result.resume_at ? to_ms(*result.resume_at) : 0;
            // An event recorded since the run was created counts (it may have arrived
            // while this step was getting ready); the lock orders us with emit_event().
            store::RunStore::lock_event_key(tx, wait.event, wait.key);
            if (auto seen = store::RunStore::find_event_since_run(tx, wait.event, wait.key, run.id)) {
                wait.outcome = "event";
                wait.payload = *seen;
            }
            store::RunStore::insert_wait(tx, wait);
            row.next_attempt_ms = wait.timeout_ms;
            if (!wait.outcome.empty())
                jobs.push_back(Enqueue{run.id, row.step_id, row.item_index, row.attempt, Clock::now()});
            else if (wait.timeout_ms > 0)
                jobs.push_back(Enqueue{run.id, row.step_id, row.item_index, row.attempt,
                                       *result.resume_at});
            break;
        }
        case StepResult::Kind::kStartChild: {
            if (!workflow_source_)
                throw InputError("workflow.run: this process has no workflow source to find '" +
                                 result.event + "' in");
            auto child_definition = workflow_source_(result.event);
            if (!child_definition)
                throw InputError("workflow.run: no valid workflow named '" + result.event + "'");
            workflow::EvalContext context;
            context.env = &options_.env;
            store::RunRow child;
            child.inputs = workflow::InputResolver(*child_definition).resolve(result.outputs, context);
            child.trigger_kind = "workflow";
            child.trigger_ref = run.id + "/" + row.step_id;
            child.parent_run_id = run.id;
            child.parent_step = row.step_id;
            child.dedupe_key = "workflow.run:" + row.id + ":" + std::to_string(row.attempt);
            if (child_definition->concurrency)
                child.concurrency_key =
                    render_concurrency_key(*child_definition, child.inputs, options_.env);
            child.id = new_id();
            store::WaitRow wait;
            wait.id = new_id();
            wait.run_id = run.id;
            wait.step_id = row.step_id;
            wait.item_index = row.item_index;
            wait.event = std::string(kChildFinishedEvent);
            wait.key = child.id;
            store::RunStore::insert_wait(tx, wait);
            jobs = start_in(tx, *child_definition, child);
            row.next_attempt_ms = 0;
            row.outputs = {{"run_id", child.id}};  // shown while it waits
            store::RunStore::add_event(tx, run.id, "step.child_started",
                                       {{"step", row.step_id}, {"child", child.id},
                                        {"workflow", child.workflow_name}},
                                       row.id);
            break;
        }
        default:
            break;
    }
    store::RunStore::update_step(tx, row);
    return jobs;
}

std::optional<nlohmann::json> RunEngine::resume_payload(pqxx::work& tx, const store::StepRow& row) {
    auto wait = store::RunStore::find_wait(tx, row.run_id, row.step_id, row.item_index);
    if (!wait) return nlohmann::json();  // a timer (wait.until): the plugin decides
    if (wait->resolved) {
        if (wait->outcome == "event")
            return nlohmann::json{{"outcome", "event"}, {"payload", wait->payload}};
        if (wait->outcome == "timeout") return nlohmann::json{{"outcome", "timeout"}};
        return std::nullopt;  // cancelled
    }
    // Redis and this host may disagree on the time a little: a timeout job that fires up
    // to 2 s early counts.
    if (wait->timeout_ms > 0 && to_ms(Clock::now()) + 2000 >= wait->timeout_ms) {
        store::RunStore::resolve_wait(tx, wait->id, "timeout", nlohmann::json());
        return nlohmann::json{{"outcome", "timeout"}};
    }
    return std::nullopt;
}

EmitReport RunEngine::emit_event(const std::string& name, const std::string& key,
                                 const nlohmann::json& payload) {
    if (name.empty() || name.size() > 200 ||
        std::any_of(name.begin(), name.end(), [](char ch) { return ch <= ' ' || ch > '~'; }))
        throw InputError("invalid event name '" + name +
                         "': printable characters without spaces, at most 200");
    if (!payload.is_object()) throw InputError("an event's data must be a JSON object");
    auto& c = connections();
    EmitReport report;
    Jobs jobs;
    try {
        pqxx::work tx(*c.pg);
        store::RunStore::lock_event_key(tx, name, key);
        report.event_id = store::RunStore::insert_event(tx, name, key, payload);
        for (const auto& w : store::RunStore::resolve_waits_for_event(tx, name, key, payload)) {
            jobs.push_back(Enqueue{w.run_id, w.step_id, w.item_index, w.step_attempt, Clock::now()});
            store::RunStore::add_event(tx, w.run_id, "step.event_received",
                                       {{"step", w.step_id}, {"item", w.item_index},
                                        {"event", name}, {"event_id", report.event_id}});
        }
        tx.commit();
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        c.pg.reset();
        store::throw_from_pqxx("emitting event " + name);
    }
    report.resumed = static_cast<int>(jobs.size());
    for (const auto& j : jobs) enqueue(j.run_id, {j});
    return report;
}

// --- operations ------------------------------------------------------------------------

ReconcileReport RunEngine::reconcile(int max_runs) {
    ReconcileReport report;
    auto& c = connections();
    std::vector<std::string> ids, keys;
    {
        pqxx::read_transaction tx(*c.pg);
        ids = store::RunStore::active_run_ids(tx, max_runs);
        keys = store::RunStore::keys_with_pending_runs(tx, 1000);
    }
    for (const auto& run_id : ids) {
        ++report.runs_checked;
        Jobs jobs;
        {
            pqxx::work tx(*c.pg);
            auto run = store::RunStore::lock_run(tx, run_id);
            if (!run || is_run_final(run->status) || run->status == "pending") continue;
            auto definition = definition_of(*run);
            for (const auto& s : store::RunStore::live_steps_of(tx, run_id)) {
                if (s.status == "queued") {
                    jobs.push_back(Enqueue{run_id, s.step_id, s.item_index, s.attempt + 1, std::nullopt});
                } else if (s.status == "running") {
                    jobs.push_back(Enqueue{run_id, s.step_id, s.item_index, s.attempt, std::nullopt});
                } else if (s.status == "retrying") {
                    jobs.push_back(Enqueue{run_id, s.step_id, s.item_index, s.attempt + 1,
                                           from_ms(s.next_attempt_ms)});
                } else if (s.status == "waiting") {
                    auto wait = store::RunStore::find_wait(tx, run_id, s.step_id, s.item_index);
                    if (!wait)  // a timer
                        jobs.push_back(Enqueue{run_id, s.step_id, s.item_index, s.attempt,
                                               from_ms(s.next_attempt_ms)});
                    else if (wait->resolved)
                        jobs.push_back(Enqueue{run_id, s.step_id, s.item_index, s.attempt,
                                               Clock::now()});
                    else if (wait->timeout_ms > 0)
                        jobs.push_back(Enqueue{run_id, s.step_id, s.item_index, s.attempt,
                                               from_ms(wait->timeout_ms)});
                    // else: waits for its event, with nothing to time out
                }
            }
            // A run whose steps are all settled but which is still unfinished (a crash
            // inside advance cannot cause this, but an operator's edit could).
            if (jobs.empty()) jobs = advance(tx, *run, *definition);
            tx.commit();
        }
        report.jobs_enqueued += static_cast<int>(jobs.size());
        enqueue(run_id, jobs);
    }
    // Pending runs whose key has a free slot (a slot is normally handed over when a run
    // ends, in the same transaction; this is the safety net).
    for (const auto& key : keys) {
        Jobs jobs;
        {
            pqxx::work tx(*c.pg);
            jobs = admit_pending(tx, key);
            tx.commit();
        }
        report.jobs_enqueued += static_cast<int>(jobs.size());
        enqueue("", jobs);
    }
    return report;
}

bool RunEngine::cancel(const std::string& run_id) {
    auto& c = connections();
    Jobs jobs;
    std::vector<std::string> children;
    {
        pqxx::work tx(*c.pg);
        auto run = store::RunStore::lock_run(tx, run_id);
        if (!run) throw InputError("no run " + run_id, ErrorCode::kNotFound);
        if (run->status != "running" && run->status != "pending" && run->status != "waiting")
            return false;
        auto definition = definition_of(*run);
        tx.exec_params0("UPDATE workflow_runs SET cancel_requested_at = now() WHERE id = $1::uuid",
                        run_id);
        children = store::RunStore::active_children(tx, run_id);
        store::RunStore::stop_fanouts(tx, run_id);
        store::RunStore::cancel_idle_steps(tx, run_id);
        store::RunStore::cancel_waits(tx, run_id);
        if (run->status == "pending") {
            store::RunStore::add_event(tx, run_id, "run.cancelled", nlohmann::json::object());
            jobs = finish_run(tx, *run, "cancelled", "cancelled by request", nlohmann::json());
        } else {
            run->status = "cancelling";
            run->error = "cancelled by request";
            store::RunStore::set_run_status(tx, run_id, "cancelling", run->error);
            store::RunStore::add_event(tx, run_id, "run.cancelling", nlohmann::json::object());
            // Fan-outs whose items were all idle are finished now; the others finish when
            // their running items do.
            jobs = finish_stopped_fan_outs(tx, *run, *definition);
            auto more = advance(tx, *run, *definition);
            jobs.insert(jobs.end(), more.begin(), more.end());
        }
        tx.commit();
    }
    publish(run_id, {{"kind", "run.cancelling"}});
    enqueue(run_id, jobs);
    for (const auto& child : children) {
        try {
            cancel(child);
        } catch (const Error& e) {
            spdlog::warn("run {}: cancelling child run {} failed: {}", run_id, child, e.what());
        }
    }
    return true;
}

void RunEngine::retry(const std::string& run_id) {
    auto& c = connections();
    Jobs jobs;
    {
        pqxx::work tx(*c.pg);
        auto run = store::RunStore::lock_run(tx, run_id);
        if (!run) throw InputError("no run " + run_id, ErrorCode::kNotFound);
        if (run->status != "failed" && run->status != "cancelled")
            throw InputError("run " + run_id + " is " + run->status +
                             ": only failed or cancelled runs can be retried");
        auto definition = definition_of(*run);
        auto parents = store::RunStore::parents_of(tx, run_id);
        for (const auto& s : parents)
            if (is_compensation(s.step_id))
                throw InputError("run " + run_id +
                                 " ran compensations (its completed steps were undone): start a "
                                 "new run instead of retrying it");
        std::vector<std::string> reset;
        for (auto& s : parents) {
            Target t = target_of(*definition, s.step_id);
            if (t.role == StepRole::kFailureHandler) {
                // on_failure steps run again if the run fails again.
                tx.exec_params0("DELETE FROM step_runs WHERE id = $1::uuid", s.id);
                continue;
            }
            if (s.status == "failed" || s.status == "cancelled") {
                s.status = "pending";
                s.error.clear();
                s.attempt = 0;
                s.outputs = nlohmann::json();
                store::RunStore::update_step(tx, s);
                reset.push_back(s.step_id);
            }
        }
        if (definition->concurrency && !run->concurrency_key.empty()) {
            store::RunStore::lock_concurrency_key(tx, run->concurrency_key);
            if (store::RunStore::count_active_runs(tx, run->concurrency_key) >=
                definition->concurrency->limit)
                throw InputError("run " + run_id + ": its concurrency key '" +
                                 run->concurrency_key + "' has no free slot; retry it later");
        }
        run->status = "running";
        store::RunStore::set_run_status(tx, run_id, "running");
        tx.exec_params0(
            "UPDATE workflow_runs SET finished_at = NULL, error = NULL, outputs = NULL, "
            "failed_step = NULL, cancel_requested_at = NULL WHERE id = $1::uuid",
            run_id);
        run->error.clear();
        run->failed_step.clear();
        store::RunStore::add_event(tx, run_id, "run.retried", {{"steps", reset}});
        jobs = advance(tx, *run, *definition);
        tx.commit();
    }
    publish(run_id, {{"kind", "run.retried"}});
    enqueue(run_id, jobs);
}

// --- queue and live updates ------------------------------------------------------------

void RunEngine::enqueue(const std::string& run_id, const Jobs& jobs) {
    if (jobs.empty()) return;
    auto& c = connections();
    queue::RedisQueue q(*c.redis, options_.queue_prefix);
    std::vector<queue::NewJob> batch;
    batch.reserve(jobs.size());
    for (const auto& e : jobs) {
        const std::string& run = e.run_id.empty() ? run_id : e.run_id;
        queue::NewJob job;
        job.type = std::string(kStepJobType);
        job.payload = nlohmann::json{{"run", run},
                                     {"step", e.step_id},
                                     {"item", e.item_index},
                                     {"attempt", e.attempt}}
                          .dump();
        job.options.unique_key = unique_key(run, e.step_id, e.item_index, e.attempt, e.run_at);
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
    publish_all(run_id, {event});
}

void RunEngine::publish_all(const std::string& run_id, const std::vector<nlohmann::json>& events) {
    if (events.empty()) return;
    try {
        auto& c = connections();
        // One round trip for all of them: each on the run's channel and on the channel of
        // all runs.
        std::vector<std::string> to_run{"PUBLISH", options_.queue_prefix + ":run:" + run_id, ""};
        std::vector<std::string> to_all{"PUBLISH", options_.queue_prefix + ":runs", ""};
        const auto at = to_ms(Clock::now());
        for (const auto& event : events) {
            nlohmann::json message = event;
            message["run"] = run_id;
            message["at"] = at;
            to_run[2] = message.dump();
            c.redis->append(to_run);
            to_all[2] = std::move(to_run[2]);
            c.redis->append(to_all);
        }
        for (size_t i = 0; i < 2 * events.size(); ++i) c.redis->read_reply();
    } catch (const Error& e) {
        spdlog::debug("run {}: live update not published: {}", run_id, e.what());
    }
}

WorkflowSource workflows_in_directory(std::string dir, const StepRegistry& steps) {
    auto catalog = std::make_shared<const workflow::StepCatalog>(steps.catalog());
    return [dir = std::move(dir), catalog](const std::string& name)
               -> std::optional<workflow::WorkflowDefinition> {
        workflow::Validator validator(*catalog);
        auto directory = workflow::WorkflowDirectory::load(dir, validator);
        if (const auto* found = directory.find(name)) return *found;
        return std::nullopt;
    };
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
