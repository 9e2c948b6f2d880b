// Job types every worker runs, for operators checking a deployment and for benchmarks:
//   diag.noop                      does nothing
//   diag.sleep {"ms": N}           sleeps N ms (stops early on shutdown)
//   diag.fail  {"message": "…"}    fails with the message (retried per policy)
#pragma once

#include "engine/worker/job_handler.hpp"

namespace artistsaid::worker {

void register_diagnostic_handlers(HandlerRegistry& registry);

}  // namespace artistsaid::worker
