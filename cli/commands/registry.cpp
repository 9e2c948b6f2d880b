#include "cli/commands/registry.hpp"

namespace artistsaid::cli {

Command build_command_tree() {
    Command root;
    root.name = "artistsaid";
    root.summary =
        "ArtistsAid Engine: jobs and workflows for a creative-services business "
        "(billing, provisioning, payouts, support).";
    root.children = {
        demo_command(),
        migrate_commands(),
        run_command(),
        runs_commands(),
        reconcile_command(),
        events_commands(),
        worker_command(),
        queue_commands(),
        validate_command(),
        workflows_commands(),
        tick_command(),
        scheduler_command(),
        schedules_commands(),
        config_commands(),
        bench_commands(),
        ledger_commands(),
        payments_commands(),
    };
    return root;
}

}  // namespace artistsaid::cli
