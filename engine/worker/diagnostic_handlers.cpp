#include "engine/worker/diagnostic_handlers.hpp"

#include <stdexcept>
#include <thread>

#include "engine/core/error.hpp"

namespace artistsaid::worker {

void register_diagnostic_handlers(HandlerRegistry& registry) {
    registry.add("diag.noop", [](const JobContext&) {});
    registry.add("diag.sleep", [](const JobContext& ctx) {
        const auto& ms = ctx.payload.is_object() ? ctx.payload.value("ms", nlohmann::json())
                                                 : nlohmann::json();
        if (!ms.is_number_integer() || ms.get<long long>() < 0 || ms.get<long long>() > 86'400'000)
            throw InputError("diag.sleep needs {\"ms\": 0..86400000}");
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms.get<long long>());
        while (std::chrono::steady_clock::now() < until && !ctx.should_stop)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
    registry.add("diag.fail", [](const JobContext& ctx) {
        std::string message = "diag.fail";
        if (ctx.payload.is_object() && ctx.payload.contains("message") &&
            ctx.payload["message"].is_string())
            message = ctx.payload["message"].get<std::string>();
        throw std::runtime_error(message);
    });
}

}  // namespace artistsaid::worker
