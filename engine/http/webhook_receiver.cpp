#include "engine/http/webhook_receiver.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/http/http_session.hpp"
#include "engine/http/sms_status_recorder.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::http {
namespace {

Response json_response(unsigned status, const nlohmann::json& body) {
    Response res{static_cast<boost::beast::http::status>(status), 11};
    res.set(boost::beast::http::field::content_type, "application/json");
    res.body() = body.dump();
    return res;
}

// Events whose processing has not finished are retried this long after they were claimed.
constexpr const char* kReclaimAfter = "30 seconds";
constexpr int kMaxAttempts = 20;

}  // namespace

Response WebhookReceiver::receive(const Request& request, const std::string& hook,
                                  const std::string& url, pqxx::connection& pg) {
    const WebhookVerifier* verifier = nullptr;
    if (hook.rfind("generic/", 0) == 0)
        verifier = verifiers_.find_generic(hook.substr(8));
    else if (hook.find('/') == std::string::npos)
        verifier = verifiers_.find(hook);
    if (verifier == nullptr) {
        metrics_.count_webhook("unknown", "unknown_provider");
        return json_error(404, "unknown_provider",
                          "no webhook provider '" + hook + "' is configured on this server");
    }
    const std::string provider(verifier->provider());
    if (request.method() != boost::beast::http::verb::post)
        return json_error(405, "method_not_allowed", "webhooks are POSTed");
    WebhookEvent event;
    try {
        event = verifier->verify(request, url);
    } catch (const WebhookRejected& e) {
        metrics_.count_webhook(provider, e.status() == 503 ? "unavailable" : "rejected");
        spdlog::warn("webhook {} refused: {}", provider, e.what());
        return json_error(e.status(), e.code(), e.what());
    }
    if (event.id.size() > 255 || event.type.size() > 200 || event.key.size() > 255) {
        metrics_.count_webhook(provider, "rejected");
        return json_error(400, "invalid_payload", "event id, type or key is too long");
    }

    Stored stored{new_id(), provider, event.id, event.type, event.key, event.payload};
    bool inserted = false;
    std::string existing;
    try {
        pqxx::work tx(pg);
        auto r = tx.exec_params(
            "INSERT INTO webhook_events (id, provider, provider_event_id, type, payload, "
            "correlation_key, attempts, claimed_at) "
            "VALUES ($1, $2, $3, $4, $5::jsonb, nullif($6, ''), 1, now()) "
            "ON CONFLICT (provider, provider_event_id) DO NOTHING RETURNING id",
            stored.row_id, provider, event.id, event.type, event.payload.dump(), event.key);
        inserted = !r.empty();
        if (!inserted)
            existing = tx.exec_params1("SELECT id FROM webhook_events WHERE provider = $1 AND "
                                       "provider_event_id = $2",
                                       provider, event.id)[0]
                           .as<std::string>();
        tx.commit();
    } catch (...) {
        try {
            store::throw_from_pqxx("storing a webhook event");
        } catch (const Error& e) {
            metrics_.count_webhook(provider, "unavailable");
            spdlog::error("webhook {} event {} not stored: {}", provider, event.id, e.what());
            return json_error(503, "unavailable", "the event could not be stored; send it again");
        }
    }
    if (!inserted) {
        metrics_.count_webhook(provider, "duplicate");
        return json_response(200, {{"event", existing}, {"duplicate", true}});
    }
    metrics_.count_webhook(provider, "accepted");
    nlohmann::json result = {{"event", stored.row_id}, {"duplicate", false}};
    try {
        auto processed = process(pg, stored);
        result.update(processed);
    } catch (const std::exception& e) {
        // Stored: the sweeper finishes it. The provider need not deliver again.
        spdlog::error("webhook {} event {} stored, processing deferred: {}", provider, event.id,
                      e.what());
        result["deferred"] = true;
    }
    return json_response(200, result);
}

