#include "tests/integration/runtime/test_steps.hpp"

#include <pqxx/pqxx>
#include <thread>

#include "engine/store/run_store.hpp"

namespace artistsaid::test {
namespace {

using workflow::FieldDescriptor;
using workflow::ValueType;

pqxx::connection& db(const std::string& url) {
    thread_local std::unique_ptr<pqxx::connection> conn;
    thread_local std::string conn_url;
    if (!conn || !conn->is_open() || conn_url != url) {
        conn = std::make_unique<pqxx::connection>(url);
        conn_url = url;
    }
    return *conn;
}

class CountStep final : public runtime::StepPlugin {
public:
    explicit CountStep(std::string url) : url_(std::move(url)) {}
    const workflow::StepTypeDescriptor& descriptor() const override { return d_; }
    runtime::StepResult run(const runtime::StepCall& call) override {
        {
            pqxx::work tx(db(url_));
            tx.exec_params0("INSERT INTO test_executions (idempotency_key) VALUES ($1)",
                            call.idempotency_key);
            tx.exec_params0(
                "INSERT INTO step_effects (idempotency_key, kind, result) VALUES ($1, 'test', "
                "$2::jsonb) ON CONFLICT (idempotency_key) DO NOTHING",
                call.idempotency_key, nlohmann::json{{"tag", call.with.value("tag", "")}}.dump());
            tx.commit();
        }
        int sleep_ms = call.with.value("sleep_ms", 0);
        if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        return runtime::StepResult::success({{"tag", call.with.value("tag", "")}});
    }

private:
    std::string url_;
    workflow::StepTypeDescriptor d_{"test.count",
                                    "records an execution and an idempotent effect",
                                    {FieldDescriptor{"tag", ValueType::kString, false, "", {}},
                                     FieldDescriptor{"sleep_ms", ValueType::kInteger, false, "", {}}},
                                    {FieldDescriptor{"tag", ValueType::kString, false, "", {}}}};
};

class FlakyStep final : public runtime::StepPlugin {
public:
    const workflow::StepTypeDescriptor& descriptor() const override { return d_; }
    runtime::StepResult run(const runtime::StepCall& call) override {
        if (call.attempt <= call.with.value("failures", 0))
            return runtime::StepResult::failure("flaky failure on attempt " +
                                                std::to_string(call.attempt));
        return runtime::StepResult::success({{"attempt", call.attempt}});
    }

private:
    workflow::StepTypeDescriptor d_{"test.flaky",
                                    "fails its first N attempts",
                                    {FieldDescriptor{"failures", ValueType::kInteger, true, "", {}}},
                                    {FieldDescriptor{"attempt", ValueType::kInteger, false, "", {}}}};
};

class GateStep final : public runtime::StepPlugin {
public:
    explicit GateStep(std::string url) : url_(std::move(url)) {}
    const workflow::StepTypeDescriptor& descriptor() const override { return d_; }
    runtime::StepResult run(const runtime::StepCall& call) override {
        pqxx::work tx(db(url_));
        tx.exec_params0("INSERT INTO test_executions (idempotency_key) VALUES ($1)",
                        call.idempotency_key);
        auto open = tx.exec_params1("SELECT count(*) FROM test_gates WHERE name = $1",
                                    call.with.value("name", ""))[0]
                        .as<int>();
        tx.commit();
        if (open == 0) return runtime::StepResult::failure("gate is closed", false);
        return runtime::StepResult::success();
    }

private:
    std::string url_;
    workflow::StepTypeDescriptor d_{"test.gate",
                                    "fails until its gate is opened",
                                    {FieldDescriptor{"name", ValueType::kString, true, "", {}}},
                                    {}};
};

// Measures how many executions overlap: entering increments `current` and raises `peak`,
// leaving decrements it.
class SlotStep final : public runtime::StepPlugin {
public:
    explicit SlotStep(std::string url) : url_(std::move(url)) {}
    const workflow::StepTypeDescriptor& descriptor() const override { return d_; }
    runtime::StepResult run(const runtime::StepCall& call) override {
        std::string name = call.with.value("name", "");
        {
            pqxx::work tx(db(url_));
            tx.exec_params0(
                "INSERT INTO test_slots (name, current, peak) VALUES ($1, 1, 1) "
                "ON CONFLICT (name) DO UPDATE SET current = test_slots.current + 1, "
                "peak = greatest(test_slots.peak, test_slots.current + 1)",
                name);
            tx.commit();
        }
        int sleep_ms = call.with.value("sleep_ms", 0);
        if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        {
            pqxx::work tx(db(url_));
            tx.exec_params0("UPDATE test_slots SET current = current - 1 WHERE name = $1", name);
            tx.commit();
        }
        return runtime::StepResult::success({{"index", call.item_index}});
    }

private:
    std::string url_;
    workflow::StepTypeDescriptor d_{"test.slot",
                                    "counts overlapping executions per name",
                                    {FieldDescriptor{"name", ValueType::kString, true, "", {}},
                                     FieldDescriptor{"sleep_ms", ValueType::kInteger, false, "", {}}},
                                    {FieldDescriptor{"index", ValueType::kInteger, false, "", {}}}};
};

class MaybeFailStep final : public runtime::StepPlugin {
public:
    const workflow::StepTypeDescriptor& descriptor() const override { return d_; }
    runtime::StepResult run(const runtime::StepCall& call) override {
        if (call.with.value("fail", false))
            return runtime::StepResult::failure("failed on purpose", call.with.value("retryable", false));
        return runtime::StepResult::success({{"value", call.with.value("value", nlohmann::json())}});
    }

private:
    workflow::StepTypeDescriptor d_{"test.maybe_fail",
                                    "fails when told to",
                                    {FieldDescriptor{"fail", ValueType::kBoolean, true, "", {}},
                                     FieldDescriptor{"retryable", ValueType::kBoolean, false, "", {}},
                                     FieldDescriptor{"value", ValueType::kAny, false, "", {}}},
                                    {FieldDescriptor{"value", ValueType::kAny, false, "", {}}}};
};

// Stores the integers 0..count-1 as {"n": i} in a collection owned by the run (the way a
// plugin turns its own query into a fan-out) and returns the handle.
class CollectionStep final : public runtime::StepPlugin {
public:
    explicit CollectionStep(std::string url) : url_(std::move(url)) {}
    const workflow::StepTypeDescriptor& descriptor() const override { return d_; }
    runtime::StepResult run(const runtime::StepCall& call) override {
        long long count = call.with.value("count", 0LL);
        pqxx::work tx(db(url_));
        std::string id = store::RunStore::create_collection_from_query(
            tx, call.run_id,
            "SELECT jsonb_build_object('n', i) FROM generate_series(0, " +
                std::to_string(count - 1) + ") AS i ORDER BY i");
        tx.commit();
        return runtime::StepResult::success({{"items", {{"$collection", {{"id", id}}}}}});
    }

private:
    std::string url_;
    workflow::StepTypeDescriptor d_{"test.collection",
                                    "stores {n: 0..count-1} as a collection",
                                    {FieldDescriptor{"count", ValueType::kInteger, true, "", {}}},
                                    {FieldDescriptor{"items", ValueType::kAny, false, "", {}}}};
};

}  // namespace

void create_test_step_tables(const std::string& db_url) {
    pqxx::connection conn(db_url);
    pqxx::work tx(conn);
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS test_executions (n bigserial PRIMARY KEY, "
        "idempotency_key text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())");
    tx.exec0("CREATE TABLE IF NOT EXISTS test_gates (name text PRIMARY KEY)");
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS test_slots (name text PRIMARY KEY, current int NOT NULL, "
        "peak int NOT NULL)");
    tx.commit();
}

void register_test_steps(runtime::StepRegistry& registry, const std::string& db_url) {
    registry.add(std::make_unique<CountStep>(db_url));
    registry.add(std::make_unique<FlakyStep>());
    registry.add(std::make_unique<GateStep>(db_url));
    registry.add(std::make_unique<SlotStep>(db_url));
    registry.add(std::make_unique<MaybeFailStep>());
    registry.add(std::make_unique<CollectionStep>(db_url));
}

}  // namespace artistsaid::test
