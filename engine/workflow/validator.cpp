#include "engine/workflow/validator.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "engine/workflow/dag.hpp"
#include "engine/workflow/detail/suggest.hpp"
#include "engine/workflow/detail/template_locations.hpp"
#include "engine/workflow/workflow_parser.hpp"

namespace artistsaid::workflow {
namespace {

constexpr std::uintmax_t kMaxFileBytes = 1u << 20;

using Views = std::map<std::string, ExpressionScope::StepView>;
using Types = std::map<std::string, StaticType>;

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// The semantic checks of one definition.
class Checker {
public:
    Checker(const StepCatalog& catalog, const WorkflowDefinition& def, Diagnostics& d)
        : catalog_(catalog), def_(def), d_(d) {
        for (const auto& input : def.inputs) inputs_[input.name] = input.type;
    }

    void run() {
        check_inputs();
        check_concurrency();
        check_ids();
        auto main_needs = check_needs(def_.steps, def_.steps, "");
        auto failure_needs = check_needs(def_.on_failure, def_.on_failure, "on_failure");
        report_cycles(def_.steps, main_needs);
        report_cycles(def_.on_failure, failure_needs);

        // One map of views; each step's upstream is made visible while it is checked.
        Views main_views = views_of(def_.steps, {});
        check_steps(def_.steps, main_needs, main_views, false);
        // on_failure steps see every main step (null outputs if it did not run) and their
        // own upstream.
        Views failure_views = main_views;
        for (auto& [id, view] : failure_views) view.visible = true;
        failure_views = views_of(def_.on_failure, std::move(failure_views));
        check_steps(def_.on_failure, failure_needs, failure_views, true);
    }

private:
    void error(const SourceLocation& where, std::string message, std::string expected = "",
               std::string hint = "") {
        d_.error(where, std::move(message), std::move(expected), std::move(hint));
    }

    // --- inputs and concurrency -----------------------------------------------------------

    void check_inputs() {
        for (const auto& input : def_.inputs) {
            if (!input.default_value) continue;
            if (input.required)
                error(input.where,
                      "input '" + input.name +
                          "' is required and has a default, which would never be used",
                      "either required: true or a default, not both");
            ExpressionScope scope;
            scope.place = "the default of input '" + input.name + "'";
            scope.secrets = false;
            scope.run = false;
            Types types = check_slots(*input.default_value, scope, input.where);
            FieldDescriptor field{input.name, input.type, false, "", {}};
            check_value(*input.default_value, "", field, types,
                        "the default of input '" + input.name + "'");
        }
    }

    void check_concurrency() {
        if (!def_.concurrency) return;
        const auto& c = *def_.concurrency;
        ExpressionScope scope;
        scope.place = "the concurrency key";
        scope.inputs = &inputs_;
        scope.secrets = false;
        scope.run = false;
        for (const auto& part : c.key.parts()) {
            if (!part.expression) continue;
            std::vector<ExpressionIssue> issues;
            StaticType t = part.expression->check(scope, issues);
            for (const auto& issue : issues)
                error(d_.inside(c.key_where, c.key.text(), part.offset + issue.offset),
                      issue.message, issue.expected, issue.hint);
            if (issues.empty() && !may_coerce(t, ValueType::kString))
                error(d_.inside(c.key_where, c.key.text(), part.offset),
                      "the concurrency key must be text; this expression gives " +
                          std::string(describe(t)));
        }
    }

    // --- ids and needs --------------------------------------------------------------------

    void check_ids() {
        std::map<std::string, int> seen;
        for (const auto* list : {&def_.steps, &def_.on_failure})
            for (const auto& s : *list) {
                if (s.id.empty()) continue;
                auto [it, inserted] = seen.emplace(s.id, s.where.id.line);
                if (!inserted)
                    error(s.where.id, "duplicate step id '" + s.id + "'",
                          "a unique id for each step (on_failure steps included)",
                          "first used on line " + std::to_string(it->second));
            }
    }

    // Checks `needs` of `steps` against the ids of `pool`; returns, per step, the indices of
    // the needs that name a step of the pool.
    std::vector<std::vector<std::size_t>> check_needs(const std::vector<StepDefinition>& steps,
                                                      const std::vector<StepDefinition>& pool,
                                                      const std::string& list) {
        std::map<std::string, std::size_t> index;
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < pool.size(); ++i)
            if (!pool[i].id.empty() && index.emplace(pool[i].id, i).second)
                ids.push_back(pool[i].id);
        std::set<std::string> other;
        for (const auto* l : {&def_.steps, &def_.on_failure})
            if (l != &pool)
                for (const auto& s : *l) other.insert(s.id);

