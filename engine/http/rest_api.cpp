#include "engine/http/rest_api.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <map>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/core/logging.hpp"
#include "engine/core/suggest.hpp"
#include "engine/http/http_session.hpp"
#include "engine/http/json_nesting.hpp"
#include "engine/http/twilio_webhook_verifier.hpp"
#include "engine/queue/redis_queue.hpp"
#include "engine/store/database.hpp"
#include "engine/store/run_store.hpp"

namespace artistsaid::http {
namespace bhttp = boost::beast::http;
using nlohmann::json;

unsigned status_for(const Error& error) noexcept {
    switch (error.code()) {
        case ErrorCode::kUsage:
        case ErrorCode::kInvalidInput:
        case ErrorCode::kCurrencyMismatch:
        case ErrorCode::kOverflow: return 400;
        case ErrorCode::kNotFound: return 404;
        case ErrorCode::kConflict:
        case ErrorCode::kWorkFailed: return 409;
        case ErrorCode::kUnavailable: return 503;
        case ErrorCode::kTimeout: return 504;
        default: return 500;
    }
}

namespace {

Response json_response(unsigned status, const json& body) {
    Response res{static_cast<bhttp::status>(status), 11};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = logging::redact(body.dump());
    return res;
}

std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto slash = path.find('/', start);
        auto part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (!part.empty()) out.push_back(part);
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return out;
}

std::map<std::string, std::string> query_of(const Request& request) {
    std::string_view target = request.target();
    auto q = target.find('?');
    std::map<std::string, std::string> out;
    if (q == std::string_view::npos) return out;
    try {
        for (auto& [k, v] : parse_form(target.substr(q + 1))) out[k] = v;
    } catch (const InputError&) {
        throw InputError("the query string is malformed");
    }
    return out;
}

json body_of(const Request& request) {
    if (request.body().empty()) return json::object();
    if (json_nesting_exceeds(request.body()))
        throw InputError("the request body nests deeper than " + std::to_string(kMaxJsonDepth) +
                         " levels");
    auto body = json::parse(request.body(), nullptr, false);
    if (body.is_discarded()) throw InputError("the request body is not valid JSON");
    if (!body.is_object()) throw InputError("the request body must be a JSON object");
    return body;
}

json run_json(const store::RunRow& r) {
    return {{"id", r.id}, {"workflow", r.workflow_name}, {"version", r.workflow_version},
            {"status", r.status}, {"trigger", r.trigger_kind}, {"created_at", r.created_at},
            {"started_at", r.started_at}, {"finished_at", r.finished_at}, {"error", r.error}};
}

json step_json(const store::StepRow& s) {
    return {{"step", s.step_id}, {"item", s.item_index}, {"status", s.status},
            {"attempt", s.attempt}, {"inputs", s.inputs}, {"outputs", s.outputs},
            {"error", s.error}, {"started_at", s.started_at}, {"finished_at", s.finished_at}};
}

json key_json(const ApiKey& k) {
    return {{"id", k.id}, {"name", k.name}, {"prefix", k.prefix}, {"role", to_string(k.role)},
            {"created_at", k.created_at}, {"last_used_at", k.last_used_at},
            {"revoked_at", k.revoked_at}};
}

void audit(pqxx::connection& pg, const ApiKey& key, const std::string& action,
           const std::string& subject, const json& details) {
    pqxx::work tx(pg);
    tx.exec_params0("INSERT INTO audit_log (actor, action, subject, details) "
                    "VALUES ($1, $2, $3, $4::jsonb)",
                    "api_key:" + std::to_string(key.id), action, subject, details.dump());
    tx.commit();
}

void check_run_id(const std::string& id) {
    if (!Uuid::parse(id)) throw InputError("'" + id + "' is not a run id (a UUID)");
}

struct Route {
    bhttp::verb method;
    std::vector<std::string> pattern;  // "*" matches one segment
    Role role;
    std::function<Response(const std::vector<std::string>& args)> run;
};

}  // namespace