nlohmann::json WebhookReceiver::process(pqxx::connection& pg, const Stored& event) {
    // A Twilio message status callback first moves its message's row in sms_messages, so
    // the runs it starts see the new status. Applying it again (the sweeper finishing an
    // interrupted event) changes nothing: statuses never move backwards.
    std::optional<SmsStatusRecorder::Outcome> sms;
    if (event.provider == "twilio") {
        pqxx::work tx(pg);
        sms = SmsStatusRecorder::apply(tx, event.payload);
        tx.commit();
    }
    nlohmann::json runs = nlohmann::json::array();
    std::vector<std::string> errors;
    auto directory = workflows_();
    for (const auto& w : directory.workflows()) {
        bool matches = std::any_of(w.on.webhooks.begin(), w.on.webhooks.end(), [&](const auto& t) {
            return t.provider == event.provider &&
                   (t.events.empty() ||
                    std::find(t.events.begin(), t.events.end(), event.type) != t.events.end());
        });
        if (!matches) continue;
        runtime::StartRequest start;
        start.trigger_kind = "webhook";
        start.trigger_ref = event.provider + ":" + event.event_id;
        start.dedupe_key = "webhook:" + event.provider + ":" + event.event_id + ":" + w.name;
        if (w.find_input("webhook") != nullptr)
            start.inputs["webhook"] = {{"provider", event.provider}, {"id", event.event_id},
                                       {"type", event.type}, {"key", event.key},
                                       {"data", event.payload}};
        try {
            auto started = engine_.start(w, start);
            runs.push_back({{"workflow", w.name}, {"run", started.run_id},
                            {"existing", started.existing}});
        } catch (const InputError& e) {
            // The workflow refuses this event (e.g. its inputs): recorded, others still start.
            errors.push_back(w.name + ": " + e.what());
        }
    }
    int resumed = 0;
    if (!event.key.empty()) {
        nlohmann::json data = event.payload.is_object() ? event.payload : nlohmann::json::object();
        try {
            resumed = engine_.emit_event(event.type, event.key, data).resumed;
        } catch (const InputError& e) {
            errors.push_back(std::string("event: ") + e.what());
        }
    }
    std::string error;
    for (const auto& e : errors) error += (error.empty() ? "" : "; ") + e;
    pqxx::work tx(pg);
    tx.exec_params0("UPDATE webhook_events SET processed_at = now(), run_id = nullif($2, '')::uuid, "
                    "error = nullif($3, '') WHERE id = $1",
                    event.row_id,
                    runs.empty() ? std::string() : runs[0]["run"].get<std::string>(),
                    error);
    tx.commit();
    nlohmann::json out = {{"runs", runs}, {"resumed", resumed}};
    if (sms && *sms != SmsStatusRecorder::Outcome::kNotAStatus) out["sms"] = to_string(*sms);
    if (!errors.empty()) out["errors"] = errors;
    return out;
}

int WebhookReceiver::process_pending(pqxx::connection& pg, int limit) {
    std::vector<Stored> claimed;
    {
        pqxx::work tx(pg);
        auto rows = tx.exec_params(
            std::string("UPDATE webhook_events SET attempts = attempts + 1, claimed_at = now() "
                        "WHERE id IN (SELECT id FROM webhook_events WHERE processed_at IS NULL "
                        "AND (claimed_at IS NULL OR claimed_at < now() - interval '") +
                kReclaimAfter +
                "') ORDER BY received_at LIMIT $1 FOR UPDATE SKIP LOCKED) "
                "RETURNING id, provider, provider_event_id, type, coalesce(correlation_key, ''), "
                "payload::text, attempts",
            limit);
        for (const auto& r : rows) {
            Stored s{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                     r[3].as<std::string>(), r[4].as<std::string>(),
                     nlohmann::json::parse(r[5].as<std::string>())};
            if (r[6].as<int>() > kMaxAttempts) {
                tx.exec_params0("UPDATE webhook_events SET processed_at = now(), error = "
                                "'gave up after " + std::to_string(kMaxAttempts) +
                                " attempts' WHERE id = $1",
                                s.row_id);
                continue;
            }
            claimed.push_back(std::move(s));
        }
        tx.commit();
    }
    int done = 0;
    for (const auto& s : claimed) {
        try {
            process(pg, s);
            ++done;
        } catch (const std::exception& e) {
            spdlog::error("webhook {} event {}: processing failed again: {}", s.provider,
                          s.event_id, e.what());
        }
    }
    return done;
}

}  // namespace artistsaid::http
