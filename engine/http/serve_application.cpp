#include "engine/http/serve_application.hpp"

#include <spdlog/spdlog.h>

#include "engine/core/error.hpp"
#include "engine/http/http_session.hpp"
#include "engine/http/twilio_webhook_verifier.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::http {
namespace bhttp = boost::beast::http;

namespace {

std::string path_of(const Request& request) {
    std::string_view target = request.target();
    return std::string(target.substr(0, target.find('?')));
}

// A fixed label per kind of route: metrics never carry paths (unbounded label values).
std::string route_label(const std::string& path) {
    if (path == "/healthz") return "healthz";
    if (path == "/readyz") return "readyz";
    if (path == "/metrics") return "metrics";
    if (path == "/ws") return "ws";
    if (path.rfind("/hooks/", 0) == 0) return "hooks";
    if (path.rfind("/api/v1/", 0) == 0) return "api";
    return "other";
}

Response json_ok(unsigned status, const nlohmann::json& body) {
    Response res{static_cast<bhttp::status>(status), 11};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = body.dump();
    return res;
}

}  // namespace

ServeApplication::ServeApplication(ServeSettings settings, WorkerConnections& connections,
                                   runtime::RunEngine& engine, WorkflowLoader workflows,
                                   const WebhookVerifiers& verifiers,
                                   std::function<int()> open_connections)
    : settings_(std::move(settings)),
      connections_(connections),
      webhooks_(verifiers, engine, workflows, metrics_),
      rest_(engine, workflows, settings_.queue_prefix),
      exporter_(metrics_, settings_.queue_prefix, std::move(open_connections)),
      limiter_(settings_.queue_prefix, settings_.rate_limit, settings_.rate_burst) {}

std::optional<Response> ServeApplication::handle_inline(const Request& request) {
    if (path_of(request) == "/healthz") {
        if (request.method() != bhttp::verb::get && request.method() != bhttp::verb::head)
            return json_error(405, "method_not_allowed", "use GET");
        return json_ok(200, {{"status", "ok"}});
    }
    return std::nullopt;
}

Response ServeApplication::handle(const Request& request, std::size_t worker) {
    const std::string path = path_of(request);
    try {
        if (path == "/readyz") return ready(worker);
        if (path == "/metrics") return metrics(worker);
        if (path.rfind("/hooks/", 0) == 0) {
            std::string base = settings_.public_url;
            if (base.empty()) base = "http://" + std::string(request[bhttp::field::host]);
            while (!base.empty() && base.back() == '/') base.pop_back();
            return webhooks_.receive(request, path.substr(7), base + std::string(request.target()),
                                     connections_.pg(worker));
        }
        if (path.rfind("/api/v1/", 0) == 0 || path == "/api/v1") {
            auto key = authenticate(request, worker);
            if (auto* refusal = std::get_if<Response>(&key)) return std::move(*refusal);
            return rest_.handle(request, path.size() > 8 ? path.substr(8) : std::string(),
                                std::get<ApiKey>(key), connections_.pg(worker),
                                connections_.redis(worker));
        }
        return json_error(404, "not_found", "no route " + path);
    } catch (const UnavailableError& e) {
        connections_.drop_pg(worker);
        return json_error(503, "unavailable", e.what());
    } catch (const pqxx::broken_connection&) {
        connections_.drop_pg(worker);
        return json_error(503, "unavailable", "PostgreSQL connection lost");
    } catch (const pqxx::failure&) {
        connections_.drop_pg(worker);
        try {
            store::throw_from_pqxx("answering " + path);
        } catch (const Error& e) {
            return json_error(status_for(e), std::string(to_string(e.code())), e.what());
        }
    } catch (const Error& e) {
        return json_error(status_for(e), std::string(to_string(e.code())), e.what());
    }
    return json_error(500, "internal", "internal error");
}

Response ServeApplication::ready(std::size_t worker) {
    nlohmann::json checks = nlohmann::json::object();
    bool ok = true;
    try {
        pqxx::read_transaction tx(connections_.pg(worker));
        tx.exec1("SELECT 1");
        checks["postgresql"] = "ok";
    } catch (const std::exception& e) {
        connections_.drop_pg(worker);
        checks["postgresql"] = "unavailable";
        ok = false;
        spdlog::warn("readyz: PostgreSQL: {}", e.what());
    }
    try {
        auto reply = connections_.redis(worker).command({"PING"});
        queue::check_reply(reply, "PING");
        checks["redis"] = "ok";
    } catch (const std::exception& e) {
        checks["redis"] = "unavailable";
        ok = false;
        spdlog::warn("readyz: Redis: {}", e.what());
    }
    checks["status"] = ok ? "ready" : "not ready";
    return json_ok(ok ? 200 : 503, checks);
}

