// Which transaction's new runs are kept in a store::RunWriteBuffer instead of being
// written statement by statement (see run_write_buffer.hpp for why). A start transaction
// opens a BufferedWrites scope on its thread; the run-time's hot writes go through the
// functions below, which buffer them when the run's rows are buffered and write them
// directly otherwise; every other path calls flush_writes() before it reads or
// references run rows. Internal to the run-time.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "engine/store/run_store.hpp"
#include "engine/store/run_write_buffer.hpp"

namespace artistsaid::runtime::detail {

/// Makes `buffer` this thread's current write buffer for its lifetime (scopes nest: the
/// previous one is restored). On destruction the buffer is cleared: whoever commits must
/// have flushed it.
class BufferedWrites {
public:
    explicit BufferedWrites(store::RunWriteBuffer& buffer);
    ~BufferedWrites();
    BufferedWrites(const BufferedWrites&) = delete;
    BufferedWrites& operator=(const BufferedWrites&) = delete;

    /// This thread's current buffer, or nullptr.
    static store::RunWriteBuffer* current() noexcept;

private:
    store::RunWriteBuffer* previous_;
};

/// Writes this thread's buffered rows now (a no-op without a buffer).
void flush_writes(pqxx::work& tx);
/// Whether the rows of this run are buffered (not in PostgreSQL yet).
bool is_buffered(const std::string& run_id);

/// RunStore::record_step, buffered when the run is.
void record_step(pqxx::work& tx, const store::StepRow& step, const nlohmann::json& events);
/// RunStore::set_steps_status, buffered when the run is.
void set_steps_status(pqxx::work& tx, const std::string& run_id,
                      const std::vector<std::string>& step_ids, const std::string& status);

}  // namespace artistsaid::runtime::detail
