#include "engine/runtime/buffered_writes.hpp"

namespace artistsaid::runtime::detail {
namespace {

thread_local store::RunWriteBuffer* t_current = nullptr;

}  // namespace

BufferedWrites::BufferedWrites(store::RunWriteBuffer& buffer) : previous_(t_current) {
    t_current = &buffer;
}

BufferedWrites::~BufferedWrites() {
    t_current->clear();
    t_current = previous_;
}

store::RunWriteBuffer* BufferedWrites::current() noexcept { return t_current; }

void flush_writes(pqxx::work& tx) {
    if (t_current != nullptr) t_current->flush(tx);
}

bool is_buffered(const std::string& run_id) {
    return t_current != nullptr && t_current->holds(run_id);
}

void record_step(pqxx::work& tx, const store::StepRow& step, const nlohmann::json& events) {
    if (is_buffered(step.run_id))
        t_current->record_step(step, events);
    else
        store::RunStore::record_step(tx, step, events);
}

void set_steps_status(pqxx::work& tx, const std::string& run_id,
                      const std::vector<std::string>& step_ids, const std::string& status) {
    if (step_ids.empty()) return;
    if (is_buffered(run_id))
        t_current->set_steps_status(run_id, step_ids, status);
    else
        store::RunStore::set_steps_status(tx, run_id, step_ids, status);
}

}  // namespace artistsaid::runtime::detail