        std::vector<std::vector<std::size_t>> out(steps.size());
        for (std::size_t i = 0; i < steps.size(); ++i) {
            const auto& s = steps[i];
            std::set<std::string> listed;
            for (std::size_t j = 0; j < s.needs.size(); ++j) {
                const std::string& need = s.needs[j];
                const SourceLocation& where =
                    j < s.where.needs.size() ? s.where.needs[j] : s.where.step;
                if (!listed.insert(need).second) {
                    error(where, "'" + need + "' is listed twice in needs");
                    continue;
                }
                if (need == s.id) {
                    error(where, "step '" + s.id + "' needs itself", "the ids of other steps");
                    continue;
                }
                auto it = index.find(need);
                if (it != index.end()) {
                    out[i].push_back(it->second);
                    continue;
                }
                if (other.count(need) != 0) {
                    error(where,
                          list.empty() ? "a step cannot need the on_failure step '" + need + "'"
                                       : "an on_failure step cannot need the main step '" + need +
                                             "'; main steps have finished when it runs",
                          list.empty() ? "the id of a step in steps"
                                       : "the id of another on_failure step");
                    continue;
                }
                error(where, "unknown step '" + need + "' in needs",
                      ids.empty() ? "the id of a step" : "one of " + join(ids),
                      detail::did_you_mean(need, ids));
            }
        }
        return out;
    }

    void report_cycles(const std::vector<StepDefinition>& steps,
                       const std::vector<std::vector<std::size_t>>& needs) {
        Dag::NodeList nodes;
        for (std::size_t i = 0; i < steps.size(); ++i) {
            std::vector<std::string> ids;
            for (std::size_t n : needs[i]) ids.push_back(steps[n].id);
            nodes.emplace_back(steps[i].id.empty() ? "#" + std::to_string(i) : steps[i].id, ids);
        }
        for (const auto& cycle : Dag::find_cycles(nodes)) {
            // Point at the entry of `needs` in the cycle's first step that names the second.
            const StepDefinition* first = nullptr;
            for (const auto& s : steps)
                if (s.id == cycle[0]) first = &s;
            SourceLocation where = first != nullptr ? first->where.step : d_.at(1, 1);
            if (first != nullptr)
                for (std::size_t j = 0; j < first->needs.size() && j < first->where.needs.size();
                     ++j)
                    if (first->needs[j] == cycle[1]) where = first->where.needs[j];
            error(where, "needs form a cycle: " + Dag::describe_cycle(cycle),
                  "steps that do not depend on each other in a circle",
                  "remove one of these needs");
        }
    }

    // Transitive needs of steps[i] (works on cyclic input too).
    static std::vector<std::size_t> upstream(const std::vector<std::vector<std::size_t>>& needs,
                                             std::size_t i) {
        std::vector<bool> seen(needs.size(), false);
        std::vector<std::size_t> todo = needs[i];
        std::vector<std::size_t> out;
        while (!todo.empty()) {
            std::size_t n = todo.back();
            todo.pop_back();
            if (seen[n]) continue;
            seen[n] = true;
            out.push_back(n);
            todo.insert(todo.end(), needs[n].begin(), needs[n].end());
        }
        return out;
    }

    // Checks every step of `steps`, each with its upstream made visible in `views` for the
    // duration (one map, flags flipped: no copy per step).
    void check_steps(const std::vector<StepDefinition>& steps,
                     const std::vector<std::vector<std::size_t>>& needs, Views& views,
                     bool failure) {
        std::vector<ExpressionScope::StepView*> view_of(steps.size(), nullptr);
        for (std::size_t i = 0; i < steps.size(); ++i)
            if (auto it = views.find(steps[i].id); it != views.end()) view_of[i] = &it->second;
        std::vector<ExpressionScope::StepView*> shown;
        for (std::size_t i = 0; i < steps.size(); ++i) {
            shown.clear();
            for (std::size_t up : upstream(needs, i)) {
                if (view_of[up] != nullptr && !view_of[up]->visible) {
                    view_of[up]->visible = true;
                    shown.push_back(view_of[up]);
                }
            }
            check_step(steps[i], views, failure);
            for (auto* view : shown) view->visible = false;
        }
    }

