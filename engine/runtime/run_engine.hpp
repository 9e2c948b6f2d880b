// The durable workflow run-time.
//
// A run is created in PostgreSQL (definition snapshot, inputs, one row per step) before
// it is acknowledged. Each step whose needs are met is marked `queued` and becomes a job
// (type "workflow.step") in the Redis queue — after the commit that queued it. A worker
// runs the job: it loads the run, evaluates the step's `if` and `with:` against the
// committed outputs of earlier steps, runs the step's plugin with a stable idempotency key
// (run/step/item) and a deadline, then commits the result and queues the steps it
// unlocked, in one transaction that holds the run's row lock. Retries follow the step's
// policy (the next attempt is a delayed job); `on_error: continue` lets the run go on.
//
// A `for_each` step fans out: its collection (an inline list or a handle the run-time
// reads page by page, collection_source.hpp) is recorded in step_fanouts, and item rows
// are created in a window of at most `max_parallel` unfinished items — each finished item
// claims the next in the same statement that records it — so a fan-out of any size needs
// bounded memory and bounded rows per transaction. When a run fails, the `compensate`
// steps of completed steps run one by one in reverse completion order, then the
// workflow's `on_failure` steps; cancelling runs the compensations too. Steps may wait
// for events (emit_event) and for child runs (workflow.run); runs with a `concurrency`
// key beyond its limit wait as `pending` and start, oldest first, when a slot frees.
//
// Guarantees: nothing acknowledged is lost — PostgreSQL is the truth; if a process dies
// between a commit and its enqueue, or Redis loses its data, reconcile() finds steps that
// should have a live job and enqueues them again (jobs carry a unique key per step
// attempt, so a job that still exists is not duplicated). Jobs are delivered at least
// once; a step's effects happen once because its idempotency key never changes.
// A run keeps the definition it started with: editing the YAML affects new runs only.
//
// Thread-safety: one RunEngine serves all processor threads; it keeps one PostgreSQL and
// one Redis connection per thread.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/queue/redis_connection.hpp"
#include "engine/runtime/group_commit.hpp"
#include "engine/runtime/run_engine_detail.hpp"
#include "engine/runtime/step_plugin.hpp"
#include "engine/store/run_store.hpp"
#include "engine/worker/job_handler.hpp"
#include "engine/workflow/workflow_definition.hpp"

