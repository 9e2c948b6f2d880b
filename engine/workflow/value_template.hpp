// ValueTemplate: a JSON-shaped value (a `with:` block, an input default, a for_each list)
// whose strings may contain `${{ … }}` expressions.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/workflow/template.hpp"

namespace artistsaid::workflow {

/// A value as written in YAML, with every string that contains `${{` compiled to a Template.
///
/// render() copies the value and replaces each template string by its rendered Value (typed
/// for a lone `${{ }}`, text otherwise); the result remembers which parts are secret. All
/// templates of one render share a single evaluation-step budget.
///
/// Where a part was written is kept (JSON pointer → file position) when the workflow parser
/// built it, for validation messages.
///
/// Thread-safety: immutable once built; render() may run concurrently.
class ValueTemplate {
public:
    struct Slot {
        std::string pointer;  // RFC 6901 pointer of the string inside raw() ("" for the root)
        Template value;
    };
    struct Origin {
        SourceLocation value;               // where the value starts
        std::optional<SourceLocation> key;  // where its key is, for members of a mapping
    };

    ValueTemplate() = default;

    /// Compiles every string of `value` that contains "${{". Throws ExpressionError (offset
    /// into the offending string) for the first bad one.
    static ValueTemplate parse(nlohmann::json value, const ExpressionLimits& limits = {});

    /// Like parse(), but appends (pointer, issue) for each bad string and leaves it as
    /// literal text instead of throwing.
    static ValueTemplate parse(nlohmann::json value,
                               std::vector<std::pair<std::string, ExpressionIssue>>& issues,
                               const ExpressionLimits& limits = {});

    /// The value as written (template strings included).
    const nlohmann::json& raw() const noexcept { return raw_; }
    const std::vector<Slot>& slots() const noexcept { return slots_; }
    bool is_literal() const noexcept { return slots_.empty(); }
    /// The template if the whole value is one string with an expression in it, else nullptr.
    const Template* root_template() const noexcept;

    Value render(const EvalContext& context) const;

    /// Ids of the steps any expression reads, in order of first appearance.
    std::vector<std::string> referenced_steps() const;
    bool uses_item() const;

    void set_origin(std::string pointer, Origin origin);
    /// Where the part at `pointer` was written, if known.
    const Origin* origin(std::string_view pointer) const;

private:
    nlohmann::json raw_;
    std::vector<Slot> slots_;
    std::map<std::string, Origin, std::less<>> origins_;
};

/// `base` + "/" + the RFC 6901 escape of `token`.
std::string pointer_append(const std::string& base, std::string_view token);

}  // namespace artistsaid::workflow
