#include "engine/worker/processor.hpp"

#include <spdlog/spdlog.h>

#include <random>

#include "engine/core/error.hpp"
#include "engine/worker/manager.hpp"

namespace artistsaid::worker {
namespace {

uint64_t random_u64() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng();
}

JobResult dead(const queue::LeasedJob& job, std::string kind, std::string error) {
    JobResult r;
    r.job = job;
    r.kind = JobResult::Kind::kDead;
    r.error_kind = std::move(kind);
    r.error = std::move(error);
    return r;
}

}  // namespace

Processor::Processor(Manager& manager, const HandlerRegistry& handlers)
    : manager_(manager), handlers_(handlers) {}

Processor::~Processor() {
    if (thread_.joinable()) thread_.detach();
}

void Processor::start() { thread_ = std::thread([this] { run(); }); }

void Processor::join() {
    if (thread_.joinable()) thread_.join();
}

void Processor::detach() {
    if (thread_.joinable()) thread_.detach();
}

void Processor::run() {
    while (auto job = manager_.take(*this)) {
        busy_ = true;
        should_stop_ = false;
        JobResult result = process(*job, handlers_, should_stop_);
        busy_ = false;
        manager_.finished(std::move(result));
    }
}

JobResult Processor::process(const queue::LeasedJob& job, const HandlerRegistry& handlers,
                             const std::atomic<bool>& should_stop) {
    JobHandler* handler = handlers.find(job.type);
    if (handler == nullptr) {
        std::string known;
        for (const auto& t : handlers.types()) known += (known.empty() ? "" : ", ") + t;
        return dead(job, "unknown_type",
                    "unknown job type '" + job.type + "' (this worker runs: " + known + ")");
    }
    nlohmann::json payload = nlohmann::json::parse(job.payload, nullptr, false);
    if (payload.is_discarded())
        return dead(job, "malformed_payload",
                    "malformed payload: not valid JSON (" + std::to_string(job.payload.size()) +
                        " bytes)");

    auto started = std::chrono::steady_clock::now();
    JobResult result;
    result.job = job;
    try {
        handler->perform(JobContext{job, payload, should_stop});
        result.kind = JobResult::Kind::kDone;
    } catch (const InputError& e) {
        // The input will not get better by retrying.
        result = dead(job, "invalid_input", e.what());
    } catch (const std::exception& e) {
        result.kind = JobResult::Kind::kRetry;
        result.error_kind = "error";
        result.error = e.what();
    } catch (...) {
        result.kind = JobResult::Kind::kRetry;
        result.error_kind = "error";
        result.error = "the handler threw a non-standard exception";
    }
    result.duration = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    result.job.run_us = result.duration.count();  // recorded by the ack or fail
    if (result.kind == JobResult::Kind::kRetry) {
        if (job.attempt >= job.retry.max_attempts)
            result.kind = JobResult::Kind::kDead;
        else
            result.delay = job.retry.backoff(job.attempt, random_u64());
    }
    return result;
}

}  // namespace artistsaid::worker