namespace artistsaid::runtime {

struct RuntimeOptions {
    std::string database_url;
    std::string redis_url;
    std::string queue_prefix = "artistsaid";
    std::string queue = "workflows";  // the queue step jobs go to
    std::chrono::seconds connect_timeout{5};
    /// Exposed to expressions as env.*: the process's ARTISTSAID_ENV_<NAME> variables.
    nlohmann::json env = nlohmann::json::object();
    /// secrets.*: ARTISTSAID_SECRET_<NAME> variables and $CREDENTIALS_DIRECTORY files.
    nlohmann::json secrets = nlohmann::json::object();
};

struct StartRequest {
    nlohmann::json inputs = nlohmann::json::object();  // as given; resolved against `inputs:`
    std::string trigger_kind = "cli";  // cli | api | schedule | webhook | event | workflow
    std::string trigger_ref;
    /// Optional: a second start with the same key returns the first run (webhook
    /// redeliveries, a retried API call, a schedule slot).
    std::string dedupe_key;
};

struct StartedRun {
    std::string run_id;
    bool existing = false;  // the dedupe key matched an earlier run
    bool pending = false;   // waiting for a concurrency slot of its key
};

/// One start of a batch (RunEngine::start_all).
struct StartCall {
    const workflow::WorkflowDefinition* definition = nullptr;
    StartRequest request;
};

/// What one start of a batch did: the run, or the error it failed with alone.
struct StartOutcome {
    StartedRun run;
    std::exception_ptr error;  // set: this start failed (rethrow it for its type)
};

struct ReconcileReport {
    int runs_checked = 0;
    int jobs_enqueued = 0;
};

/// What emit_event() did.
struct EmitReport {
    std::string event_id;
    int resumed = 0;  // waiting steps it resumed
};

/// One line of a run's plan, for `run --dry-run`.
struct PlannedStep {
    std::string id;
    std::string uses;
    std::vector<std::string> needs;
    int level = 0;
    nlohmann::json with;  // rendered where it depends only on inputs; else as written
};

/// Finds the current definition of a workflow by name (for workflow.run's child runs).
using WorkflowSource =
    std::function<std::optional<workflow::WorkflowDefinition>(const std::string& name)>;

class RunEngine {
public:
    static constexpr std::string_view kStepJobType = "workflow.step";
    /// max_parallel of a for_each step that does not set it.
    static constexpr int kDefaultMaxParallel = 32;
    /// A for_each step's `results` output holds the items' outputs inline up to this many
    /// items; a larger fan-out gets the handle {"$step_outputs": {"step": id}} instead.
    static constexpr std::int64_t kMaxInlineResults = 1000;
    /// The event a child run's end emits, keyed by the child's id (workflow.run waits on it).
    static constexpr std::string_view kChildFinishedEvent = "workflow.finished";
    /// Inline steps run in one transaction at most (the rest become jobs).
    static constexpr int kMaxInlineChain = 64;
    /// A job of an inline for_each step runs at most this many items of its lane, for at
    /// most this long, before handing the lane back to the queue (fairness).
    static constexpr int kInlineLaneItems = 256;
    static constexpr std::chrono::milliseconds kInlineLaneBudget{50};
    /// Group commit of start(): at most this many runs per transaction, and this many
    /// transactions at a time (each on its leader thread's connection).
    static constexpr size_t kMaxStartBatch = 64;
    static constexpr int kStartLeaders = 2;

    RunEngine(RuntimeOptions options, const StepRegistry& steps);
    ~RunEngine();

    /// Where workflow.run finds child workflows. Without one, workflow.run steps fail.
    void set_workflow_source(WorkflowSource source);

    /// Creates the run (committed) and enqueues its first steps. Throws InputError for
    /// bad inputs (nothing is written). With a `concurrency` key at its limit, the run is
    /// created `pending` and starts when a slot frees.
    ///
    /// Group commit: concurrent start() calls share a transaction (GroupCommit): each
    /// caller returns only after the commit that holds its run. Starts with a dedupe key
    /// or of a workflow with a `concurrency` key take a transaction of their own.
    StartedRun start(const workflow::WorkflowDefinition& definition, const StartRequest& request);
    /// Starts several runs in one transaction on this thread (what a group commit does).
    /// Each outcome is its own: a start that fails (bad input, a constraint) fails alone —
    /// the batch is then repeated one start per transaction, so the others still commit.
    std::vector<StartOutcome> start_all(const std::vector<StartCall>& calls);
    /// Group-commit batches run by start() and the starts they held, since construction.
    std::pair<size_t, size_t> start_batches() const { return starts_.counts(); }

    /// Validates inputs and lists the steps in order, without writing anything.
    std::vector<PlannedStep> plan(const workflow::WorkflowDefinition& definition,
                                  const nlohmann::json& inputs) const;

    /// The job handler for "workflow.step" jobs.
    void perform(const worker::JobContext& context);
    /// Registers perform() under kStepJobType.
    void register_handler(worker::HandlerRegistry& handlers);

    /// Enqueues every step that should have a live job (queued, running, retrying, a
    /// resolved or timed wait) in unfinished runs, drives fan-outs and starts pending runs
    /// whose key has a free slot; safe to run at any time, from any number of processes.
    ReconcileReport reconcile(int max_runs = 10000);

    /// Stops a run: no new steps start, waiting and queued ones are cancelled, child runs
    /// are cancelled, and once running steps finished the compensations of completed steps
    /// run; the run ends `cancelled`. Returns false if the run had already finished (or is
    /// already failing or cancelling).
    bool cancel(const std::string& run_id);
    /// Starts a failed run again from its failed steps (they get fresh attempts).
    void retry(const std::string& run_id);

