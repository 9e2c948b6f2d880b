#include "cli/job_handlers.hpp"

#include "engine/worker/diagnostic_handlers.hpp"

namespace artistsaid::cli {

void register_job_handlers(worker::HandlerRegistry& registry) {
    worker::register_diagnostic_handlers(registry);
}

}  // namespace artistsaid::cli
