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

LiveUpdates::LiveUpdates(queue::RedisEndpoint redis, std::string channel, WorkflowOf workflow_of)
    : redis_(std::move(redis)), channel_(std::move(channel)), workflow_of_(std::move(workflow_of)) {}

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
        name = workflow_of_ ? workflow_of_(run) : std::string();
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
    const std::string run = message["run"];
    const std::string workflow = workflow_of(run);
    message["workflow"] = workflow;
    auto text = std::make_shared<const std::string>(message.dump());
    std::vector<std::shared_ptr<LiveSubscriber>> targets;
    {
        std::lock_guard lock(mutex_);
        std::erase_if(subscribers_, [](const auto& s) { return s.expired(); });
        for (const auto& s : subscribers_)
            if (auto p = s.lock()) targets.push_back(std::move(p));
    }
    for (const auto& t : targets) t->deliver(text, run, workflow);
}

}  // namespace artistsaid::http
