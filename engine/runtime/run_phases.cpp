// What happens after a step finished: the main DAG goes on, or — once a step failed or
// the run was cancelled — compensations run one by one in reverse completion order, then
// the on_failure steps; the run ends, its parent (a workflow.run step) resumes, and its
// concurrency slot goes to the oldest pending run of its key.
#include <algorithm>
#include <climits>
#include <memory>
#include <set>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/runtime/buffered_writes.hpp"
#include "engine/runtime/run_engine.hpp"
#include "engine/workflow/dag.hpp"

namespace artistsaid::runtime {

using namespace detail;
using workflow::StepStatus;

namespace {

// Whether `dag` is the graph of `steps`: the same ids in the same order, each with the same
// needs (a repeated need makes this false: the Dag keeps it once, so it is rebuilt).
bool is_graph_of(const workflow::Dag& dag, const std::vector<workflow::StepDefinition>& steps) {
    if (dag.size() != steps.size()) return false;
    for (size_t i = 0; i < steps.size(); ++i) {
        const auto& node = dag.node(i);
        if (node.id != steps[i].id || node.needs.size() != steps[i].needs.size()) return false;
        for (size_t j = 0; j < node.needs.size(); ++j)
            if (dag.id(node.needs[j]) != steps[i].needs[j]) return false;
    }
    return true;
}

// The Dag of a definition's main steps. advance_main runs after every step (five times in
// the start of a linear run of five inline steps), and building the graph — with its
// cycle check — every time was a visible share of a start's CPU, so each thread keeps the
// last one it built. The cached graph is compared with the steps themselves, not only
// with their address, so another definition is never mistaken for it; callers hold a
// shared_ptr, so a nested advance of another definition cannot pull it from under them.
std::shared_ptr<const workflow::Dag> main_dag(const std::vector<workflow::StepDefinition>& steps) {
    thread_local std::shared_ptr<const workflow::Dag> cached;
    if (cached && is_graph_of(*cached, steps)) return cached;
    cached = std::make_shared<const workflow::Dag>(workflow::Dag::build(steps));
    return cached;
}

}  // namespace

RunEngine::Jobs RunEngine::advance(pqxx::work& tx, store::RunRow& run,
                                   const workflow::WorkflowDefinition& definition) {
    flush_writes(tx);
    auto parents = store::RunStore::parents_of(tx, run.id);
    return advance(tx, run, definition, parents);
}

RunEngine::Jobs RunEngine::advance(pqxx::work& tx, store::RunRow& run,
                                   const workflow::WorkflowDefinition& definition,
                                   std::vector<store::StepRow>& parents, Deferred* deferred) {
    if (run.status == "running") return advance_main(tx, run, definition, parents, deferred);
    if (run.status == "failing" || run.status == "cancelling") {
        flush_writes(tx);
        parents = store::RunStore::parents_of(tx, run.id);  // compensations add rows
        return advance_failure(tx, run, definition, parents);
    }
    return {};
}

RunEngine::Jobs RunEngine::advance_main(pqxx::work& tx, store::RunRow& run,
                                        const workflow::WorkflowDefinition& definition,
                                        std::vector<store::StepRow>& parents,
                                        Deferred* deferred) {
    const std::shared_ptr<const workflow::Dag> graph = main_dag(definition.steps);
    const workflow::Dag& dag = *graph;
    std::vector<StepStatus> status(dag.size(), StepStatus::kPending);
    std::map<std::string, store::StepRow*> by_id;
    bool any_failed = false;
    auto read_statuses = [&] {
        by_id.clear();
        for (auto& s : parents) by_id[s.step_id] = &s;
        any_failed = false;
        for (size_t i = 0; i < dag.size(); ++i) {
            auto it = by_id.find(dag.id(i));
            status[i] = it == by_id.end() ? StepStatus::kPending : dag_status(it->second->status);
            any_failed = any_failed || status[i] == StepStatus::kFailed;
        }
    };
    read_statuses();

    Jobs jobs;
    if (any_failed) {
        // Fail fast: steps that have not started (queued, waiting for a retry, a time or
        // an event) are cancelled; fan-outs take no further items, their idle items are
        // cancelled, and a fan-out with nothing left running is finished now. Steps that
        // are running finish (and are recorded as they end, to be compensated).
        flush_writes(tx);
        store::RunStore::cancel_idle_main_steps(tx, run.id);
        store::RunStore::stop_fanouts(tx, run.id);
        store::RunStore::cancel_idle_steps(tx, run.id, /*items_only=*/true);
        jobs = finish_stopped_fan_outs(tx, run, definition);
        parents = store::RunStore::parents_of(tx, run.id);
        read_statuses();
    }
    bool any_running = std::any_of(status.begin(), status.end(),
                                   [](StepStatus s) { return s == StepStatus::kRunning; });
    std::vector<size_t> ready = any_failed ? std::vector<size_t>{} : dag.ready(status);
    if (!ready.empty()) {
        std::vector<std::string> ids;
        for (size_t i : ready) {
            store::StepRow* row = by_id.at(dag.id(i));
            row->status = "queued";
            if (deferred != nullptr && runs_inline(target_of(definition, row->step_id)))
                deferred->insert(row->step_id);
            else
                ids.push_back(row->step_id);
            jobs.push_back(Enqueue{run.id, row->step_id, -1, row->attempt + 1, std::nullopt});
        }
        detail::set_steps_status(tx, run.id, ids, "queued");
        return jobs;
    }
    if (any_running) return jobs;

    // Nothing runs and nothing more can start.
    std::vector<std::string> never_started;
    nlohmann::json outputs = nlohmann::json::object();
    const store::StepRow* failed = nullptr;
    for (size_t i = 0; i < dag.size(); ++i) {
        store::StepRow* s = by_id.at(dag.id(i));
        if (s->status == "pending") never_started.push_back(s->step_id);
        if (s->status == "succeeded" || s->status == "continued") outputs[s->step_id] = s->outputs;
        // The step that failed first is the run's failed_step.
        if (s->status == "failed" &&
            (failed == nullptr || s->finished_at < failed->finished_at))
            failed = s;
    }
    detail::set_steps_status(tx, run.id, never_started, "cancelled");
    if (!any_failed) {
        auto more = finish_run(tx, run, "succeeded", "", outputs);
        jobs.insert(jobs.end(), more.begin(), more.end());
        return jobs;
    }
    if (failed != nullptr) {
        run.failed_step = failed->step_id;
        run.error = "step " + failed->step_id + " failed: " + failed->error;
    } else {
        run.error = "the run stopped";
    }
    store::RunStore::set_failed_step(tx, run.id, run.failed_step, run.error);
    run.status = "failing";
    store::RunStore::set_run_status(tx, run.id, "failing", run.error);
    store::RunStore::add_event(tx, run.id, "run.failing",
                               {{"failed_step", run.failed_step}, {"error", run.error}});
    parents = store::RunStore::parents_of(tx, run.id);
    auto more = advance_failure(tx, run, definition, parents);
    jobs.insert(jobs.end(), more.begin(), more.end());
    return jobs;
}

RunEngine::Jobs RunEngine::advance_failure(pqxx::work& tx, store::RunRow& run,
                                           const workflow::WorkflowDefinition& definition,
                                           std::vector<store::StepRow>& parents) {
    // Main steps still running finish first (they are recorded as they end, so a step
    // that completed is compensated too); compensations run one at a time.
    for (const auto& live : store::RunStore::live_steps_of(tx, run.id)) {
        if (is_compensation(live.step_id)) return {};
        if (target_of(definition, live.step_id).role == StepRole::kMain) return {};
    }
    if (auto next = next_compensation(tx, run, definition, parents)) return {*next};

    Jobs jobs;
    if (run.status == "failing" && !definition.on_failure.empty()) {
        std::set<std::string> present;
        for (const auto& s : parents) present.insert(s.step_id);
        std::vector<store::StepRow> rows;
        for (const auto& s : definition.on_failure) {
            if (present.count(s.id) != 0) continue;
            store::StepRow row;
            row.id = new_id();
            row.run_id = run.id;
            row.step_id = s.id;
            row.idempotency_key = idempotency_key(run.id, s.id, -1);
            rows.push_back(std::move(row));
        }
        if (!rows.empty()) {
            store::RunStore::insert_steps(tx, rows);
            parents = store::RunStore::parents_of(tx, run.id);
        }
        auto dag = workflow::Dag::build(definition.on_failure);
        std::map<std::string, store::StepRow*> by_id;
        for (auto& s : parents) by_id[s.step_id] = &s;
        std::vector<StepStatus> status(dag.size(), StepStatus::kPending);
        for (size_t i = 0; i < dag.size(); ++i) status[i] = dag_status(by_id.at(dag.id(i))->status);
        // Unlike the main steps, a failed on_failure step does not stop the others that
        // do not need it.
        auto ready = dag.ready(status);
        if (!ready.empty()) {
            std::vector<std::string> ids;
            for (size_t i : ready) {
                store::StepRow* row = by_id.at(dag.id(i));
                ids.push_back(row->step_id);
                jobs.push_back(Enqueue{run.id, row->step_id, -1, row->attempt + 1, std::nullopt});
            }
            store::RunStore::set_steps_status(tx, run.id, ids, "queued");
            return jobs;
        }
        if (std::any_of(status.begin(), status.end(),
                        [](StepStatus s) { return s == StepStatus::kRunning; }))
            return jobs;
        std::vector<std::string> never_started;
        for (size_t i = 0; i < dag.size(); ++i)
            if (status[i] == StepStatus::kPending) never_started.push_back(dag.id(i));
        store::RunStore::set_steps_status(tx, run.id, never_started, "cancelled");
    }

    nlohmann::json outputs = nlohmann::json::object();
    std::string error = run.error;
    for (const auto& s : parents) {
        Target t = target_of(definition, s.step_id);
        if (t.role == StepRole::kMain && (s.status == "succeeded" || s.status == "continued"))
            outputs[s.step_id] = s.outputs;
        if (t.role == StepRole::kCompensation && s.status == "failed")
            error += "; the compensation of step " + t.step->id + " failed" +
                     (s.error.empty() ? "" : ": " + s.error);
    }
    auto more = finish_run(tx, run, run.status == "cancelling" ? "cancelled" : "failed", error,
                           outputs);
    jobs.insert(jobs.end(), more.begin(), more.end());
    return jobs;
}

std::optional<RunEngine::Enqueue> RunEngine::next_compensation(
    pqxx::work& tx, const store::RunRow& run, const workflow::WorkflowDefinition& definition,
    std::vector<store::StepRow>& parents) {
    struct Candidate {
        store::StepRow* row;
        const workflow::StepDefinition* step;
    };
    std::vector<Candidate> candidates;
    std::map<std::string, store::StepRow*> compensations;
    for (auto& s : parents) {
        if (is_compensation(s.step_id)) {
            compensations[s.step_id] = &s;
            continue;
        }
        Target t = target_of(definition, s.step_id);
        if (t.role == StepRole::kMain && t.step != nullptr && t.step->compensate)
            candidates.push_back({&s, t.step});
    }
    // Reverse completion order: the step that finished last is undone first.
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
        if (a.row->finished_at != b.row->finished_at) return a.row->finished_at > b.row->finished_at;
        return a.row->id > b.row->id;
    });
    for (const auto& c : candidates) {
        const std::string name = std::string(kCompensationPrefix) + c.step->id;
        auto it = compensations.find(name);
        if (!c.step->for_each) {
            if (c.row->status != "succeeded" || it != compensations.end()) continue;
            store::StepRow row;
            row.id = new_id();
            row.run_id = run.id;
            row.step_id = name;
            row.status = "queued";
            row.idempotency_key = idempotency_key(run.id, name, -1);
            store::RunStore::insert_steps(tx, {row});
            store::RunStore::add_event(tx, run.id, "step.compensating", {{"step", c.step->id}},
                                       row.id);
            return Enqueue{run.id, name, -1, 1, std::nullopt};
        }
        // A fan-out is undone item by item, highest index first. A tracker row (pending
        // while it lasts) keeps the cursor: the last item handed to compensation.
        if (it != compensations.end() && is_final(it->second->status)) continue;
        if (c.row->status == "pending" || c.row->status == "skipped" || c.row->status == "queued")
            continue;
        const int below = it != compensations.end() ? it->second->item.value("below", -1) : -1;
        auto previous = store::RunStore::previous_succeeded_item(tx, run.id, c.step->id, below);
        if (!previous) {
            if (it != compensations.end()) {
                store::StepRow& tracker = *it->second;
                tracker.status =
                    store::RunStore::count_items(tx, run.id, name, "failed") > 0 ? "failed"
                                                                                 : "succeeded";
                store::RunStore::update_step(tx, tracker);
            }
            continue;
        }
        auto& [index, item] = *previous;
        const nlohmann::json cursor = {{"below", index}};
        if (it == compensations.end()) {
            store::StepRow tracker;
            tracker.id = new_id();
            tracker.run_id = run.id;
            tracker.step_id = name;
            tracker.item = cursor;
            tracker.idempotency_key = idempotency_key(run.id, name, -1);
            store::RunStore::insert_steps(tx, {tracker});
            store::RunStore::add_event(tx, run.id, "step.compensating", {{"step", c.step->id}},
                                       tracker.id);
        } else {
            store::RunStore::set_step_item(tx, it->second->id, cursor);
        }
        store::StepRow row;
        row.id = new_id();
        row.run_id = run.id;
        row.step_id = name;
        row.item_index = index;
        row.status = "queued";
        row.item = item;
        row.idempotency_key = idempotency_key(run.id, name, index);
        store::RunStore::insert_steps(tx, {row});
        return Enqueue{run.id, name, index, 1, std::nullopt};
    }
    return std::nullopt;
}