    /// Records an event and resumes every step waiting for (name, key) — wait.event steps
    /// and anything else that waits with StepResult::wait_for_event. Committed before it
    /// returns; a step that starts waiting later still sees an event recorded since its run
    /// was created.
    EmitReport emit_event(const std::string& name, const std::string& key,
                          const nlohmann::json& payload);

    const RuntimeOptions& options() const { return options_; }

private:
    struct Enqueue {
        std::string run_id;  // empty: the run being worked on
        std::string step_id;
        int item_index = -1;
        int attempt = 1;
        std::optional<std::chrono::system_clock::time_point> run_at;
    };
    using Jobs = std::vector<Enqueue>;
    /// One thread's connections (see connections()).
    struct ThreadConnections {
        std::unique_ptr<pqxx::connection> pg;
        std::unique_ptr<queue::RedisConnection> redis;
    };
    /// What a fan-out's items render against; fixed once the fan-out started (its
    /// upstream steps have finished), so cached per process.
    struct ItemContext {
        std::shared_ptr<const workflow::WorkflowDefinition> definition;
        const workflow::StepDefinition* step = nullptr;
        nlohmann::json inputs;
        nlohmann::json steps;
        nlohmann::json run;
    };
    using StepRole = detail::StepRole;
    /// Which part of the definition a job's step row belongs to.
    struct Target {
        StepRole role = StepRole::kMain;
        const workflow::StepDefinition* step = nullptr;  // for a compensation: the undone step
    };

    ThreadConnections& connections();
    /// A start on its way to the database (see start(), start_all()).
    struct PendingStart {
        const workflow::WorkflowDefinition* definition = nullptr;
        store::RunRow run;       // changed by start_in
        store::RunRow original;  // as the caller built it, to start again alone
        Jobs jobs;
        std::vector<nlohmann::json> updates;
        std::optional<std::string> existing;  // the dedupe key matched this run
        std::exception_ptr error;
    };
    /// Resolves inputs and builds the run row; throws InputError for bad inputs.
    PendingStart prepare_start(const workflow::WorkflowDefinition& definition,
                               const StartRequest& request) const;
    /// Whether a start may share a transaction with others (no dedupe key, no
    /// concurrency key: those take locks and look up other runs).
    static bool may_group(const PendingStart& start) {
        return start.run.dedupe_key.empty() && start.run.concurrency_key.empty() &&
               !start.definition->concurrency;
    }
    /// Runs the starts in one transaction; if it fails, each alone (records outcomes).
    void store_snapshots_in_order(pqxx::work& tx, const std::vector<PendingStart*>& batch);
    void start_batch(const std::vector<PendingStart*>& batch);
    /// One start in its own transaction (records its outcome).
    void start_alone(PendingStart& start);
    /// After the commit: live updates, step jobs, the result.
    StartedRun acknowledge(PendingStart& start);
    std::shared_ptr<const workflow::WorkflowDefinition> definition_of(const store::RunRow& run);
    Target target_of(const workflow::WorkflowDefinition& definition, const std::string& step_id) const;