Response ServeApplication::metrics(std::size_t worker) {
    pqxx::connection* pg = nullptr;
    queue::RedisConnection* redis = nullptr;
    try {
        pg = &connections_.pg(worker);
    } catch (const Error&) {
    }
    try {
        redis = &connections_.redis(worker);
    } catch (const Error&) {
    }
    Response res{bhttp::status::ok, 11};
    res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = exporter_.render(pg, redis);
    if (pg != nullptr && !pg->is_open()) connections_.drop_pg(worker);
    return res;
}

std::variant<ApiKey, Response> ServeApplication::authenticate(const Request& request,
                                                              std::size_t worker,
                                                              const std::string& offered) {
    auto header = request[bhttp::field::authorization];
    std::string_view h(header.data(), header.size());
    std::string secret;
    if (h.size() >= 7 && boost::beast::iequals(h.substr(0, 7), "Bearer "))
        secret = std::string(h.substr(7));
    else
        secret = offered;
    if (secret.empty()) {
        auto res = json_error(401, "unauthenticated",
                              "send an API key: Authorization: Bearer <key>");
        res.set(bhttp::field::www_authenticate, "Bearer");
        return res;
    }
    auto key = ApiKeyStore::authenticate(connections_.pg(worker), secret);
    if (!key) {
        auto res = json_error(401, "invalid_api_key", "the API key is unknown or revoked");
        res.set(bhttp::field::www_authenticate, "Bearer error=\"invalid_token\"");
        return res;
    }
    auto wait = limiter_.take(connections_.redis(worker), "apikey:" + std::to_string(key->id));
    if (wait) {
        auto seconds = std::max<long long>(1, (wait->count() + 999) / 1000);
        auto res = json_error(429, "rate_limited",
                              "too many requests for this API key; retry after " +
                                  std::to_string(seconds) + " s");
        res.set(bhttp::field::retry_after, std::to_string(seconds));
        return res;
    }
    return *key;
}

std::variant<LiveFilter, Response> ServeApplication::open_websocket(const Request& request,
                                                                    std::size_t worker) {
    try {
        // Browsers cannot set Authorization on a WebSocket: they may offer the key as the
        // subprotocol "artistsaid.bearer.<key>" instead, which is then echoed back.
        std::string offered, protocol;
        std::string_view protocols = request[bhttp::field::sec_websocket_protocol];
        while (!protocols.empty()) {
            auto comma = protocols.find(',');
            auto item = protocols.substr(0, comma);
            protocols = comma == std::string_view::npos ? std::string_view() : protocols.substr(comma + 1);
            while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
            while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
            constexpr std::string_view kPrefix = "artistsaid.bearer.";
            if (item.substr(0, kPrefix.size()) == kPrefix) {
                offered = std::string(item.substr(kPrefix.size()));
                protocol = std::string(item);
            }
        }
        auto key = authenticate(request, worker, offered);
        if (auto* refusal = std::get_if<Response>(&key)) return std::move(*refusal);
        LiveFilter filter;
        filter.protocol = protocol;
        std::string_view target = request.target();
        auto q = target.find('?');
        if (q != std::string_view::npos) {
            for (auto& [k, v] : parse_form(target.substr(q + 1))) {
                if (k == "run") filter.run = v;
                else if (k == "workflow") filter.workflow = v;
                else return json_error(400, "invalid_input", "unknown /ws parameter '" + k + "'");
            }
        }
        return filter;
    } catch (const InputError& e) {
        return json_error(400, "invalid_input", e.what());
    } catch (const std::exception&) {
        connections_.drop_pg(worker);
        return json_error(503, "unavailable", "cannot check the API key now");
    }
}

void ServeApplication::responded(const Request& request, unsigned status) {
    metrics_.count_response(route_label(path_of(request)), status);
}

void ServeApplication::refused(unsigned status) { metrics_.count_response("refused", status); }

void ServeApplication::sweep(std::size_t worker) {
    try {
        int n = webhooks_.process_pending(connections_.pg(worker));
        if (n > 0) spdlog::info("finished processing {} stored webhook event(s)", n);
    } catch (const std::exception& e) {
        connections_.drop_pg(worker);
        spdlog::warn("webhook sweep: {}", e.what());
    }
}

}  // namespace artistsaid::http
