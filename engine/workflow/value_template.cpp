#include "engine/workflow/value_template.hpp"

#include <algorithm>

#include "engine/workflow/detail/expression_evaluator.hpp"

namespace artistsaid::workflow {
namespace {

using Issues = std::vector<std::pair<std::string, ExpressionIssue>>;

void collect(const nlohmann::json& node, const std::string& pointer, Issues& issues,
             const ExpressionLimits& limits, std::vector<ValueTemplate::Slot>& slots) {
    if (node.is_string()) {
        const auto& text = node.get_ref<const std::string&>();
        if (!Template::contains_expression(text)) return;
        std::vector<ExpressionIssue> found;
        auto parsed = Template::parse(text, found, limits);
        if (parsed) {
            slots.push_back({pointer, std::move(*parsed)});
        } else {
            for (auto& issue : found) issues.emplace_back(pointer, std::move(issue));
        }
    } else if (node.is_object()) {
        for (auto it = node.begin(); it != node.end(); ++it)
            collect(it.value(), pointer_append(pointer, it.key()), issues, limits, slots);
    } else if (node.is_array()) {
        for (std::size_t i = 0; i < node.size(); ++i)
            collect(node[i], pointer + "/" + std::to_string(i), issues, limits, slots);
    }
}

}  // namespace

std::string pointer_append(const std::string& base, std::string_view token) {
    std::string out = base + "/";
    for (char c : token) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out += c;
        }
    }
    return out;
}

ValueTemplate ValueTemplate::parse(nlohmann::json value, const ExpressionLimits& limits) {
    Issues issues;
    ValueTemplate out = parse(std::move(value), issues, limits);
    if (!issues.empty()) throw ExpressionError(issues.front().second);
    return out;
}

ValueTemplate ValueTemplate::parse(nlohmann::json value, Issues& issues,
                                   const ExpressionLimits& limits) {
    ValueTemplate out;
    out.raw_ = std::move(value);
    collect(out.raw_, "", issues, limits, out.slots_);
    return out;
}

const Template* ValueTemplate::root_template() const noexcept {
    if (slots_.size() == 1 && slots_[0].pointer.empty()) return &slots_[0].value;
    return nullptr;
}

Value ValueTemplate::render(const EvalContext& context) const {
    detail::EvalState state;
    if (const Template* root = root_template()) return root->render(context, state);
    Value out(raw_);
    for (const auto& slot : slots_) {
        Value part = slot.value.render(context, state);
        for (const auto& path : part.secret_paths()) out.mark_secret(slot.pointer + path);
        out.data()[nlohmann::json::json_pointer(slot.pointer)] = std::move(part).release();
    }
    return out;
}

std::vector<std::string> ValueTemplate::referenced_steps() const {
    std::vector<std::string> ids;
    for (const auto& slot : slots_)
        for (const auto& part : slot.value.parts())
            if (part.expression)
                for (auto& id : part.expression->referenced_steps())
                    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    return ids;
}

bool ValueTemplate::uses_item() const {
    for (const auto& slot : slots_)
        for (const auto& part : slot.value.parts())
            if (part.expression && part.expression->uses_item()) return true;
    return false;
}

void ValueTemplate::set_origin(std::string pointer, Origin origin) {
    origins_[std::move(pointer)] = std::move(origin);
}

const ValueTemplate::Origin* ValueTemplate::origin(std::string_view pointer) const {
    auto it = origins_.find(pointer);
    return it == origins_.end() ? nullptr : &it->second;
}

}  // namespace artistsaid::workflow
