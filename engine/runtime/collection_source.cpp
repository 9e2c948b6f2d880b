#include "engine/runtime/collection_source.hpp"

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"

namespace artistsaid::runtime {
namespace {

std::int64_t integer_member(const nlohmann::json& object, const char* name, std::int64_t fallback,
                            const char* handle) {
    auto it = object.find(name);
    if (it == object.end()) return fallback;
    if (!it->is_number_integer())
        throw InputError(std::string("for_each: '") + name + "' of " + handle +
                         " must be an integer");
    return it->get<std::int64_t>();
}

}  // namespace

bool is_collection_handle(const nlohmann::json& value) {
    if (!value.is_object() || value.size() != 1) return false;
    const std::string& key = value.begin().key();
    return key == "$range" || key == "$collection" || key == "$step_outputs";
}

CollectionSource CollectionSource::from_value(const nlohmann::json& value) {
    CollectionSource s;
    if (value.is_array()) {
        auto size = static_cast<std::int64_t>(value.size());
        if (size > kMaxInlineItems)
            throw InputError("for_each: an inline list of " + std::to_string(size) +
                             " items is over the limit of " + std::to_string(kMaxInlineItems) +
                             "; return a collection handle ($range, $collection) instead");
        s.kind_ = Kind::kInline;
        s.total_ = size;
        s.stored_ = {{"kind", "inline"}, {"items", value}};
        return s;
    }
    if (!is_collection_handle(value))
        throw InputError(
            "for_each must give a list or a collection handle ({\"$range\": …}, "
            "{\"$collection\": …}, {\"$step_outputs\": …}), not " +
            std::string(value.is_object() ? "an object" : value.type_name()));
    const std::string& key = value.begin().key();
    const nlohmann::json& body = value.begin().value();
    if (!body.is_object())
        throw InputError("for_each: the body of " + key + " must be an object");
    if (key == "$range") {
        std::int64_t start = integer_member(body, "start", 0, "$range");
        std::int64_t count = integer_member(body, "count", -1, "$range");
        std::int64_t step = integer_member(body, "step", 1, "$range");
        if (count < 0 || count > kMaxRangeItems)
            throw InputError("for_each: $range needs a count of 0.." +
                             std::to_string(kMaxRangeItems));
        if (step == 0) throw InputError("for_each: the step of $range cannot be 0");
        // The last item must fit an int64 (the claim statements compute start + i * step).
        std::int64_t span = 0, last = 0;
        if (__builtin_mul_overflow(count > 0 ? count - 1 : 0, step, &span) ||
            __builtin_add_overflow(start, span, &last))
            throw InputError("for_each: $range leaves the 64-bit integer range");
        s.kind_ = Kind::kRange;
        s.total_ = count;
        s.stored_ = {{"kind", "range"}, {"start", start}, {"step", step}};
        return s;
    }
    if (key == "$collection") {
        auto id = body.find("id");
        if (id == body.end() || !id->is_string() || !Uuid::parse(id->get<std::string>()))
            throw InputError("for_each: $collection needs an 'id' (a UUID)");
        s.kind_ = Kind::kCollection;
        s.reference_ = id->get<std::string>();
        s.stored_ = {{"kind", "collection"}, {"id", s.reference_}};
        return s;
    }
    auto step = body.find("step");
    if (step == body.end() || !step->is_string() || step->get<std::string>().empty())
        throw InputError("for_each: $step_outputs needs a 'step' (a step id)");
    s.kind_ = Kind::kStepOutputs;
    s.reference_ = step->get<std::string>();
    s.stored_ = {{"kind", "step_outputs"}, {"step", s.reference_}};
    return s;
}

CollectionSource CollectionSource::from_stored(const nlohmann::json& stored) {
    CollectionSource s;
    s.stored_ = stored;
    std::string kind = stored.value("kind", "");
    if (kind == "inline") {
        s.kind_ = Kind::kInline;
        s.total_ = static_cast<std::int64_t>(stored.at("items").size());
    } else if (kind == "range") {
        s.kind_ = Kind::kRange;
    } else if (kind == "collection") {
        s.kind_ = Kind::kCollection;
        s.reference_ = stored.value("id", "");
    } else if (kind == "step_outputs") {
        s.kind_ = Kind::kStepOutputs;
        s.reference_ = stored.value("step", "");
    } else {
        throw Error(ErrorCode::kInternal, "unknown stored collection kind '" + kind + "'");
    }
    return s;
}

}  // namespace artistsaid::runtime
