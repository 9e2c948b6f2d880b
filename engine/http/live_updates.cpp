#include "engine/http/live_updates.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"

namespace artistsaid::http {

namespace {
constexpr std::size_t kWorkflowCache = 10000;
// No message for this long ends the blocking read; the subscription is then renewed.
constexpr std::chrono::seconds kReadTimeout{30};
}  // namespace

LiveUpdates::LiveUpdates(queue::RedisEndpoint redis, std::string channel, RunLookup lookup)
    : redis_(std::move(redis)), channel_(std::move(channel)), lookup_(std::move(lookup)) {}

LiveUpdates::~LiveUpdates() { stop(); }

void LiveUpdates::start() { thread_ = std::thread([this] { run(); }); }

void LiveUpdates::stop() {
    stop_ = true;
    {
        std::lock_guard lock(mutex_);
        if (connection_ != nullptr) connection_->interrupt();
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void LiveUpdates::add(std::weak_ptr<LiveSubscriber> subscriber) {
    std::lock_guard lock(mutex_);
    std::erase_if(subscribers_, [](const auto& s) { return s.expired(); });
    subscribers_.push_back(std::move(subscriber));
}

void LiveUpdates::run() {
    while (!stop_) {
        try {
            queue::RedisConnection conn(redis_, std::chrono::seconds(5), kReadTimeout);
            {
                std::lock_guard lock(mutex_);
                if (stop_) return;
                connection_ = &conn;
            }
            struct Detach {
                LiveUpdates& self;
                ~Detach() {
                    std::lock_guard lock(self.mutex_);
                    self.connection_ = nullptr;
                    self.subscribed_ = false;
                }
            } detach{*this};
            auto reply = conn.command({"SUBSCRIBE", channel_});
            queue::check_reply(reply, "subscribing to live updates");
            subscribed_ = true;
            while (!stop_) {
                auto message = conn.read_reply();
                auto v = message.view();
                if (v.is_array() && v.size() == 3 && v[0].str() == "message")
                    publish(v[2].string());
            }
        } catch (const Error& e) {
            if (stop_) return;
            spdlog::debug("live updates: {}; subscribing again", e.what());
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_.load(); });
        }
    }
}

std::string LiveUpdates::workflow_of(const std::string& run) {
    if (auto found = workflows_.find(run); found != workflows_.end()) return found->second;
    std::string name;
    try {
        name = lookup_ ? lookup_(run).workflow : std::string();
    } catch (const std::exception& e) {
        spdlog::debug("live updates: workflow of run {} unknown: {}", run, e.what());
        return name;
    }
    if (workflows_.size() >= kWorkflowCache) workflows_.clear();
    if (!name.empty()) workflows_.emplace(run, name);
    return name;
}

void LiveUpdates::publish(const std::string& payload) {
    nlohmann::json message = nlohmann::json::parse(payload, nullptr, false);
    if (!message.is_object() || !message.contains("run") || !message["run"].is_string()) return;
    {
        std::lock_guard lock(mutex_);
        std::erase_if(subscribers_, [](const auto& s) { return s.expired(); });
        if (subscribers_.empty()) return;  // nobody to tell: no lookups either
    }
    const std::string run = message["run"];
    const std::string kind = message.value("kind", std::string());
    const std::string workflow = workflow_of(run);
    message["workflow"] = workflow;
    deliver(std::make_shared<const std::string>(message.dump()), run, workflow);
    if (auto end = end_of(run, kind)) {
        nlohmann::json ended = {{"kind", *end}, {"run", run}, {"workflow", workflow}};
        deliver(std::make_shared<const std::string>(ended.dump()), run, workflow);
    }
}

std::optional<std::string> LiveUpdates::end_of(const std::string& run, const std::string& kind) {
    if (kind == "run.retried") ended_.erase(run);  // it runs again and will end again
    // Updates after which the run cannot have ended.
    const bool run_kind = kind.rfind("run.", 0) == 0;
    if (kind == "step.started" || kind == "step.retrying" || kind == "step.waiting" ||
        (run_kind && kind != "run.cancelling" && kind != "run.failing"))
        return std::nullopt;
    if (ended_.count(run) || !lookup_) return std::nullopt;
    std::string status;
    try {
        status = lookup_(run).status;
    } catch (const std::exception& e) {
        spdlog::debug("live updates: status of run {} unknown: {}", run, e.what());
        return std::nullopt;
    }
    if (status != "succeeded" && status != "failed" && status != "cancelled") return std::nullopt;
    if (ended_.size() >= kWorkflowCache) ended_.clear();
    ended_.insert(run);
    return "run." + status;
}

void LiveUpdates::deliver(const std::shared_ptr<const std::string>& text, const std::string& run,
                          const std::string& workflow) {
    std::vector<std::shared_ptr<LiveSubscriber>> targets;
    {
        std::lock_guard lock(mutex_);
        for (const auto& s : subscribers_)
            if (auto p = s.lock()) targets.push_back(std::move(p));
    }
    for (const auto& t : targets) t->deliver(text, run, workflow);
}

}  // namespace artistsaid::http
