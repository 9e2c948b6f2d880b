#include "engine/workflow/builtin_step_types.hpp"

namespace artistsaid::workflow {

void register_builtin_step_types(StepCatalog& catalog) {
    catalog.add({
        "workflow.run",
        "Start another workflow as a child run, wait for it, and return its outputs.",
        {
            {"workflow", ValueType::kString, true, "name of the workflow to run", {}},
            {"inputs", ValueType::kObject, false, "inputs of the child run", {}},
        },
        {
            {"run_id", ValueType::kString, false, "id of the child run", {}},
            {"status", ValueType::kString, false, "final status of the child run", {}},
            {"outputs", ValueType::kObject, false, "the child run's outputs", {}},
        },
    });
    catalog.add({
        "wait.event",
        "Wait durably until an event (or webhook) with a matching key arrives, or a timeout.",
        {
            {"event",
             ValueType::kString,
             true,
             "event name to wait for, e.g. contract.signed or a webhook's event type",
             {}},
            {"key",
             ValueType::kString,
             true,
             "correlation key; only an event carrying the same key resumes this step",
             {}},
            {"timeout",
             ValueType::kDuration,
             false,
             "give up after this long (default: never)",
             {}},
            {"on_timeout",
             ValueType::kString,
             false,
             "fail (default): the step fails; continue: it succeeds with timed_out = true",
             {"fail", "continue"}},
        },
        {
            {"event", ValueType::kObject, false, "the event's payload (null on timeout)", {}},
            {"timed_out", ValueType::kBoolean, false, "true if the timeout passed first", {}},
        },
    });
    catalog.add({
        "wait.until",
        "Wait durably until a point in time (survives restarts).",
        {
            {"at", ValueType::kDatetime, true, "when to continue (RFC 3339)", {}},
        },
        {
            {"waited_until", ValueType::kDatetime, false, "the time the step resumed", {}},
        },
    });
    catalog.add({
        "log",
        "Write a message to the run's log (for tests and simple rules).",
        {
            {"message", ValueType::kString, true, "the text to log", {}},
            {"level",
             ValueType::kString,
             false,
             "debug, info (default), warn or error",
             {"debug", "info", "warn", "error"}},
        },
        {
            {"message", ValueType::kString, false, "the text that was logged", {}},
        },
    });
    catalog.add({
        "noop",
        "Do nothing and succeed, dispatched as a queue job like a plugin step (benchmarks, "
        "placeholders).",
        {},
        {},
    });
    catalog.add({
        "fail",
        "Fail the step with a message (for tests and simple rules).",
        {
            {"message", ValueType::kString, true, "why the step fails", {}},
        },
        {},
    });
}

}  // namespace artistsaid::workflow
