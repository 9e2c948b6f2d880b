// `artistsaid events emit NAME --key K [--data JSON]`: hands an event to waiting runs
// (wait.event steps whose event and key match), as a webhook or another system would.
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands/registry.hpp"
#include "cli/runtime_access.hpp"
#include "engine/core/error.hpp"

namespace artistsaid::cli {
namespace {

int events_emit(Context& ctx) {
    const std::string name = ctx.args.at(0);
    if (!ctx.options.count("key"))
        throw InputError("events emit needs --key K", ErrorCode::kUsage);
    const std::string key = ctx.options["key"].as<std::string>();
    nlohmann::json data = nlohmann::json::object();
    if (ctx.options.count("data")) {
        try {
            data = nlohmann::json::parse(ctx.options["data"].as<std::string>());
        } catch (const nlohmann::json::exception&) {
            throw InputError("--data is not valid JSON");
        }
        if (!data.is_object()) throw InputError("--data must be a JSON object");
    }
    auto engine = make_run_engine(ctx.config);
    auto report = engine->emit_event(name, key, data);
    if (ctx.json)
        ctx.out << nlohmann::json{{"event", report.event_id}, {"resumed", report.resumed}}.dump()
                << '\n';
    else
        ctx.out << "event " << report.event_id << " (" << name << ", key " << key
                << "): resumed " << report.resumed << " waiting step(s)\n";
    return 0;
}

}  // namespace

Command events_commands() {
    Command group;
    group.name = "events";
    group.summary = "Emit events to runs that wait for them (wait.event).";
    Command emit;
    emit.name = "emit";
    emit.summary =
        "Record an event and resume every step waiting for this event name and key; a step "
        "that starts waiting later in a run created before the event still sees it.";
    emit.args_usage = "NAME";
    emit.min_args = emit.max_args = 1;
    emit.add_options = [](po::options_description& d) {
        d.add_options()("key", po::value<std::string>()->value_name("K"),
                        "correlation key the waiting steps named (required)")(
            "data", po::value<std::string>()->value_name("JSON"),
            "the event's payload, a JSON object (what the step gets as outputs.event)");
    };
    emit.run = events_emit;
    group.children = {emit};
    return group;
}

}  // namespace artistsaid::cli