    Views views_of(const std::vector<StepDefinition>& steps, Views base) const {
        for (const auto& s : steps) {
            if (s.id.empty()) continue;
            ExpressionScope::StepView view;
            view.uses = s.uses;
            if (s.for_each) {
                view.outputs = &for_each_outputs();
            } else if (const auto* type = catalog_.find(s.uses)) {
                view.outputs = &type->outputs;
            }
            base.emplace(s.id, view);
        }
        return base;
    }

    // --- steps ----------------------------------------------------------------------------

    const StepTypeDescriptor* step_type(const std::string& uses, const SourceLocation& where) {
        if (uses.empty()) return nullptr;
        if (const auto* type = catalog_.find(uses)) return type;
        auto names = catalog_.names();
        error(where, "unknown step type '" + uses + "'", "one of " + join(names),
              detail::did_you_mean(uses, names));
        return nullptr;
    }

    void check_step(const StepDefinition& s, const Views& views, bool failure) {
        const std::string name = s.id.empty() ? "the step" : "step '" + s.id + "'";
        const StepTypeDescriptor* type = step_type(s.uses, s.where.uses);

        ExpressionScope scope;
        scope.inputs = &inputs_;
        scope.steps = &views;
        scope.failure = failure;

        if (s.condition) {
            scope.place = "the 'if' of " + name;
            Types types = check_slots(*s.condition, scope, *s.where.condition);
            check_single(*s.condition, types, "'if'", StaticType::kBoolean, "a boolean",
                         *s.where.condition);
        }
        if (s.for_each) {
            scope.place = "the 'for_each' of " + name;
            Types types = check_slots(*s.for_each, scope, *s.where.for_each);
            check_single(*s.for_each, types, "'for_each'", StaticType::kArray, "a list",
                         *s.where.for_each);
        }
        scope.item = s.for_each.has_value();
        scope.place = "the 'with' of " + name;
        check_with(s.with, type, scope, s.where.with.value_or(s.where.uses), name);

        if (s.compensate) {
            const auto& c = *s.compensate;
            const StepTypeDescriptor* undo = step_type(c.uses, c.uses_where);
            // The compensation reads the step's own outputs (per item in a for_each).
            Views own = views;
            if (!s.id.empty()) {
                auto& view = own[s.id];
                view.uses = s.uses;
                view.visible = true;
                view.outputs = type != nullptr ? &type->outputs : nullptr;
            }
            ExpressionScope undo_scope = scope;
            undo_scope.steps = &own;
            undo_scope.place = "the compensation of " + name;
            check_with(c.with, undo, undo_scope, c.where, "the compensation of " + name);
        }
    }

    // An `if` or `for_each` that is an expression must be a lone `${{ }}` of `want` type.
    void check_single(const ValueTemplate& value, const Types& types, const std::string& key,
                      StaticType want, const std::string& want_text, const SourceLocation& where) {
        const Template* root = value.root_template();
        if (root == nullptr) return;
        if (!root->is_single_expression()) {
            error(where,
                  key + " must be a single ${{ }} expression; text around it makes it a string",
                  "${{ <expression> }} alone");
            return;
        }
        auto it = types.find("");
        if (it == types.end()) return;
        StaticType t = it->second;
        if (t != StaticType::kAny && t != want && t != StaticType::kNull)
            error(detail::locate(d_, value, "", 0, where),
                  key + " must give " + want_text + "; this expression gives " +
                      std::string(describe(t)),
                  want_text);
    }

    void check_with(const ValueTemplate& with, const StepTypeDescriptor* type,
                    const ExpressionScope& scope, const SourceLocation& where,
                    const std::string& owner) {
        Types types = check_slots(with, scope, where);
        if (type == nullptr || !with.raw().is_object()) return;
        std::vector<std::string> names;
        for (const auto& f : type->inputs) names.push_back(f.name);
        for (auto it = with.raw().begin(); it != with.raw().end(); ++it) {
            std::string pointer = pointer_append("", it.key());
            const FieldDescriptor* field = type->input(it.key());
            if (field == nullptr) {
                const auto* origin = with.origin(pointer);
                error(origin != nullptr && origin->key ? *origin->key : where,
                      "'" + it.key() + "' is not an input of " + type->name,
                      names.empty() ? "nothing: " + type->name + " takes no inputs"
                                    : "one of " + join(names),
                      detail::did_you_mean(it.key(), names));
                continue;
            }
            check_value(with, pointer, *field, types, "'" + field->name + "'");
        }
        for (const auto& f : type->inputs)
            if (f.required && !with.raw().contains(f.name))
                error(where, owner + " (" + type->name + ") needs '" + f.name + "' in with",
                      f.name + ": " + expected_form(f.type) +
                          (f.description.empty() ? "" : " — " + f.description));
    }

