// Step types for the run-time's integration tests; they record in PostgreSQL what they did.
//   test.count {"tag": T, "sleep_ms": N}  one row in test_executions per execution and one
//                                         effect in step_effects per idempotency key
//   test.flaky {"failures": N}            fails its first N attempts, then succeeds
//   test.gate  {"name": G}                fails (not retryable) until test_gates has G;
//                                         each execution is a row in test_executions
//   test.slot  {"name": N, "sleep_ms": M} counts overlapping executions (test_slots.peak)
//   test.maybe_fail {"fail": B, "retryable": B, "value": V}  fails when told, else returns V
//   test.collection {"count": N}          a $collection handle of {"n": 0..N-1}
#pragma once

#include <string>

#include "engine/runtime/step_plugin.hpp"

namespace artistsaid::test {

/// Creates the tables the test steps write to (in the database at `db_url`).
void create_test_step_tables(const std::string& db_url);
void register_test_steps(runtime::StepRegistry& registry, const std::string& db_url);

}  // namespace artistsaid::test
