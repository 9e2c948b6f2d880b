// The one place where the job types a worker process runs are registered.
#pragma once

#include "engine/worker/job_handler.hpp"

namespace artistsaid::cli {

void register_job_handlers(worker::HandlerRegistry& registry);

}  // namespace artistsaid::cli