    // Checks the value at `pointer` against a declared field.
    void check_value(const ValueTemplate& value, const std::string& pointer,
                     const FieldDescriptor& field, const Types& types, const std::string& what) {
        const nlohmann::json& v = value.raw()[nlohmann::json::json_pointer(pointer)];
        const auto* origin = value.origin(pointer);
        SourceLocation where = origin != nullptr ? origin->value : d_.at(1, 1);
        if (v.is_string() && Template::contains_expression(v.get<std::string>())) {
            auto it = types.find(pointer);
            if (it != types.end() && !may_coerce(it->second, field.type))
                error(where,
                      what + " expects " + expected_form(field.type) + ", but this gives " +
                          std::string(describe(it->second)),
                      expected_form(field.type));
            return;
        }
        if (field.type == ValueType::kAny) return;
        try {
            coerce_value(field.type, v);
        } catch (const InputError& e) {
            error(where, what + ": " + e.what(), expected_form(field.type));
            return;
        }
        if (!field.choices.empty() && v.is_string() &&
            std::find(field.choices.begin(), field.choices.end(), v.get<std::string>()) ==
                field.choices.end())
            error(where,
                  what + " must be one of " + join(field.choices) + ", not '" +
                      v.get<std::string>() + "'",
                  "one of " + join(field.choices),
                  detail::did_you_mean(v.get<std::string>(), field.choices));
    }

    // Type-checks every expression of `value`; returns the static type of each template
    // string by pointer (a string for interpolation, any after an error).
    Types check_slots(const ValueTemplate& value, const ExpressionScope& scope,
                      const SourceLocation& fallback) {
        Types types;
        for (const auto& slot : value.slots()) {
            StaticType result = StaticType::kString;
            bool single = slot.value.is_single_expression();
            for (const auto& part : slot.value.parts()) {
                if (!part.expression) continue;
                std::vector<ExpressionIssue> issues;
                StaticType t = part.expression->check(scope, issues);
                for (const auto& issue : issues)
                    error(detail::locate(d_, value, slot.pointer, part.offset + issue.offset,
                                         fallback),
                          issue.message, issue.expected, issue.hint);
                if (single) result = issues.empty() ? t : StaticType::kAny;
            }
            types[slot.pointer] = result;
        }
        return types;
    }

    const StepCatalog& catalog_;
    const WorkflowDefinition& def_;
    Diagnostics& d_;
    std::map<std::string, ValueType> inputs_;
};

}  // namespace

ValidationResult Validator::validate(std::string text, std::string file) const {
    ParseResult parsed = WorkflowParser(limits_).parse(std::move(text), std::move(file));
    if (parsed.definition) check(*parsed.definition, parsed.diagnostics);
    return {std::move(parsed.definition), std::move(parsed.diagnostics)};
}

ValidationResult Validator::validate_file(const std::filesystem::path& path) const {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw InputError("workflow file '" + path.string() + "' does not exist or is not a file");
    if (std::filesystem::file_size(path, ec) > kMaxFileBytes)
        throw InputError("workflow file '" + path.string() + "' is larger than 1 MiB");
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof())
        throw InputError("cannot read workflow file '" + path.string() +
                         "': " + std::strerror(errno));
    return validate(text.str(), path.string());
}

WorkflowDefinition Validator::load_file(const std::filesystem::path& path) const {
    ValidationResult result = validate_file(path);
    if (!result.ok()) throw InvalidWorkflowError(std::move(result.diagnostics));
    return std::move(*result.definition);
}

void Validator::check(const WorkflowDefinition& definition, Diagnostics& diagnostics) const {
    Checker(catalog_, definition, diagnostics).run();
}

}  // namespace artistsaid::workflow