    // run_engine.cpp: starting runs, regular steps, waits.
    /// Inserts a run and returns the jobs of its first steps; with `updates`, the first
    /// Steps made ready inside an inline chain whose `queued` status is not written yet:
    /// the chain runs most of them at once (and records their final state); run_inline
    /// writes `queued` for the ones that remain jobs, before its transaction commits.
    using Deferred = std::set<std::string>;
    /// steps that run inline run now (their live updates are added to `updates`).
    Jobs start_in(pqxx::work& tx, const workflow::WorkflowDefinition& definition,
                  store::RunRow& run, std::vector<nlohmann::json>* updates = nullptr);
    void perform_step(const worker::JobContext& ctx, const std::string& run_id,
                      const std::string& step_id, int item, int attempt);
    StepResult execute(const StepPlugin* plugin, const std::string& uses, StepCall& call,
                       std::chrono::milliseconds timeout);
    /// Records a step row's final status (an item through its fan-out's lane) and
    /// advances the run. `row.attempt` is the attempt that ended; `ran_inline`: it also
    /// started in this transaction.
    Jobs settle(pqxx::work& tx, store::RunRow& run, const workflow::WorkflowDefinition& definition,
                const Target& target, store::StepRow& row, const std::string& status,
                const nlohmann::json& outputs, const std::string& error, bool ran_inline,
                std::vector<store::StepRow>* parents = nullptr, Deferred* deferred = nullptr);
    /// What claiming a row decided: settled without running ("skipped", or "failed" /
    /// "continued" with `error` when its inputs do not evaluate), or the rendered inputs.
    struct Claim {
        std::string settled;
        std::string error;
        nlohmann::json with;    // secrets in clear
        nlohmann::json inputs;  // redacted, for the row
    };
    Claim prepare(pqxx::work& tx, const store::RunRow& run, const Target& target,
                  const store::StepRow& row, const std::vector<store::StepRow>& parents,
                  bool resumed);
    /// Does the step's plugin run inline (StepPlugin::runs_inline)?
    bool runs_inline(const Target& target) const;
    /// A claimed inline step to run first: the row parents[row], its rendered inputs.
    struct InlineStart {
        const Target* target = nullptr;
        size_t row = 0;
        nlohmann::json with;
        Deferred deferred;  // steps already made ready whose `queued` is not written yet
    };
    /// Runs `first` (if any) inside `tx`, then — among `ready` and the steps that running
    /// makes ready — the inline steps (at most kMaxInlineChain in all); returns the jobs of
    /// everything else. `updates` collects the live updates to publish after the commit.
    Jobs run_inline(pqxx::work& tx, store::RunRow& run, const workflow::WorkflowDefinition& definition,
                    std::vector<store::StepRow>& parents, InlineStart first, Jobs ready,
                    const std::atomic<bool>& should_stop, std::vector<nlohmann::json>& updates);
    /// on_error: continue applies to main steps (and their items) only.
    static bool continues(const Target& target) {
        return target.role == StepRole::kMain && target.step != nullptr &&
               target.step->on_error == workflow::OnError::kContinue;
    }
    /// Records a result that makes a step wait (a time, an event, a child run) on `row`;
    /// returns the jobs that resume it.
    Jobs record_wait(pqxx::work& tx, const store::RunRow& run, store::StepRow& row,
                     const StepResult& result);
    /// For a job that found its step waiting: whether it may resume now, and with what.
    std::optional<nlohmann::json> resume_payload(pqxx::work& tx, const store::StepRow& row);
    nlohmann::json steps_context(const std::vector<store::StepRow>& rows, bool all) const;
    nlohmann::json run_context(const store::RunRow& run, bool failure) const;

    // run_phases.cpp: what happens after a step finished.
    /// Queues the steps that became ready, runs the failure phases, and finishes the run
    /// when nothing is left. Runs inside `tx`, which holds the run's lock.
    Jobs advance(pqxx::work& tx, store::RunRow& run, const workflow::WorkflowDefinition& definition);
    /// The same with the run's step rows as the caller has them (current: the caller
    /// changed them in this transaction); they are updated as advancing changes them.
    Jobs advance(pqxx::work& tx, store::RunRow& run, const workflow::WorkflowDefinition& definition,
                 std::vector<store::StepRow>& parents, Deferred* deferred = nullptr);
    Jobs advance_main(pqxx::work& tx, store::RunRow& run,
                      const workflow::WorkflowDefinition& definition,
                      std::vector<store::StepRow>& parents, Deferred* deferred = nullptr);
    Jobs advance_failure(pqxx::work& tx, store::RunRow& run,
                         const workflow::WorkflowDefinition& definition,
                         std::vector<store::StepRow>& parents);
    /// Creates and queues the next compensation, if any is left.
    std::optional<Enqueue> next_compensation(pqxx::work& tx, const store::RunRow& run,
                                             const workflow::WorkflowDefinition& definition,
                                             std::vector<store::StepRow>& parents);
    Jobs finish_run(pqxx::work& tx, store::RunRow& run, const std::string& status,
                    const std::string& error, const nlohmann::json& outputs);
    /// Starts pending runs of a concurrency key while it has free slots.
    Jobs admit_pending(pqxx::work& tx, const std::string& key);

