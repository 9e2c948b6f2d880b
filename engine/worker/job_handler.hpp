// What a worker runs: a JobHandler per job type, looked up in a HandlerRegistry that the
// process fills in one visible place (cli/commands/worker_command.cpp).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/queue/job.hpp"

namespace artistsaid::worker {

/// What a handler gets: the job, its payload parsed, and a flag that turns true when the
/// worker is shutting down or has lost the job's lease (long handlers should check it
/// and stop early; the job is given back or delivered again).
struct JobContext {
    const queue::LeasedJob& job;
    const nlohmann::json& payload;
    const std::atomic<bool>& should_stop;
};

/// Runs jobs of one type. perform() returning normally means done; throwing fails the
/// job: an InputError (the payload can never succeed) sends it straight to the dead set,
/// anything else is retried under the job's retry policy.
/// Thread-safety: perform() is called from many processor threads at once.
class JobHandler {
public:
    virtual ~JobHandler() = default;
    virtual std::string_view type() const = 0;
    virtual void perform(const JobContext& context) = 0;
};

/// A handler from a function, for small handlers and tests.
class FunctionHandler final : public JobHandler {
public:
    FunctionHandler(std::string type, std::function<void(const JobContext&)> fn)
        : type_(std::move(type)), fn_(std::move(fn)) {}
    std::string_view type() const override { return type_; }
    void perform(const JobContext& context) override { fn_(context); }

private:
    std::string type_;
    std::function<void(const JobContext&)> fn_;
};

/// Job type → handler. Filled before the worker starts; read-only afterwards.
class HandlerRegistry {
public:
    void add(std::unique_ptr<JobHandler> handler);
    void add(std::string type, std::function<void(const JobContext&)> fn);
    JobHandler* find(std::string_view type) const;
    std::vector<std::string> types() const;

private:
    std::map<std::string, std::unique_ptr<JobHandler>, std::less<>> handlers_;
};

}  // namespace artistsaid::worker
