// The one place every artistsaid command is registered. Each command group lives in its
// own file under cli/commands/ and contributes one function here.
#pragma once

#include "cli/command.hpp"

namespace artistsaid::cli {

/// The root of the command tree.
Command build_command_tree();

Command config_commands();
Command migrate_commands();
Command demo_command();
Command queue_commands();
Command worker_command();
Command bench_commands();
Command ledger_commands();
Command billing_commands();
/// refund, credit-note, change-plan (children of `billing`).
std::vector<Command> billing_adjust_commands();
Command run_command();
Command runs_commands();
Command reconcile_command();
Command events_commands();
Command validate_command();
Command workflows_commands();
Command tick_command();
Command scheduler_command();
Command schedules_commands();
Command payments_commands();
/// add, list, show, disable payee bank accounts (`payments payees`, a child of `payments`).
Command payees_commands();
Command serve_command();
Command apikeys_commands();
Command plugins_commands();

}  // namespace artistsaid::cli
