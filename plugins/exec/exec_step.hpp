// `exec`: runs an admin-provided executable from the configured plugin directory
// (ARTISTSAID_EXEC_DIR) — so a step can be added without recompiling.
//
// Contract with the executable: it gets one JSON object on stdin
//   {"input": <with.input>, "run_id", "step_id", "item_index", "attempt", "idempotency_key",
//    "deadline": RFC 3339}
// and must print one JSON object on stdout and exit 0; that object becomes the step's
// `result` output. Exit status 75 (EX_TEMPFAIL) is a retryable failure, any other non-zero
// status a final one; its stderr (last 2 KiB) is the error.
//
// Safety: `command` is a name relative to the directory; absolute paths, `..` and symlinks
// resolving outside the directory are refused. The child runs in its own process group with
// a clean environment (PATH=/usr/bin:/bin, LANG=C.UTF-8, HOME=/nonexistent, nothing else:
// no secrets unless the workflow passes them in `input`), its working directory the plugin
// directory, stdout limited to 1 MiB; at the timeout (or the step's deadline, or worker
// shutdown) the whole process group is killed with SIGKILL.
// Thread-safety: run() may be called concurrently.
#pragma once

#include <optional>
#include <string>

#include "engine/runtime/step_plugin.hpp"

namespace artistsaid::plugins {

class ExecStep final : public runtime::StepPlugin {
public:
    /// `directory`: the plugin directory (nullopt: exec steps fail with a clear error).
    explicit ExecStep(std::optional<std::string> directory);
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

    /// The executable `command` names, checked to be inside the directory (InputError if not).
    std::string resolve(const std::string& command) const;

private:
    std::optional<std::string> directory_;
};

}  // namespace artistsaid::plugins
