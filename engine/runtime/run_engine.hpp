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
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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
};

struct ReconcileReport {
    int runs_checked = 0;
    int jobs_enqueued = 0;
};

/// One line of a run's plan, for `run --dry-run`.
struct PlannedStep {
    std::string id;
    std::string uses;
    std::vector<std::string> needs;
    int level = 0;
    nlohmann::json with;  // rendered where it depends only on inputs; else as written
};

class RunEngine {
public:
    static constexpr std::string_view kStepJobType = "workflow.step";

    RunEngine(RuntimeOptions options, const StepRegistry& steps);
    ~RunEngine();

    /// Creates the run (committed) and enqueues its first steps. Throws InputError for
    /// bad inputs (nothing is written).
    StartedRun start(const workflow::WorkflowDefinition& definition, const StartRequest& request);

    /// Validates inputs and lists the steps in order, without writing anything.
    std::vector<PlannedStep> plan(const workflow::WorkflowDefinition& definition,
                                  const nlohmann::json& inputs) const;

    /// The job handler for "workflow.step" jobs.
    void perform(const worker::JobContext& context);
    /// Registers perform() under kStepJobType.
    void register_handler(worker::HandlerRegistry& handlers);

    /// Enqueues every step that should have a live job (queued, running, retrying or
    /// waiting) in running runs; safe to run at any time, from any number of processes.
    ReconcileReport reconcile(int max_runs = 10000);

    /// Stops a run: no new steps start, pending ones are cancelled. Returns false if the
    /// run had already finished.
    bool cancel(const std::string& run_id);
    /// Starts a failed run again from its failed steps (they get fresh attempts).
    void retry(const std::string& run_id);

    const RuntimeOptions& options() const { return options_; }

private:
    struct Enqueue {
        std::string step_id;
        int item_index = -1;
        int attempt = 1;
        std::optional<std::chrono::system_clock::time_point> run_at;
    };
    struct ThreadConnections;

    ThreadConnections& connections();
    std::shared_ptr<const workflow::WorkflowDefinition> definition_of(const store::RunRow& run);
    /// Queues the steps that became ready and finishes the run when nothing is left.
    /// Runs inside `tx`, which holds the run's lock.
    std::vector<Enqueue> advance(pqxx::work& tx, const store::RunRow& run,
                                 const workflow::WorkflowDefinition& definition,
                                 std::vector<store::StepRow>& steps);
    void enqueue(const std::string& run_id, const std::vector<Enqueue>& jobs);
    void publish(const std::string& run_id, const nlohmann::json& event);
    nlohmann::json steps_context(const std::vector<store::StepRow>& steps) const;

    RuntimeOptions options_;
    uint64_t serial_ = 0;  // identifies this engine's per-thread connections
    const StepRegistry& steps_;
    workflow::StepCatalog catalog_;
    std::mutex definitions_mutex_;
    std::map<std::string, std::shared_ptr<const workflow::WorkflowDefinition>> definitions_;
};

/// env.* and secrets.* from the process environment (ARTISTSAID_ENV_*, ARTISTSAID_SECRET_*)
/// and systemd credentials ($CREDENTIALS_DIRECTORY). Every secret is also registered with
/// the log redactor.
void load_env_and_secrets(RuntimeOptions& options);

}  // namespace artistsaid::runtime
