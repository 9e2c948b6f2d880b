// The REST API under /api/v1 (JSON in and out; errors {"error": {"code", "message"}} with a
// stable code). Every route names the least role that may call it:
//   readonly  GET workflows, workflows/{name}, runs, runs/{id}, queues
//   operator  POST workflows/{name}/runs, runs/{id}/cancel, runs/{id}/retry, events
//   admin     GET apikeys, POST apikeys, DELETE apikeys/{id}
// Authentication and rate limiting happen before (ServeApplication); mutations are
// written to audit_log with the key as actor.
// Thread-safety: handle() runs on many worker threads at once (each with its connections).
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "engine/http/api_key_store.hpp"
#include "engine/http/http_application.hpp"
#include "engine/http/webhook_receiver.hpp"
#include "engine/queue/redis_connection.hpp"
#include "engine/runtime/run_engine.hpp"

namespace artistsaid::http {

class RestApi {
public:
    RestApi(runtime::RunEngine& engine, WorkflowLoader workflows, std::string queue_prefix)
        : engine_(engine), workflows_(std::move(workflows)), queue_prefix_(std::move(queue_prefix)) {}

    /// `path` is what follows /api/v1/ (no query). Never throws for bad input: answers it.
    Response handle(const Request& request, const std::string& path, const ApiKey& key,
                    pqxx::connection& pg, queue::RedisConnection& redis);

private:
    runtime::RunEngine& engine_;
    WorkflowLoader workflows_;
    std::string queue_prefix_;
};

/// The status an engine error maps to (400, 404, 409, 503, 500).
unsigned status_for(const class Error& error) noexcept;

}  // namespace artistsaid::http