    // fan_out.cpp: for_each steps.
    void perform_fan_out(const worker::JobContext& ctx, const std::string& run_id,
                         const std::string& step_id, int attempt);
    void perform_item(const worker::JobContext& ctx, const std::string& run_id,
                      const std::string& step_id, int item, int attempt);
    /// Expands a queued for_each step: evaluates its collection, records the fan-out and
    /// creates the first window of items.
    Jobs expand(pqxx::work& tx, store::RunRow& run, const workflow::WorkflowDefinition& definition,
                const workflow::StepDefinition& step, store::StepRow& parent);
    /// Refills a running fan-out's window, or finishes it when every item is done.
    Jobs drive(pqxx::work& tx, store::RunRow& run, const workflow::WorkflowDefinition& definition,
               const workflow::StepDefinition& step, store::StepRow& parent);
    Jobs finish_fan_out(pqxx::work& tx, store::RunRow& run,
                        const workflow::WorkflowDefinition& definition,
                        const workflow::StepDefinition& step, store::StepRow& parent,
                        const store::FanoutRow& fanout, bool then_advance);
    /// Finishes a fan-out whose last lane ended, if its row is still running (in `tx`,
    /// which holds the run's lock).
    Jobs collect_fan_out(pqxx::work& tx, store::RunRow& run,
                         const workflow::WorkflowDefinition& definition,
                         const workflow::StepDefinition& step);
    /// Finishes the running fan-outs of a stopping run that have no unfinished item left.
    Jobs finish_stopped_fan_outs(pqxx::work& tx, store::RunRow& run,
                                 const workflow::WorkflowDefinition& definition);
    /// Locks the run and drives the fan-out (after the last item finished).
    void drive_fan_out(const std::string& run_id, const std::string& step_id);
    std::shared_ptr<const ItemContext> item_context(const std::string& run_id,
                                                    const std::string& step_id);
    static Jobs item_jobs(const std::string& run_id, const std::string& step_id,
                          const std::vector<std::int64_t>& indexes);

    void enqueue(const std::string& run_id, const Jobs& jobs);
    void publish(const std::string& run_id, const nlohmann::json& event);
    /// Publishes live updates in one round trip.
    void publish_all(const std::string& run_id, const std::vector<nlohmann::json>& events);

    RuntimeOptions options_;
    GroupCommit<PendingStart> starts_{kMaxStartBatch, kStartLeaders};
    uint64_t serial_ = 0;  // identifies this engine's per-thread connections
    const StepRegistry& steps_;
    workflow::StepCatalog catalog_;
    WorkflowSource workflow_source_;
    std::mutex definitions_mutex_;
    std::map<std::string, std::shared_ptr<const workflow::WorkflowDefinition>> definitions_;
    // Item contexts, least recently used first; at most kItemContexts entries.
    static constexpr size_t kItemContexts = 128;
    std::mutex item_contexts_mutex_;
    std::list<std::pair<std::string, std::shared_ptr<const ItemContext>>> item_context_lru_;
    std::unordered_map<std::string, decltype(item_context_lru_)::iterator> item_contexts_;
};

/// A WorkflowSource that reads the workflows of `dir` (workflows_dir) at each call, so a
/// child run starts with the definition current at that moment.
WorkflowSource workflows_in_directory(std::string dir, const StepRegistry& steps);

/// env.* and secrets.* from the process environment (ARTISTSAID_ENV_*, ARTISTSAID_SECRET_*)
/// and systemd credentials ($CREDENTIALS_DIRECTORY). Every secret is also registered with
/// the log redactor.
void load_env_and_secrets(RuntimeOptions& options);

}  // namespace artistsaid::runtime
