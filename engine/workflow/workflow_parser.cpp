#include "engine/workflow/workflow_parser.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

#include "engine/core/duration.hpp"
#include "engine/schedule/cron_schedule.hpp"
#include "engine/schedule/time_zone.hpp"
#include "engine/workflow/detail/names.hpp"
#include "engine/workflow/detail/source_text.hpp"
#include "engine/workflow/detail/suggest.hpp"
#include "engine/workflow/detail/template_locations.hpp"

namespace artistsaid::workflow {
namespace {

using Strings = std::vector<std::string>;

// YAML nesting deeper than this inside `with:` or a default is refused (it bounds the
// recursion that converts YAML to JSON).
constexpr int kMaxYamlDepth = 64;

const Strings kRootKeys = {"name",   "version",     "description", "on",
                           "inputs", "concurrency", "steps",       "on_failure"};
const Strings kTriggerKeys = {"schedule", "webhook", "event", "command"};
const Strings kScheduleKeys = {"cron", "timezone", "catch_up"};
const Strings kWebhookKeys = {"provider", "events"};
const Strings kInputKeys = {"type", "description", "required", "default"};
const Strings kConcurrencyKeys = {"key", "limit"};
const Strings kStepKeys = {"id",    "name",    "uses",     "with",
                           "needs", "if",      "for_each", "max_parallel",
                           "retry", "timeout", "on_error", "compensate"};
const Strings kRetryKeys = {"attempts", "backoff", "delay", "max_delay", "jitter"};
const Strings kCompensateKeys = {"uses", "with"};

std::string join(const Strings& names, const std::string& last = ", ") {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += (i + 1 == names.size() ? last : ", ");
        out += names[i];
    }
    return out;
}

enum class ScalarKind { kNull, kBool, kInt, kFloat, kString };

bool is_decimal_int(std::string_view s) {
    std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (i == s.size()) return false;
    for (; i < s.size(); ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

bool is_float_text(std::string_view s) {
    static const Strings special = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf", "+.INF",
                                    "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN",  ".NAN"};
    for (const auto& x : special)
        if (s == x) return true;
    std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    bool digits = false;
    bool dot = false;
    for (; i < s.size(); ++i) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            digits = true;
        } else if (c == '.' && !dot) {
            dot = true;
        } else if ((c == 'e' || c == 'E') && digits) {
            std::size_t j = i + 1;
            if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
            if (j == s.size()) return false;
            for (; j < s.size(); ++j)
                if (s[j] < '0' || s[j] > '9') return false;
            return true;
        } else {
            return false;
        }
    }
    return digits && dot;
}

// YAML 1.2 core schema resolution of a scalar (plain scalars only; quoted and block
// scalars, and an explicit !!str, are strings).
ScalarKind scalar_kind(const YAML::Node& n) {
    if (!n.IsDefined() || n.IsNull()) return ScalarKind::kNull;
    const std::string& tag = n.Tag();
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return ScalarKind::kString;
    const std::string& s = n.Scalar();
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL")
        return ScalarKind::kNull;
    if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
        return ScalarKind::kBool;
    if (is_decimal_int(s) || (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')))
        return ScalarKind::kInt;
    if (is_float_text(s)) return ScalarKind::kFloat;
    return ScalarKind::kString;
}

std::string describe(const YAML::Node& n) {
    if (!n.IsDefined() || n.IsNull()) return "nothing";
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    switch (scalar_kind(n)) {
        case ScalarKind::kNull:
            return "nothing";
        case ScalarKind::kBool:
            return "a boolean";
        case ScalarKind::kInt:
            return "an integer";
        case ScalarKind::kFloat:
            return "a decimal number";
        case ScalarKind::kString:
            return "a string";
    }
    return "a value";
}

std::optional<std::int64_t> parse_int(const std::string& s) {
    std::string_view text = s;
    bool negative = false;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'o')) {
        base = text[1] == 'x' ? 16 : 8;
        text.remove_prefix(2);
    }
    std::uint64_t magnitude = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (negative) {
        if (magnitude > kMax + 1) return std::nullopt;
        return magnitude == kMax + 1 ? std::numeric_limits<std::int64_t>::min()
                                     : -static_cast<std::int64_t>(magnitude);
    }
    if (magnitude > kMax) return std::nullopt;
    return static_cast<std::int64_t>(magnitude);
}