Response RestApi::handle(const Request& request, const std::string& path, const ApiKey& key,
                         pqxx::connection& pg, queue::RedisConnection& redis) {
    const auto segments = split(path);
    auto find_workflow = [&](const std::string& name) {
        auto dir = workflows_();
        if (const auto* w = dir.find(name)) return *w;
        std::string message = "no valid workflow named '" + name + "'";
        if (auto hint = closest_match(name, dir.names())) message += " (did you mean '" + *hint + "'?)";
        throw InputError(message, ErrorCode::kNotFound);
    };

    const std::vector<Route> routes = {
        {bhttp::verb::get, {"workflows"}, Role::kReadonly,
         [&](const auto&) {
             auto dir = workflows_();
             json list = json::array();
             for (const auto& w : dir.workflows()) {
                 json triggers = json::array();
                 if (!w.on.schedules.empty()) triggers.push_back("schedule");
                 if (!w.on.webhooks.empty()) triggers.push_back("webhook");
                 if (!w.on.events.empty()) triggers.push_back("event");
                 list.push_back({{"name", w.name}, {"version", w.version},
                                 {"description", w.description}, {"triggers", triggers},
                                 {"steps", w.steps.size()}});
             }
             return json_response(200, {{"workflows", list},
                                        {"invalid_files", dir.invalid().size()}});
         }},
        {bhttp::verb::get, {"workflows", "*"}, Role::kReadonly,
         [&](const auto& a) { return json_response(200, find_workflow(a[0]).to_json()); }},
        {bhttp::verb::post, {"workflows", "*", "runs"}, Role::kOperator,
         [&](const auto& a) {
             auto body = body_of(request);
             auto w = find_workflow(a[0]);
             if (!w.on.command)
                 return json_error(403, "not_startable",
                                   "workflow '" + w.name + "' says on: {command: false}");
             runtime::StartRequest start;
             start.trigger_kind = "api";
             start.trigger_ref = "api_key:" + std::to_string(key.id);
             if (body.contains("inputs")) {
                 if (!body["inputs"].is_object()) throw InputError("'inputs' must be an object");
                 start.inputs = body["inputs"];
             }
             if (body.contains("dedupe_key")) {
                 if (!body["dedupe_key"].is_string() || body["dedupe_key"].get<std::string>().empty())
                     throw InputError("'dedupe_key' must be a non-empty string");
                 start.dedupe_key = "api:" + body["dedupe_key"].get<std::string>();
             }
             auto started = engine_.start(w, start);
             audit(pg, key, "run.start", "run:" + started.run_id, {{"workflow", w.name}});
             return json_response(started.existing ? 200 : 201,
                                  {{"run", started.run_id}, {"workflow", w.name},
                                   {"existing", started.existing}, {"pending", started.pending}});
         }},
        {bhttp::verb::get, {"runs"}, Role::kReadonly,
         [&](const auto&) {
             auto q = query_of(request);
             store::RunFilter filter;
             if (q.count("status")) filter.status = q["status"];
             if (q.count("workflow")) filter.workflow = q["workflow"];
             if (q.count("limit")) {
                 const auto& l = q["limit"];
                 if (l.empty() || l.size() > 4 ||
                     !std::all_of(l.begin(), l.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
                     std::stoi(l) < 1 || std::stoi(l) > 1000)
                     throw InputError("'limit' must be 1-1000");
                 filter.limit = std::stoi(l);
             }
             pqxx::read_transaction tx(pg);
             json list = json::array();
             for (const auto& r : store::RunStore::list_runs(tx, filter)) list.push_back(run_json(r));
             return json_response(200, {{"runs", list}});
         }},
        {bhttp::verb::get, {"runs", "*"}, Role::kReadonly,
         [&](const auto& a) {
             check_run_id(a[0]);
             pqxx::read_transaction tx(pg);
             auto run = store::RunStore::find_run(tx, a[0]);
             if (!run) throw InputError("no run " + a[0], ErrorCode::kNotFound);
             json out = run_json(*run);
             out["inputs"] = run->inputs;
             out["outputs"] = run->outputs;
             out["failed_step"] = run->failed_step;
             out["parent_run"] = run->parent_run_id;
             json steps = json::array();
             for (const auto& s : store::RunStore::parents_of(tx, run->id)) steps.push_back(step_json(s));
             out["steps"] = steps;
             out["item_counts"] = store::RunStore::item_summary(tx, run->id);
             return json_response(200, out);
         }},
        {bhttp::verb::post, {"runs", "*", "cancel"}, Role::kOperator,
         [&](const auto& a) {
             check_run_id(a[0]);
             if (!engine_.cancel(a[0])) {
                 pqxx::read_transaction tx(pg);
                 if (!store::RunStore::find_run(tx, a[0]))
                     throw InputError("no run " + a[0], ErrorCode::kNotFound);
                 return json_error(409, "already_finished",
                                   "run " + a[0] + " has already finished or is stopping");
             }
             audit(pg, key, "run.cancel", "run:" + a[0], json::object());
             return json_response(202, {{"run", a[0]}, {"status", "cancelling"}});
         }},
        {bhttp::verb::post, {"runs", "*", "retry"}, Role::kOperator,
         [&](const auto& a) {
             check_run_id(a[0]);
             engine_.retry(a[0]);
             audit(pg, key, "run.retry", "run:" + a[0], json::object());
             return json_response(202, {{"run", a[0]}, {"status", "running"}});
         }},
        {bhttp::verb::post, {"events"}, Role::kOperator,
         [&](const auto&) {
             auto body = body_of(request);
             if (!body.contains("name") || !body["name"].is_string() || !body.contains("key") ||
                 !body["key"].is_string())
                 throw InputError("an event needs a string 'name' and 'key'");
             json data = body.value("data", json::object());
             if (!data.is_object()) throw InputError("'data' must be a JSON object");
             auto report = engine_.emit_event(body["name"], body["key"], data);
             audit(pg, key, "event.emit", "event:" + report.event_id,
                   {{"name", body["name"]}, {"key", body["key"]}});
             return json_response(201, {{"event", report.event_id}, {"resumed", report.resumed}});
         }},
        {bhttp::verb::get, {"queues"}, Role::kReadonly,
         [&](const auto&) {
             queue::RedisQueue q(redis, queue_prefix_);
             json list = json::array();
             for (const auto& name : q.queues()) {
                 auto s = q.stats(name);
                 list.push_back({{"queue", name}, {"ready", s.ready}, {"delayed", s.delayed},
                                 {"running", s.running}, {"dead", s.dead}, {"parked", s.parked},
                                 {"enqueued", s.enqueued}, {"processed", s.processed},
                                 {"failed", s.failed}, {"retried", s.retried},
                                 {"cancelled", s.cancelled}, {"paused", s.paused}});
             }
             return json_response(200, {{"queues", list}});
         }},
        {bhttp::verb::get, {"apikeys"}, Role::kAdmin,
         [&](const auto&) {
             json list = json::array();
             for (const auto& k : ApiKeyStore::list(pg)) list.push_back(key_json(k));
             return json_response(200, {{"apikeys", list}});
         }},
        {bhttp::verb::post, {"apikeys"}, Role::kAdmin,
         [&](const auto&) {
             auto body = body_of(request);
             if (!body.contains("role") || !body["role"].is_string())
                 throw InputError("a key needs a 'role': admin, operator or readonly");
             std::string name = body.value("name", std::string());
             auto created = ApiKeyStore::create(pg, parse_role(body["role"]), name,
                                                "api_key:" + std::to_string(key.id));
             auto out = key_json(created.key);
             out["key"] = created.secret;  // shown once
             Response res{bhttp::status::created, 11};
             res.set(bhttp::field::content_type, "application/json");
             res.body() = out.dump();  // not redacted: the caller asked for this key
             return res;
         }},
        {bhttp::verb::delete_, {"apikeys", "*"}, Role::kAdmin,
         [&](const auto& a) {
             const auto& id = a[0];
             if (id.empty() || id.size() > 18 ||
                 !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; }))
                 throw InputError("'" + id + "' is not an API key id");
             if (!ApiKeyStore::revoke(pg, std::stoll(id), "api_key:" + std::to_string(key.id)))
                 throw InputError("no live API key " + id, ErrorCode::kNotFound);
             return json_response(200, {{"id", std::stoll(id)}, {"revoked", true}});
         }},
    };

    bool path_known = false;
    for (const auto& route : routes) {
        if (route.pattern.size() != segments.size()) continue;
        std::vector<std::string> args;
        bool match = true;
        for (std::size_t i = 0; i < segments.size() && match; ++i) {
            if (route.pattern[i] == "*")
                args.push_back(segments[i]);
            else
                match = route.pattern[i] == segments[i];
        }
        if (!match) continue;
        path_known = true;
        if (route.method != request.method()) continue;
        if (static_cast<int>(key.role) < static_cast<int>(route.role))
            return json_error(403, "forbidden",
                              "this route needs the " + std::string(to_string(route.role)) +
                                  " role; the key has " + std::string(to_string(key.role)));
        try {
            return route.run(args);
        } catch (const Error& e) {
            return json_error(status_for(e), std::string(to_string(e.code())),
                              logging::redact(e.what()));
        } catch (const pqxx::failure&) {
            try {
                store::throw_from_pqxx("answering " + std::string(request.method_string()) +
                                       " /api/v1/" + path);
            } catch (const Error& e) {
                return json_error(status_for(e), std::string(to_string(e.code())),
                                  logging::redact(e.what()));
            }
        }
    }
    if (path_known)
        return json_error(405, "method_not_allowed",
                          std::string(request.method_string()) + " is not allowed here");
    return json_error(404, "not_found", "no API route /api/v1/" + path);
}

}  // namespace artistsaid::http
