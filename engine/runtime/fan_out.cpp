// for_each steps. The step's own row (item -1) expands: it evaluates the collection,
// records it in step_fanouts and opens its lanes (min(max_parallel, count) of them: lane l
// runs items l, l+lanes, …). Each item is a job; its claim and its result are one statement
// each, without the run's lock, and the statement that records a finished item creates the
// next item of its lane. When the last lane ends, the fan-out's row collects the counts and
// the run goes on.
#include <spdlog/spdlog.h>

#include "engine/core/error.hpp"
#include "engine/core/logging.hpp"
#include "engine/runtime/collection_source.hpp"
#include "engine/runtime/run_engine.hpp"
#include "engine/store/database.hpp"
#include "engine/workflow/eval_context.hpp"

namespace artistsaid::runtime {

using namespace detail;

RunEngine::Jobs RunEngine::item_jobs(const std::string& run_id, const std::string& step_id,
                                     const std::vector<std::int64_t>& indexes) {
    Jobs jobs;
    jobs.reserve(indexes.size());
    for (auto i : indexes)
        jobs.push_back(Enqueue{run_id, step_id, static_cast<int>(i), 1, std::nullopt});
    return jobs;
}

RunEngine::Jobs RunEngine::expand(pqxx::work& tx, store::RunRow& run,
                                  const workflow::WorkflowDefinition& definition,
                                  const workflow::StepDefinition& step, store::StepRow& parent) {
    const Target target{StepRole::kMain, &step};
    auto parents = store::RunStore::parents_of(tx, run.id);
    nlohmann::json steps_json = steps_context(parents, false);
    nlohmann::json run_json = run_context(run, false);
    workflow::EvalContext ectx;
    ectx.inputs = &run.inputs;
    ectx.steps = &steps_json;
    ectx.env = &options_.env;
    ectx.secrets = &options_.secrets;
    ectx.run = &run_json;
    parent.attempt = std::max(parent.attempt, 1);

    std::optional<CollectionSource> source;
    std::string error;
    try {
        if (step.condition && !truthy(step.condition->render(ectx).data()))
            return settle(tx, run, definition, target, parent, "skipped", nlohmann::json(), "",
                          false);
        auto value = step.for_each->render(ectx);
        if (value.is_secret())
            throw InputError("for_each cannot be computed from secrets (its items are stored)");
        source = CollectionSource::from_value(value.data());
        if (source->kind() == CollectionSource::Kind::kCollection) {
            auto found = store::RunStore::find_collection(tx, source->reference());
            // A run reads its own collections and its parent's (a child run of workflow.run).
            if (!found || (!found->first.empty() && found->first != run.id &&
                           found->first != run.parent_run_id))
                throw InputError("for_each: no collection " + source->reference() +
                                 " belongs to this run");
            source->set_total(found->second);
        } else if (source->kind() == CollectionSource::Kind::kStepOutputs) {
            const auto* other = definition.find_step(source->reference());
            auto fanout = other != nullptr && other->for_each
                              ? store::RunStore::find_fanout(tx, run.id, other->id)
                              : std::nullopt;
            if (!fanout)
                throw InputError("for_each: $step_outputs names '" + source->reference() +
                                 "', which is not a for_each step that ran in this run");
            source->set_total(fanout->total);
        }
    } catch (const std::exception& e) {
        error = logging::redact(e.what());
    }
    if (!error.empty())
        return settle(tx, run, definition, target, parent,
                      continues(target) ? "continued" : "failed", nlohmann::json(),
                      "evaluating the step: " + error, false);

    const int max_parallel = step.max_parallel.value_or(kDefaultMaxParallel);
    store::RunStore::start_fanout(tx, run.id, step.id, source->stored(), source->total(),
                                  max_parallel);
    parent.status = "running";
    parent.next_attempt_ms = 0;
    parent.error.clear();
    parent.inputs = {{"count", source->total()}, {"max_parallel", max_parallel}};
    store::RunStore::update_step(tx, parent);
    store::RunStore::add_event(tx, run.id, "step.started",
                               {{"step", step.id}, {"count", source->total()},
                                {"max_parallel", max_parallel}},
                               parent.id);
    Jobs jobs = item_jobs(run.id, step.id, store::RunStore::open_lanes(tx, run.id, step.id));
    auto fanout = store::RunStore::find_fanout(tx, run.id, step.id);
    if (fanout && fanout->finished()) {  // an empty collection, or nothing left to retry
        auto more = finish_fan_out(tx, run, definition, step, parent, *fanout, true);
        jobs.insert(jobs.end(), more.begin(), more.end());
    }
    return jobs;
}

RunEngine::Jobs RunEngine::drive(pqxx::work& tx, store::RunRow& run,
                                 const workflow::WorkflowDefinition& definition,
                                 const workflow::StepDefinition& step, store::StepRow& parent) {
    // Every lane change is one statement or one transaction, so a running fan-out only
    // needs jobs for its live items (the reconciler enqueues those) — or, when its last
    // lane ended but the process died before it was collected, collecting.
    if (parent.status != "running") return {};
    auto fanout = store::RunStore::find_fanout(tx, run.id, step.id);
    if (!fanout || !fanout->finished()) return {};
    return finish_fan_out(tx, run, definition, step, parent, *fanout, true);
}

RunEngine::Jobs RunEngine::finish_fan_out(pqxx::work& tx, store::RunRow& run,
                                          const workflow::WorkflowDefinition& definition,
                                          const workflow::StepDefinition& step,
                                          store::StepRow& parent, const store::FanoutRow& fanout,
                                          bool then_advance) {
    auto [succeeded, failed] = store::RunStore::count_item_outcomes(tx, run.id, step.id);
    const std::int64_t skipped = fanout.total - succeeded - failed;
    nlohmann::json outputs = {{"count", fanout.total},
                              {"succeeded_count", succeeded},
                              {"failed_count", failed},
                              {"skipped_count", skipped}};
    outputs["results"] = fanout.total <= kMaxInlineResults
                             ? store::RunStore::item_results(tx, run.id, step.id)
                             : nlohmann::json{{"$step_outputs", {{"step", step.id}}}};
    std::string status = "succeeded", error;
    if (failed > 0) {
        status = step.on_error == workflow::OnError::kContinue ? "continued" : "failed";
        error = std::to_string(failed) + " of " + std::to_string(fanout.total) +
                " items failed; first: " + store::RunStore::first_item_error(tx, run.id, step.id);
    } else if (skipped > 0) {
        status = "cancelled";
        error = "stopped after " + std::to_string(succeeded) + " of " +
                std::to_string(fanout.total) + " items (the run stopped)";
    }
    parent.status = status;
    parent.outputs = outputs;
    parent.error = error;
    parent.next_attempt_ms = 0;
    store::RunStore::update_step(tx, parent);
    nlohmann::json counts = outputs;
    counts.erase("results");
    counts["step"] = step.id;
    if (!error.empty()) counts["error"] = error;
    store::RunStore::add_event(tx, run.id, "step." + status, counts, parent.id);
    if (!then_advance) return {};
    return advance(tx, run, definition);
}

RunEngine::Jobs RunEngine::collect_fan_out(pqxx::work& tx, store::RunRow& run,
                                           const workflow::WorkflowDefinition& definition,
                                           const workflow::StepDefinition& step) {
    auto parent = store::RunStore::lock_step(tx, run.id, step.id, -1);
    auto fanout = store::RunStore::find_fanout(tx, run.id, step.id);
    if (!parent || parent->status != "running" || !fanout || !fanout->finished()) return {};
    return finish_fan_out(tx, run, definition, step, *parent, *fanout, true);
}

RunEngine::Jobs RunEngine::finish_stopped_fan_outs(pqxx::work& tx, store::RunRow& run,
                                                   const workflow::WorkflowDefinition& definition) {
    Jobs jobs;
    for (auto& parent : store::RunStore::parents_of(tx, run.id)) {
        if (parent.status != "running") continue;
        const auto* step = definition.find_step(parent.step_id);
        if (step == nullptr || !step->for_each) continue;
        auto fanout = store::RunStore::find_fanout(tx, run.id, step->id);
        if (fanout && fanout->finished()) {
            auto more = finish_fan_out(tx, run, definition, *step, parent, *fanout, false);
            jobs.insert(jobs.end(), more.begin(), more.end());
        }
    }
    return jobs;
}

void RunEngine::drive_fan_out(const std::string& run_id, const std::string& step_id) {
    auto& c = connections();
    Jobs jobs;
    try {
        pqxx::work tx(*c.pg);
        auto run = store::RunStore::lock_run(tx, run_id);
        if (!run || is_run_final(run->status)) return;
        auto definition = definition_of(*run);
        const auto* step = definition->find_step(step_id);
        if (step == nullptr || !step->for_each) return;
        auto parent = store::RunStore::lock_step(tx, run_id, step_id, -1);
        if (parent && parent->status == "running")
            jobs = drive(tx, *run, *definition, *step, *parent);
        else if (run->status == "failing" || run->status == "cancelling")
            jobs = advance(tx, *run, *definition);
        tx.commit();
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        c.pg.reset();
        store::throw_from_pqxx("finishing the fan-out " + step_id + " of run " + run_id);
    }
    publish(run_id, {{"kind", "step.finished"}, {"step", step_id}});
    enqueue(run_id, jobs);
}

std::shared_ptr<const RunEngine::ItemContext> RunEngine::item_context(const std::string& run_id,
                                                                      const std::string& step_id) {
    const std::string key = run_id + "/" + step_id;
    {
        std::lock_guard lock(item_contexts_mutex_);
        if (auto it = item_contexts_.find(key); it != item_contexts_.end()) {
            item_context_lru_.splice(item_context_lru_.begin(), item_context_lru_, it->second);
            return it->second->second;
        }
    }
    auto& c = connections();
    auto context = std::make_shared<ItemContext>();
    try {
        pqxx::read_transaction tx(*c.pg);
        auto run = store::RunStore::find_run(tx, run_id);
        if (!run) return nullptr;
        context->definition = definition_of(*run);
        context->step = context->definition->find_step(step_id);
        context->inputs = run->inputs;
        context->steps = steps_context(store::RunStore::parents_of(tx, run_id), false);
        context->run = run_context(*run, false);
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        c.pg.reset();
        store::throw_from_pqxx("loading run " + run_id);
    }
    std::lock_guard lock(item_contexts_mutex_);
    if (auto it = item_contexts_.find(key); it != item_contexts_.end()) return it->second->second;
    item_context_lru_.emplace_front(key, context);
    item_contexts_[key] = item_context_lru_.begin();
    while (item_context_lru_.size() > kItemContexts) {
        item_contexts_.erase(item_context_lru_.back().first);
        item_context_lru_.pop_back();
    }
    return context;
}

void RunEngine::perform_item(const worker::JobContext& ctx, const std::string& run_id,
                             const std::string& step_id, int item, int attempt) {
    auto context = item_context(run_id, step_id);
    if (!context) return;  // the run is gone
    if (context->step == nullptr || !context->step->for_each) {
        perform_step(ctx, run_id, step_id, item, attempt);
        return;
    }
    const workflow::StepDefinition& step = *context->step;
    auto& c = connections();

    // 1. Claim: one statement, no run lock.
    std::optional<std::pair<std::string, nlohmann::json>> claimed;
    try {
        pqxx::nontransaction tx(*c.pg);
        claimed = store::RunStore::start_item(tx, run_id, step_id, item, attempt);
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        c.pg.reset();
        store::throw_from_pqxx("starting item " + std::to_string(item) + " of step " + step_id);
    }
    if (!claimed) {
        // A waiting item resumes, and a stale or stopped one is sorted out, on the long path.
        perform_step(ctx, run_id, step_id, item, attempt);
        return;
    }
    std::string row_id = std::move(claimed->first);
    nlohmann::json item_value = std::move(claimed->second);

    // An inline step (no I/O, StepPlugin::runs_inline) goes on with the next item of its
    // lane in this job — the statement that records an item returns the next one — for a
    // bounded share of the worker, then hands the lane back to the queue. (The reconciler
    // may meanwhile enqueue a job for the queued row being run here; such a duplicate finds
    // the row finished, or runs the I/O-free step twice: harmless.)
    const bool inline_lane = runs_inline(Target{StepRole::kMain, &step});
    const auto budget_end = Clock::now() + kInlineLaneBudget;
    int chained = 0;
    Jobs jobs;
    bool finished = false;
    for (;;) {
        // 2. Render and run.
        workflow::EvalContext ectx;
        ectx.inputs = &context->inputs;
        ectx.steps = &context->steps;
        ectx.env = &options_.env;
        ectx.secrets = &options_.secrets;
        ectx.run = &context->run;
        ectx.item = &item_value;
        ectx.index = item;
        nlohmann::json inputs;
        StepResult result;
        const long long started_ms = to_ms(Clock::now());
        try {
            auto rendered = step.with.render(ectx);
            inputs = rendered.redacted();
            StepCall call;
            call.run_id = run_id;
            call.step_id = step_id;
            call.item_index = item;
            call.attempt = attempt;
            call.idempotency_key = idempotency_key(run_id, step_id, item);
            call.with = std::move(rendered).release();
            call.should_stop = &ctx.should_stop;
            result = execute(steps_.find(step.uses), step.uses, call,
                             step.timeout.value_or(kDefaultTimeout));
        } catch (const std::exception& e) {
            result = StepResult::failure("evaluating the step: " + logging::redact(e.what()),
                                         false);
        }

        // 3. Record.
        std::optional<store::ItemCompletion> completed;
        try {
            workflow::RetryPolicy policy = step.retry.value_or(workflow::RetryPolicy{});
            if (result.kind == StepResult::Kind::kFailed && result.retryable &&
                attempt < policy.attempts) {
                auto at = Clock::now() +
                          policy.jittered(policy.delay_before(attempt + 1), random_unit());
                result.error = logging::redact(result.error);
                pqxx::work tx(*c.pg);
                if (!store::RunStore::park_item(tx, row_id, attempt, "retrying", result.error,
                                                to_ms(at)))
                    break;
                store::RunStore::add_event(tx, run_id, "step.retrying",
                                           {{"step", step_id}, {"item", item}, {"attempt", attempt},
                                            {"error", result.error}},
                                           row_id);
                tx.commit();
                jobs.push_back(Enqueue{run_id, step_id, item, attempt + 1, at});
            } else if (result.kind == StepResult::Kind::kWait) {
                auto at = result.resume_at.value_or(Clock::now());
                pqxx::nontransaction tx(*c.pg);
                if (store::RunStore::park_item(tx, row_id, attempt, "waiting", "", to_ms(at)))
                    jobs.push_back(Enqueue{run_id, step_id, item, attempt, at});
            } else if (result.kind == StepResult::Kind::kWaitEvent ||
                       result.kind == StepResult::Kind::kStartChild) {
                // Waits that involve other rows (run_waits, a child run) take the run's lock.
                pqxx::work tx(*c.pg);
                auto run = store::RunStore::lock_run(tx, run_id);
                if (!run) break;
                auto row = store::RunStore::lock_step(tx, run_id, step_id, item);
                const bool first =
                    row && row->status == "queued" && row->attempt == 0 && attempt == 1;
                if (!row || (!first && (row->status != "running" || row->attempt != attempt)))
                    break;
                row->attempt = attempt;
                row->inputs = inputs;
                Jobs more;
                try {
                    if (run->status != "running") throw InputError("the run is stopping");
                    more = record_wait(tx, *run, *row, result);
                } catch (const InputError& e) {
                    more = settle(tx, *run, *context->definition, Target{StepRole::kMain, &step},
                                  *row, continues(Target{StepRole::kMain, &step}) ? "continued"
                                                                                : "failed",
                                  nlohmann::json(), logging::redact(e.what()), false);
                }
                tx.commit();
                jobs.insert(jobs.end(), more.begin(), more.end());
            } else {
                store::ItemOutcome o;
                o.row_id = row_id;
                o.attempt = attempt;
                o.inputs = inputs;
                o.started_ms = started_ms;
                if (result.kind == StepResult::Kind::kSucceeded) {
                    o.status = "succeeded";
                    o.outputs = redact_json(std::move(result.outputs));
                } else {
                    o.status = step.on_error == workflow::OnError::kContinue ? "continued" : "failed";
                    o.error = logging::redact(result.error);
                    o.stop = o.status == "failed";
                }
                if (o.status == "succeeded") {
                    pqxx::nontransaction tx(*c.pg);  // one statement: its own transaction
                    completed = store::RunStore::complete_item(tx, run_id, step_id, o);
                } else {
                    pqxx::work tx(*c.pg);
                    completed = store::RunStore::complete_item(tx, run_id, step_id, o);
                    if (completed->recorded)
                        store::RunStore::add_event(tx, run_id, "step." + o.status,
                                                   {{"step", step_id}, {"item", item},
                                                    {"attempt", attempt}, {"error", o.error}},
                                                   row_id);
                    tx.commit();
                }
            }
        } catch (const Error&) {
            throw;
        } catch (const std::exception&) {
            c.pg.reset();
            store::throw_from_pqxx("recording item " + std::to_string(item) + " of step " +
                                   step_id);
        }
        if (!completed || !completed->recorded) break;  // parked, or stale
        finished = completed->finished;
        if (completed->next < 0) break;
        if (!inline_lane || ++chained >= kInlineLaneItems || Clock::now() >= budget_end ||
            ctx.should_stop) {
            jobs.push_back(Enqueue{run_id, step_id, static_cast<int>(completed->next), 1,
                                   std::nullopt});
            break;
        }
        // The next item of the lane, in this job.
        item = static_cast<int>(completed->next);
        attempt = 1;
        row_id = std::move(completed->next_row_id);
        item_value = std::move(completed->next_item);
    }
    enqueue(run_id, jobs);
    if (finished) drive_fan_out(run_id, step_id);
}

}  // namespace artistsaid::runtime