struct Entry {
    std::string key;
    YAML::Node value;
    SourceLocation key_loc;
    SourceLocation value_loc;  // the key's location when the value is empty
};

class Reader {
public:
    Reader(Diagnostics& diagnostics, const ExpressionLimits& limits)
        : d_(diagnostics), limits_(limits) {}

    std::optional<WorkflowDefinition> read() {
        std::vector<YAML::Node> documents;
        try {
            documents = YAML::LoadAll(d_.source());
        } catch (const YAML::Exception& e) {
            d_.error(d_.at(std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1),
                     "invalid YAML: " + e.msg);
            return std::nullopt;
        }
        if (documents.empty() || documents[0].IsNull()) {
            d_.error(d_.at(1, 1), "the file holds no workflow",
                     "a mapping with at least name and steps");
            return std::nullopt;
        }
        if (documents.size() > 1)
            d_.error(loc(documents[1]),
                     "a workflow file holds one YAML document; this one has " +
                         std::to_string(documents.size()),
                     "a single document (remove the '---' separator)");
        const YAML::Node& root = documents[0];
        if (!root.IsMap()) {
            d_.error(loc(root), "a workflow must be a mapping, not " + describe(root),
                     "keys such as name, on, inputs and steps");
            return std::nullopt;
        }
        WorkflowDefinition def;
        def.file = d_.file();
        def.source = d_.source();
        bool has_name = false;
        bool has_steps = false;
        for (const auto& e : entries(root, "the workflow", kRootKeys)) {
            if (e.key == "name") {
                has_name = true;
                def.name_where = e.value_loc;
                if (auto s = string_value(e)) {
                    if (detail::is_workflow_name(*s)) {
                        def.name = *s;
                    } else {
                        d_.error(e.value_loc, "invalid workflow name '" + *s + "'",
                                 "lower-case letters, digits, '-', '_' and '.', starting with a "
                                 "letter, e.g. client-onboarding");
                    }
                }
            } else if (e.key == "version") {
                if (auto v = int_value(e, 1, 1'000'000'000)) def.version = static_cast<int>(*v);
            } else if (e.key == "description") {
                if (auto s = string_value(e)) def.description = *s;
            } else if (e.key == "on") {
                read_triggers(e, def.on);
            } else if (e.key == "inputs") {
                read_inputs(e, def.inputs);
            } else if (e.key == "concurrency") {
                read_concurrency(e, def.concurrency);
            } else if (e.key == "steps") {
                has_steps = true;
                read_steps(e, def.steps, true);
            } else if (e.key == "on_failure") {
                read_steps(e, def.on_failure, false);
            }
        }
        if (!has_name) d_.error(loc(root), "the workflow has no name", "name: <workflow-name>");
        if (!has_steps) d_.error(loc(root), "the workflow has no steps", "steps: a list of steps");
        return def;
    }

private:
    // --- locations and generic readers --------------------------------------------------

    SourceLocation loc(const YAML::Node& n) const {
        const YAML::Mark m = n.Mark();
        if (m.line < 0 || m.column < 0) return d_.at(1, 1);
        return d_.at(m.line + 1, m.column + 1);
    }

    void error(const SourceLocation& where, std::string message, std::string expected = "",
               std::string hint = "") {
        d_.error(where, std::move(message), std::move(expected), std::move(hint));
    }

    // The members of a mapping, reporting non-scalar keys, duplicates and unknown keys
    // (which are left out of the result).
    std::vector<Entry> entries(const YAML::Node& map, const std::string& context,
                               const Strings& allowed) {
        std::vector<Entry> out;
        std::map<std::string, int> seen;
        for (auto it = map.begin(); it != map.end(); ++it) {
            const YAML::Node key = it->first;  // a copy: `it->` yields a temporary
            Entry e;
            e.key_loc = loc(key);
            e.value = it->second;
            e.value_loc = (e.value.IsDefined() && !e.value.IsNull()) ? loc(e.value) : e.key_loc;
            if (!key.IsScalar()) {
                error(e.key_loc,
                      "keys in " + context + " must be plain names, not " + describe(key));
                continue;
            }
            e.key = key.Scalar();
            auto [pos, inserted] = seen.emplace(e.key, e.key_loc.line);
            if (!inserted) {
                error(e.key_loc, "duplicate key '" + e.key + "' in " + context, "each key once",
                      "first written on line " + std::to_string(pos->second));
                continue;
            }
            if (std::find(allowed.begin(), allowed.end(), e.key) == allowed.end()) {
                error(e.key_loc, "unknown key '" + e.key + "' in " + context,
                      "one of " + join(allowed), detail::did_you_mean(e.key, allowed));
                continue;
            }
            out.push_back(std::move(e));
        }
        return out;
    }

    std::optional<std::string> string_value(const Entry& e) {
        ScalarKind kind = e.value.IsScalar() ? scalar_kind(e.value) : ScalarKind::kNull;
        if (e.value.IsScalar() && kind == ScalarKind::kString) return e.value.Scalar();
        std::string hint;
        if (e.value.IsScalar() && kind != ScalarKind::kNull)
            hint = "quote it to make it text: \"" + e.value.Scalar() + "\"";
        error(e.value_loc, "'" + e.key + "' must be a string, not " + describe(e.value), "a string",
              hint);
        return std::nullopt;
    }

    std::optional<std::int64_t> int_value(const Entry& e, std::int64_t min, std::int64_t max) {
        if (e.value.IsScalar() && scalar_kind(e.value) == ScalarKind::kInt) {
            auto v = parse_int(e.value.Scalar());
            if (v && *v >= min && *v <= max) return v;
            error(e.value_loc, "'" + e.key + "' is out of range: " + e.value.Scalar(),
                  "an integer from " + std::to_string(min) + " to " + std::to_string(max));
            return std::nullopt;
        }
        std::string hint;
        if (e.value.IsScalar() && scalar_kind(e.value) == ScalarKind::kString &&
            is_decimal_int(e.value.Scalar()))
            hint = "remove the quotes";
        error(e.value_loc, "'" + e.key + "' must be an integer, not " + describe(e.value),
              "an integer from " + std::to_string(min) + " to " + std::to_string(max), hint);
        return std::nullopt;
    }

    std::optional<bool> bool_value(const Entry& e) {
        if (e.value.IsScalar() && scalar_kind(e.value) == ScalarKind::kBool)
            return e.value.Scalar()[0] == 't' || e.value.Scalar()[0] == 'T';
        error(e.value_loc, "'" + e.key + "' must be true or false, not " + describe(e.value),
              "true or false",
              e.value.IsScalar() && (e.value.Scalar() == "yes" || e.value.Scalar() == "no" ||
                                     e.value.Scalar() == "on" || e.value.Scalar() == "off")
                  ? "YAML 1.2 reads only true and false as booleans"
                  : "");
        return std::nullopt;
    }

    std::optional<std::string> choice_value(const Entry& e, const Strings& choices) {
        auto s = string_value(e);
        if (!s) return std::nullopt;
        if (std::find(choices.begin(), choices.end(), *s) != choices.end()) return s;
        error(e.value_loc,
              "'" + e.key + "' must be " + join(choices, " or ") + ", not '" + *s + "'",
              join(choices, " or "), detail::did_you_mean(*s, choices));
        return std::nullopt;
    }

    std::optional<Milliseconds> duration_value(const Entry& e) {
        if (e.value.IsScalar() && scalar_kind(e.value) == ScalarKind::kInt) {
            error(e.value_loc, "'" + e.key + "' needs a unit: " + e.value.Scalar() + " of what?",
                  "a duration such as 30s, 10m, 2h or 1d",
                  "write " + e.value.Scalar() + "s for seconds");
            return std::nullopt;
        }
        auto s = string_value(e);
        if (!s) return std::nullopt;
        try {
            auto d = parse_duration(*s);
            if (d.count() <= 0) {
                error(e.value_loc, "'" + e.key + "' must be longer than 0", "a positive duration");
                return std::nullopt;
            }
            return d;
        } catch (const InputError& ex) {
            error(e.value_loc, ex.what());
            return std::nullopt;
        }
    }

    // A string or a list of strings, each with its location.
    std::vector<std::pair<std::string, SourceLocation>> string_list(const Entry& e) {
        std::vector<std::pair<std::string, SourceLocation>> out;
        if (e.value.IsScalar()) {
            if (auto s = string_value(e)) out.emplace_back(*s, e.value_loc);
            return out;
        }
        if (!e.value.IsSequence()) {
            error(e.value_loc, "'" + e.key + "' must be a string or a list of strings, not " +
                                   describe(e.value));
            return out;
        }
        for (const auto& item : e.value) {
            SourceLocation where = item.IsNull() ? e.value_loc : loc(item);
            Entry sub{e.key, item, where, where};
            if (auto s = string_value(sub)) out.emplace_back(*s, sub.value_loc);
        }
        return out;
    }

    // --- JSON values and templates -------------------------------------------------------

    nlohmann::json to_json(const YAML::Node& n, const std::string& pointer,
                           ValueTemplate::Origin origin,
                           std::map<std::string, ValueTemplate::Origin>& origins, int depth) {
        origins[pointer] = origin;
        if (depth > kMaxYamlDepth) {
            error(origin.value,
                  "values nest deeper than " + std::to_string(kMaxYamlDepth) + " levels",
                  "a flatter structure");
            return nullptr;
        }
        if (!n.IsDefined() || n.IsNull()) return nullptr;
        if (n.IsScalar()) {
            switch (scalar_kind(n)) {
                case ScalarKind::kNull:
                    return nullptr;
                case ScalarKind::kBool:
                    return n.Scalar()[0] == 't' || n.Scalar()[0] == 'T';
                case ScalarKind::kInt:
                    if (auto v = parse_int(n.Scalar())) return *v;
                    error(origin.value, "integer out of range: " + n.Scalar(),
                          "an integer from -2^63 to 2^63-1", "quote it if it is text");
                    return nullptr;
                case ScalarKind::kFloat: {
                    double v = std::strtod(n.Scalar().c_str(), nullptr);
                    if (!std::isfinite(v)) {
                        error(origin.value, "not a finite number: " + n.Scalar());
                        return nullptr;
                    }
                    return v;
                }
                case ScalarKind::kString:
                    return n.Scalar();
            }
        }
        if (n.IsSequence()) {
            nlohmann::json out = nlohmann::json::array();
            std::size_t i = 0;
            for (const auto& item : n) {
                ValueTemplate::Origin child{item.IsNull() ? origin.value : loc(item), std::nullopt};
                out.push_back(
                    to_json(item, pointer + "/" + std::to_string(i++), child, origins, depth + 1));
            }
            return out;
        }
        nlohmann::json out = nlohmann::json::object();
        std::map<std::string, int> seen;
        for (auto it = n.begin(); it != n.end(); ++it) {
            SourceLocation key_loc = loc(it->first);
            if (!it->first.IsScalar()) {
                error(key_loc, "mapping keys must be plain names, not " + describe(it->first));
                continue;
            }
            std::string key = it->first.Scalar();
            auto [pos, inserted] = seen.emplace(key, key_loc.line);
            if (!inserted) {
                error(key_loc, "duplicate key '" + key + "'", "each key once",
                      "first written on line " + std::to_string(pos->second));
                continue;
            }
            const YAML::Node value = it->second;  // a copy: `it->` yields a temporary
            ValueTemplate::Origin child{value.IsNull() ? key_loc : loc(value), key_loc};
            out[key] = to_json(value, pointer_append(pointer, key), child, origins, depth + 1);
        }
        return out;
    }

    ValueTemplate value_template(const YAML::Node& n, const SourceLocation& where,
                                 std::optional<SourceLocation> key) {
        std::map<std::string, ValueTemplate::Origin> origins;
        nlohmann::json json = to_json(n, "", {where, key}, origins, 0);
        std::vector<std::pair<std::string, ExpressionIssue>> issues;
        ValueTemplate out = ValueTemplate::parse(std::move(json), issues, limits_);
        for (auto& [pointer, origin] : origins) out.set_origin(pointer, origin);
        for (const auto& [pointer, issue] : issues)
            error(detail::locate(d_, out, pointer, issue.offset, where), issue.message,
                  issue.expected, issue.hint);
        return out;
    }

    // --- triggers -----------------------------------------------------------------------

    void read_triggers(const Entry& on, Triggers& out) {
        if (on.value.IsNull()) return;
        if (!on.value.IsMap()) {
            error(on.value_loc, "'on' must be a mapping of triggers, not " + describe(on.value),
                  "schedule, webhook, event and/or command");
            return;
        }
        for (const auto& e : entries(on.value, "'on'", kTriggerKeys)) {
            if (e.key == "schedule") {
                for_each_mapping(e, "schedule",
                                 [&](const YAML::Node& n) { read_schedule(n, out); });
            } else if (e.key == "webhook") {
                for_each_mapping(e, "webhook", [&](const YAML::Node& n) { read_webhook(n, out); });
            } else if (e.key == "event") {
                for (const auto& [name, where] : string_list(e)) {
                    if (detail::is_event_name(name)) {
                        out.events.push_back({name, where});
                    } else {
                        error(where, "invalid event name '" + name + "'",
                              "dot-separated lower-case words, e.g. subscription.created");
                    }
                }
            } else if (e.key == "command") {
                if (auto b = bool_value(e)) out.command = *b;
            }
        }
    }

    // A mapping, or a list of mappings: calls `read` for each.
    template <typename F>
    void for_each_mapping(const Entry& e, const std::string& what, F&& read) {
        if (e.value.IsMap()) {
            read(e.value);
            return;
        }
        if (e.value.IsSequence()) {
            for (const auto& item : e.value) {
                if (item.IsMap()) {
                    read(item);
                } else {
                    error(item.IsNull() ? e.value_loc : loc(item),
                          "each " + what + " must be a mapping, not " + describe(item));
                }
            }
            return;
        }
        error(e.value_loc,
              "'" + e.key + "' must be a mapping or a list of mappings, not " + describe(e.value));
    }

    void read_schedule(const YAML::Node& n, Triggers& out) {
        ScheduleTrigger s;
        s.where = loc(n);
        bool has_cron = false;
        for (const auto& e : entries(n, "a schedule", kScheduleKeys)) {
            if (e.key == "cron") {
                has_cron = true;
                auto cron = string_value(e);
                if (!cron) continue;
                s.cron = *cron;
                // The scheduler's own parser decides, so what validates is what fires.
                try {
                    if (!schedule::CronSchedule::parse(*cron).can_fire())
                        error(e.value_loc,
                              "cron expression '" + *cron + "' never fires: no date matches it",
                              "a day that exists in the chosen months (not 30 February or "
                              "31 April)");
                } catch (const schedule::CronSyntaxError& problem) {
                    error(d_.inside(e.value_loc, *cron,
                                    static_cast<std::size_t>(std::max(problem.column(), 1) - 1)),
                          "invalid cron expression: " + problem.reason(),
                          "\"minute hour day-of-month month day-of-week\", e.g. \"0 2 * * *\", "
                          "or @daily");
                }
            } else if (e.key == "timezone") {
                auto tz = string_value(e);
                if (!tz) continue;
                // Loaded from the system's tzdata, as the scheduler will (did-you-mean).
                try {
                    schedule::TimeZone::load(*tz);
                    s.timezone = *tz;
                } catch (const InputError& problem) {
                    error(e.value_loc, problem.what(),
                          "an IANA time zone name such as UTC or Europe/Berlin");
                }
            } else if (e.key == "catch_up") {
                if (auto c = choice_value(e, {"none", "latest", "all"}))
                    s.catch_up = *c == "none"     ? CatchUp::kNone
                                 : *c == "latest" ? CatchUp::kLatest
                                                  : CatchUp::kAll;
            }
        }
        if (!has_cron) error(s.where, "a schedule needs a cron expression", "cron: \"0 2 * * *\"");
        out.schedules.push_back(std::move(s));
    }

    void read_webhook(const YAML::Node& n, Triggers& out) {
        WebhookTrigger w;
        w.where = loc(n);
        bool has_provider = false;
        for (const auto& e : entries(n, "a webhook", kWebhookKeys)) {
            if (e.key == "provider") {
                has_provider = true;
                auto p = string_value(e);
                if (!p) continue;
                if (detail::is_identifier(*p) && (*p)[0] != '_') {
                    w.provider = *p;
                } else {
                    error(e.value_loc, "invalid provider name '" + *p + "'",
                          "a lower-case name such as stripe");
                }
            } else if (e.key == "events") {
                for (const auto& [name, where] : string_list(e)) {
                    if (detail::is_webhook_event(name)) {
                        w.events.push_back(name);
                    } else {
                        error(where, "invalid webhook event type '" + name + "'",
                              "the provider's event type, e.g. invoice.payment_failed");
                    }
                }
            }
        }
        if (!has_provider) error(w.where, "a webhook needs a provider", "provider: stripe");
        out.webhooks.push_back(std::move(w));
    }

    // --- inputs and concurrency ----------------------------------------------------------

    void read_inputs(const Entry& e, std::vector<InputDefinition>& out) {
        if (e.value.IsNull()) return;
        if (!e.value.IsMap()) {
            error(e.value_loc,
                  "'inputs' must be a mapping of input names, not " + describe(e.value),
                  "name: {type: string, required: true}");
            return;
        }
        for (const auto& input : entries(e.value, "'inputs'", collect_keys(e.value))) {
            InputDefinition def;
            def.name = input.key;
            def.where = input.key_loc;
            if (!detail::is_identifier(input.key))
                error(input.key_loc, "invalid input name '" + input.key + "'",
                      "lower-case letters, digits and '_', starting with a letter or '_'");
            if (input.value.IsScalar()) {  // shorthand: `as_of: date`
                if (auto t = type_value(input, input.key)) def.type = *t;
                out.push_back(std::move(def));
                continue;
            }
            if (!input.value.IsMap()) {
                error(input.value_loc,
                      "input '" + input.key + "' must be a mapping or a type name, not " +
                          describe(input.value),
                      "{type: string, required: true} or a type such as string");
                continue;
            }
            bool has_type = false;
            for (const auto& f : entries(input.value, "input '" + input.key + "'", kInputKeys)) {
                if (f.key == "type") {
                    has_type = true;
                    if (auto t = type_value(f, input.key)) def.type = *t;
                } else if (f.key == "description") {
                    if (auto s = string_value(f)) def.description = *s;
                } else if (f.key == "required") {
                    if (auto b = bool_value(f)) def.required = *b;
                } else if (f.key == "default") {
                    def.default_value = value_template(f.value, f.value_loc, f.key_loc);
                }
            }
            if (!has_type)
                error(input.key_loc, "input '" + input.key + "' has no type",
                      "type: one of " + join(input_type_names()));
            out.push_back(std::move(def));
        }
    }

    static Strings collect_keys(const YAML::Node& map) {
        Strings keys;
        for (auto it = map.begin(); it != map.end(); ++it)
            if (it->first.IsScalar()) keys.push_back(it->first.Scalar());
        return keys;
    }

    std::optional<ValueType> type_value(const Entry& e, const std::string& input) {
        auto s = string_value(e);
        if (!s) return std::nullopt;
        if (auto t = parse_value_type(*s)) return t;
        error(e.value_loc, "unknown type '" + *s + "' for input '" + input + "'",
              "one of " + join(input_type_names()), detail::did_you_mean(*s, input_type_names()));
        return std::nullopt;
    }

    void read_concurrency(const Entry& e, std::optional<ConcurrencyPolicy>& out) {
        ConcurrencyPolicy policy;
        policy.where = e.key_loc;
        auto read_key = [&](const Entry& k) {
            auto s = string_value(k);
            if (!s) return false;
            std::vector<ExpressionIssue> issues;
            auto parsed = Template::parse(*s, issues, limits_);
            for (const auto& issue : issues)
                error(d_.inside(k.value_loc, *s, issue.offset), issue.message, issue.expected,
                      issue.hint);
            if (!parsed) return false;
            if (s->empty()) {
                error(k.value_loc, "the concurrency key is empty", "a name, e.g. billing-cycle");
                return false;
            }
            policy.key = std::move(*parsed);
            policy.key_where = k.value_loc;
            return true;
        };
        if (e.value.IsScalar()) {  // shorthand: `concurrency: billing-cycle`
            if (read_key(e)) out = std::move(policy);
            return;
        }
        if (!e.value.IsMap()) {
            error(e.value_loc, "'concurrency' must be a mapping, not " + describe(e.value),
                  "{key: <name or expression>, limit: 1}");
            return;
        }
        bool has_key = false;
        bool key_ok = false;
        for (const auto& f : entries(e.value, "'concurrency'", kConcurrencyKeys)) {
            if (f.key == "key") {
                has_key = true;
                key_ok = read_key(f);
            } else if (f.key == "limit") {
                if (auto v = int_value(f, 1, 10'000)) policy.limit = static_cast<int>(*v);
            }
        }
        if (!has_key) error(e.key_loc, "'concurrency' needs a key", "key: <name or expression>");
        if (key_ok) out = std::move(policy);
    }

    // --- steps -------------------------------------------------------------------------

    void read_steps(const Entry& e, std::vector<StepDefinition>& out, bool main) {
        if (!e.value.IsSequence()) {
            error(e.value_loc, "'" + e.key + "' must be a list of steps, not " + describe(e.value),
                  "a list: - id: ...\n              uses: ...");
            return;
        }
        if (main && e.value.size() == 0)
            error(e.value_loc, "a workflow needs at least one step", "a list of steps");
        for (const auto& item : e.value) {
            if (!item.IsMap()) {
                error(item.IsNull() ? e.value_loc : loc(item),
                      "a step must be a mapping, not " + describe(item), "id: ... and uses: ...");
                continue;
            }
            out.push_back(read_step(item));
        }
    }

    StepDefinition read_step(const YAML::Node& n) {
        StepDefinition s;
        s.where.step = loc(n);
        s.with = ValueTemplate::parse(nlohmann::json::object());
        std::string id;
        for (auto it = n.begin(); it != n.end(); ++it)
            if (it->first.IsScalar() && it->first.Scalar() == "id" && it->second.IsScalar())
                id = it->second.Scalar();
        const std::string context = id.empty() ? "a step" : "step '" + id + "'";
        bool has_id = false;
        bool has_uses = false;
        std::optional<SourceLocation> max_parallel_at;
        for (const auto& e : entries(n, context, kStepKeys)) {
            if (e.key == "id") {
                has_id = true;
                s.where.id = e.value_loc;
                auto v = string_value(e);
                if (!v) continue;
                if (detail::is_identifier(*v)) {
                    s.id = *v;
                } else {
                    error(e.value_loc, "invalid step id '" + *v + "'",
                          "lower-case letters, digits and '_', starting with a letter or '_' "
                          "(it is read as steps." +
                              std::string("<id>") + ")");
                }
            } else if (e.key == "name") {
                if (auto v = string_value(e)) s.name = *v;
            } else if (e.key == "uses") {
                has_uses = true;
                s.where.uses = e.value_loc;
                if (auto v = string_value(e)) s.uses = *v;
            } else if (e.key == "with") {
                s.where.with = e.key_loc;
                s.with = with_value(e, context);
            } else if (e.key == "needs") {
                for (auto& [need, where] : string_list(e)) {
                    s.needs.push_back(std::move(need));
                    s.where.needs.push_back(where);
                }
            } else if (e.key == "if") {
                s.where.condition = e.value_loc;
                read_condition(e, s);
            } else if (e.key == "for_each") {
                s.where.for_each = e.value_loc;
                read_for_each(e, s);
            } else if (e.key == "max_parallel") {
                max_parallel_at = e.key_loc;
                s.where.max_parallel = e.key_loc;
                if (auto v = int_value(e, 1, 10'000)) s.max_parallel = static_cast<int>(*v);
            } else if (e.key == "retry") {
                read_retry(e, s);
            } else if (e.key == "timeout") {
                s.timeout = duration_value(e);
            } else if (e.key == "on_error") {
                if (auto c = choice_value(e, {"fail", "continue"}))
                    s.on_error = *c == "fail" ? OnError::kFail : OnError::kContinue;
            } else if (e.key == "compensate") {
                read_compensate(e, s, context);
            }
        }
        if (!has_id) error(s.where.step, "the step has no id", "id: <name>, e.g. id: send_invoice");
        if (!has_uses)
            error(s.where.step, context + " has no 'uses'", "uses: <step type>, e.g. uses: log");
        if (max_parallel_at && !s.where.for_each)
            error(*max_parallel_at, "'max_parallel' only applies to a step with for_each",
                  "for_each: <list or expression>, or remove max_parallel");
        return s;
    }

    ValueTemplate with_value(const Entry& e, const std::string& context) {
        if (e.value.IsNull()) return ValueTemplate::parse(nlohmann::json::object());
        if (!e.value.IsMap()) {
            error(e.value_loc,
                  "'with' of " + context + " must be a mapping, not " + describe(e.value),
                  "the step type's inputs as key: value pairs");
            return ValueTemplate::parse(nlohmann::json::object());
        }
        return value_template(e.value, e.value_loc, e.key_loc);
    }

    void read_condition(const Entry& e, StepDefinition& s) {
        if (e.value.IsScalar()) {
            ScalarKind kind = scalar_kind(e.value);
            if (kind == ScalarKind::kBool) {
                s.condition = value_template(e.value, e.value_loc, e.key_loc);
                return;
            }
            if (kind == ScalarKind::kString && Template::contains_expression(e.value.Scalar())) {
                s.condition = value_template(e.value, e.value_loc, e.key_loc);
                return;
            }
            if (kind == ScalarKind::kString) {
                error(e.value_loc, "'if' must be true, false or a ${{ }} expression",
                      "a boolean or ${{ <condition> }}",
                      "wrap the condition: \"${{ " + e.value.Scalar() + " }}\"");
                return;
            }
        }
        error(e.value_loc,
              "'if' must be true, false or a ${{ }} expression, not " + describe(e.value),
              "a boolean or ${{ <condition> }}");
    }

    void read_for_each(const Entry& e, StepDefinition& s) {
        if (e.value.IsSequence()) {
            s.for_each = value_template(e.value, e.value_loc, e.key_loc);
            return;
        }
        if (e.value.IsScalar() && scalar_kind(e.value) == ScalarKind::kString &&
            Template::contains_expression(e.value.Scalar())) {
            ValueTemplate t = value_template(e.value, e.value_loc, e.key_loc);
            if (t.root_template() != nullptr && !t.root_template()->is_single_expression()) {
                error(e.value_loc,
                      "'for_each' must be a single ${{ }} expression, without text "
                      "around it",
                      "a list, or ${{ <expression giving a list> }}");
                return;
            }
            if (t.root_template() != nullptr) s.for_each = std::move(t);
            return;
        }
        error(
            e.value_loc,
            "'for_each' must be a list or a ${{ }} expression giving one, not " + describe(e.value),
            "a list, or ${{ <expression giving a list> }}");
    }

    void read_retry(const Entry& e, StepDefinition& s) {
        RetryPolicy policy;
        if (e.value.IsScalar()) {  // shorthand: `retry: 3`
            if (auto v = int_value(e, 1, 100)) {
                policy.attempts = static_cast<int>(*v);
                s.retry = policy;
            }
            return;
        }
        if (!e.value.IsMap()) {
            error(e.value_loc,
                  "'retry' must be a mapping or a number of attempts, not " + describe(e.value),
                  "{attempts: 3, backoff: exponential, delay: 10s}");
            return;
        }
        bool has_attempts = false;
        std::optional<SourceLocation> max_delay_at;
        for (const auto& f : entries(e.value, "'retry'", kRetryKeys)) {
            if (f.key == "attempts") {
                has_attempts = true;
                if (auto v = int_value(f, 1, 100)) policy.attempts = static_cast<int>(*v);
            } else if (f.key == "backoff") {
                if (auto c = choice_value(f, {"constant", "exponential"}))
                    policy.backoff = *c == "constant" ? Backoff::kConstant : Backoff::kExponential;
            } else if (f.key == "delay") {
                if (auto d = duration_value(f)) policy.delay = *d;
            } else if (f.key == "max_delay") {
                max_delay_at = f.value_loc;
                policy.max_delay = duration_value(f);
            } else if (f.key == "jitter") {
                if (auto b = bool_value(f)) policy.jitter = *b;
            }
        }
        if (!has_attempts)
            error(e.key_loc, "'retry' needs attempts", "attempts: <total attempts, e.g. 3>");
        if (policy.max_delay && *policy.max_delay < policy.delay)
            error(*max_delay_at, "'max_delay' is shorter than 'delay'",
                  "max_delay of at least " + format_duration(policy.delay));
        s.retry = policy;
    }

    void read_compensate(const Entry& e, StepDefinition& s, const std::string& context) {
        if (!e.value.IsMap()) {
            error(e.value_loc, "'compensate' must be a mapping, not " + describe(e.value),
                  "{uses: <step type>, with: {...}}");
            return;
        }
        Compensation c;
        c.where = e.key_loc;
        bool has_uses = false;
        for (const auto& f : entries(e.value, "'compensate' of " + context, kCompensateKeys)) {
            if (f.key == "uses") {
                has_uses = true;
                c.uses_where = f.value_loc;
                if (auto v = string_value(f)) c.uses = *v;
            } else if (f.key == "with") {
                c.with = with_value(f, "the compensation of " + context);
            }
        }
        if (!has_uses) {
            error(e.key_loc, "'compensate' needs uses", "uses: <step type>");
            return;
        }
        if (c.with.raw().is_null()) c.with = ValueTemplate::parse(nlohmann::json::object());
        s.compensate = std::move(c);
    }

    Diagnostics& d_;
    const ExpressionLimits& limits_;
};

}  // namespace

ParseResult WorkflowParser::parse(std::string text, std::string file) const {
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
    ParseResult result{std::nullopt, Diagnostics(std::move(file), std::move(text))};
    result.definition = Reader(result.diagnostics, limits_).read();
    return result;
}

}  // namespace artistsaid::workflow
