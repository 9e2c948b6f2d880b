// workflow.run against real PostgreSQL and Redis, with real workers: a step starts a child
// run, waits for it without holding a worker, and resumes with its outcome; a child's
// failure fails the step; cancelling the parent cancels the child.
#include <doctest/doctest.h>

#include "tests/integration/runtime/runtime_fixture.hpp"

using namespace artistsaid;
using namespace std::chrono_literals;
using test::eventually;
using Fixture = test::RuntimeFixture;

namespace {

const char* kChild = R"(
name: provision
inputs:
  client: { type: string, required: true }
  fail: { type: boolean, default: false }
  hold: { type: boolean, default: false }
steps:
  - id: create
    uses: test.count
    with: { tag: "site for ${{ inputs.client }}", sleep_ms: 100 }
  - id: check
    needs: [create]
    uses: test.maybe_fail
    with: { fail: "${{ inputs.fail }}" }
  - id: hold
    needs: [check]
    if: "${{ inputs.hold }}"
    uses: wait.until
    with: { at: "2099-01-01T00:00:00Z" }
)";

const char* kParent = R"(
name: onboard
inputs:
  fail: { type: boolean, default: false }
  hold: { type: boolean, default: false }
steps:
  - id: provision
    uses: workflow.run
    with:
      workflow: provision
      inputs: { client: Ada, fail: "${{ inputs.fail }}", hold: "${{ inputs.hold }}" }
  - id: after
    needs: [provision]
    uses: test.count
    with:
      tag: "child ${{ steps.provision.outputs.status }}: ${{ steps.provision.outputs.outputs.create.tag }}"
)";

std::string child_of(Fixture& f, const std::string& parent) {
    return f.text("SELECT coalesce(min(id::text), '') FROM workflow_runs WHERE parent_run_id = '" +
                  parent + "'");
}

}  // namespace

TEST_CASE("Runtime.SubWorkflow.TheParentWaitsAndGetsTheChildsOutputs") {
    Fixture f;
    f.add_workflow_file("provision", kChild);
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    auto run = f.engine->start(f.workflow(kParent), {});
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "succeeded");
    std::string child = child_of(f, run.run_id);
    REQUIRE_FALSE(child.empty());
    CHECK(f.run_status(child) == "succeeded");
    CHECK(f.text("SELECT parent_step || ' ' || trigger_kind FROM workflow_runs WHERE id = '" +
                 child + "'") == "provision workflow");
    auto out = f.step_outputs(run.run_id, "provision");
    CHECK(out["run_id"] == child);
    CHECK(out["status"] == "succeeded");
    CHECK(out["outputs"]["create"]["tag"] == "site for Ada");
    CHECK(f.text("SELECT result->>'tag' FROM step_effects WHERE idempotency_key = '" + run.run_id +
                 ":after'") == "child succeeded: site for Ada");
    CHECK(f.scalar("SELECT count(*) FROM workflow_runs") == 2);  // one child, started once
}

TEST_CASE("Runtime.SubWorkflow.AChildsFailureFailsTheParentStep") {
    Fixture f;
    f.add_workflow_file("provision", kChild);
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    runtime::StartRequest req;
    req.inputs = {{"fail", true}};
    auto run = f.engine->start(f.workflow(kParent), req);
    REQUIRE(f.finished(run.run_id));
    CHECK(f.run_status(run.run_id) == "failed");
    std::string child = child_of(f, run.run_id);
    CHECK(f.run_status(child) == "failed");
    auto steps = f.step_statuses(run.run_id);
    CHECK(steps["provision"] == "failed");
    CHECK(steps["after"] == "cancelled");
    CHECK(f.text("SELECT error FROM workflow_runs WHERE id = '" + run.run_id + "'")
              .find("child run " + child + " of provision failed: step check failed") !=
          std::string::npos);

    // A workflow that does not exist fails the step with a clear error.
    auto lost = f.engine->start(f.workflow(R"(
name: lost
steps:
  - id: sub
    uses: workflow.run
    with: { workflow: nowhere }
)"),
                                {});
    REQUIRE(f.finished(lost.run_id));
    CHECK(f.run_status(lost.run_id) == "failed");
    CHECK(f.text("SELECT error FROM step_runs WHERE run_id = '" + lost.run_id + "'")
              .find("no valid workflow named 'nowhere'") != std::string::npos);
}

TEST_CASE("Runtime.SubWorkflow.CancellingTheParentCancelsTheChild") {
    Fixture f;
    f.add_workflow_file("provision", kChild);
    f.workers.push_back(f.start_worker({"concurrency=4"}));
    runtime::StartRequest req;
    req.inputs = {{"hold", true}};
    auto run = f.engine->start(f.workflow(kParent), req);
    std::string child;
    REQUIRE(eventually(
        [&] {
            child = child_of(f, run.run_id);
            return !child.empty() && f.step_statuses(child)["hold"] == "waiting";
        },
        15s));
    CHECK(f.step_statuses(run.run_id)["provision"] == "waiting");
    CHECK(f.engine->cancel(run.run_id));
    REQUIRE(f.finished(run.run_id));
    REQUIRE(f.finished(child));
    CHECK(f.run_status(run.run_id) == "cancelled");
    CHECK(f.run_status(child) == "cancelled");
    CHECK(f.step_statuses(child)["hold"] == "cancelled");
    CHECK(f.step_statuses(run.run_id)["provision"] == "cancelled");
}