RunEngine::Jobs RunEngine::finish_run(pqxx::work& tx, store::RunRow& run, const std::string& status,
                                      const std::string& error, const nlohmann::json& outputs) {
    const bool held_slot = run.status != "pending";
    // A run created in this transaction that ends without a parent to resume or a slot to
    // hand over is only written once, in its final state, by the write buffer.
    if (is_buffered(run.id) && run.parent_run_id.empty() &&
        (!held_slot || run.concurrency_key.empty())) {
        BufferedWrites::current()->finish_run(run.id, status, error, outputs);
        run.status = status;
        run.error = error;
        return {};
    }
    flush_writes(tx);
    store::RunStore::finish_run(tx, run.id, status, error, outputs);
    run.status = status;
    run.error = error;
    Jobs jobs;
    if (!run.parent_run_id.empty()) {
        // The workflow.run step that started this run resumes with its outcome.
        nlohmann::json payload = {{"run_id", run.id},
                                  {"status", status},
                                  {"outputs", outputs.is_null() ? nlohmann::json::object() : outputs},
                                  {"error", error.empty() ? nlohmann::json() : nlohmann::json(error)}};
        for (const auto& w : store::RunStore::resolve_waits_for_event(
                 tx, std::string(kChildFinishedEvent), run.id, payload))
            jobs.push_back(Enqueue{w.run_id, w.step_id, w.item_index, w.step_attempt, Clock::now()});
    }
    if (held_slot && !run.concurrency_key.empty()) {
        auto more = admit_pending(tx, run.concurrency_key);
        jobs.insert(jobs.end(), more.begin(), more.end());
    }
    return jobs;
}

RunEngine::Jobs RunEngine::admit_pending(pqxx::work& tx, const std::string& key) {
    store::RunStore::lock_concurrency_key(tx, key);
    long long active = store::RunStore::count_active_runs(tx, key);
    Jobs jobs;
    for (const auto& id : store::RunStore::pending_runs(tx, key, 100)) {
        auto pending = store::RunStore::lock_run(tx, id);
        if (!pending || pending->status != "pending") continue;
        auto definition = definition_of(*pending);
        long long limit = definition->concurrency ? definition->concurrency->limit : LLONG_MAX;
        if (active >= limit) break;
        pending->status = "running";
        store::RunStore::set_run_status(tx, id, "running");
        store::RunStore::add_event(tx, id, "run.started",
                                   {{"workflow", pending->workflow_name},
                                    {"version", pending->workflow_version},
                                    {"trigger", pending->trigger_kind},
                                    {"waited_for", key}});
        auto more = advance(tx, *pending, *definition);
        jobs.insert(jobs.end(), more.begin(), more.end());
        ++active;
    }
    return jobs;
}

}  // namespace artistsaid::runtime
