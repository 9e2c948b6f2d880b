#include "engine/workflow/detail/expression_checker.hpp"

#include <algorithm>
#include <initializer_list>

#include "engine/workflow/detail/expression_functions.hpp"
#include "engine/workflow/detail/suggest.hpp"

namespace artistsaid::workflow::detail {
namespace {

using T = StaticType;

std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// One step of a member/index chain below its base.
struct Segment {
    const Node* node = nullptr;
    bool named = false;  // .name or ['name']
    std::string name;
};

class Checker {
public:
    Checker(const ExpressionScope& scope, std::vector<ExpressionIssue>& issues)
        : scope_(scope), issues_(issues) {}

    T check(const Node& n) {
        switch (n.kind) {
            case NodeKind::kLiteral:
                if (n.literal.is_null()) return T::kNull;
                if (n.literal.is_boolean()) return T::kBoolean;
                if (n.literal.is_number_integer()) return T::kInteger;
                return T::kString;
            case NodeKind::kName:
                return access(n);
            case NodeKind::kMember:
            case NodeKind::kIndex:
                return access(n);
            case NodeKind::kCall:
                return call(n);
            case NodeKind::kArray:
                for (const auto& c : n.children) check(*c);
                return T::kArray;
            case NodeKind::kUnary:
                return unary(n);
            case NodeKind::kBinary:
                return binary(n);
        }
        return T::kAny;
    }

private:
    void issue(std::size_t offset, std::string message, std::string expected = "",
               std::string hint = "") {
        issues_.push_back({offset, std::move(message), std::move(expected), std::move(hint)});
    }

    std::string place() const { return scope_.place.empty() ? "here" : scope_.place; }

    // --- member and index chains -------------------------------------------------------

    T access(const Node& outer) {
        std::vector<Segment> segments;
        const Node* base = &outer;
        while (base->kind == NodeKind::kMember || base->kind == NodeKind::kIndex) {
            Segment s;
            s.node = base;
            if (base->kind == NodeKind::kMember) {
                s.named = true;
                s.name = base->name;
            } else {
                const Node& key = *base->children[1];
                if (key.kind == NodeKind::kLiteral && key.literal.is_string()) {
                    s.named = true;
                    s.name = key.literal.get<std::string>();
                } else {
                    T key_type = check(key);
                    if (key_type != T::kAny && key_type != T::kInteger && key_type != T::kString)
                        issue(base->offset, "an index must be an integer or a string, not " +
                                                std::string(describe(key_type)));
                }
            }
            segments.push_back(std::move(s));
            base = base->children[0].get();
        }
        std::reverse(segments.begin(), segments.end());
        if (base->kind != NodeKind::kName) return walk(check(*base), segments, 0);
        const std::string& root = base->name;
        if (root == "inputs") return inputs(*base, segments);
        if (root == "steps") return steps(*base, segments);
        if (root == "item" || root == "index") {
            if (!scope_.item) {
                issue(base->offset, "'" + root + "' is only available in a step with for_each", "",
                      "add for_each to the step, or read the value another way");
                return T::kAny;
            }
            return walk(root == "index" ? T::kInteger : T::kAny, segments, 0);
        }
        if (root == "env" || root == "secrets") {
            bool allowed = root == "env" ? scope_.env : scope_.secrets;
            if (!allowed) {
                issue(base->offset, "'" + root + "' cannot be used in " + place());
                return T::kAny;
            }
            return segments.empty() ? T::kObject : walk(T::kString, segments, 1);
        }
        return run(*base, segments);
    }

    // Types the rest of a chain generically, starting at segments[from].
    T walk(T type, const std::vector<Segment>& segments, std::size_t from) {
        for (std::size_t i = from; i < segments.size(); ++i) {
            const Segment& s = segments[i];
            switch (type) {
                case T::kAny:
                case T::kObject:
                case T::kNull:
                    type = T::kAny;
                    break;
                case T::kMoney:
                    if (s.named && s.name == "currency") {
                        type = T::kString;
                    } else if (s.named && s.name == "amount_minor") {
                        type = T::kInteger;
                    } else {
                        issue(s.node->offset, "money has no member '" + s.name + "'",
                              "amount_minor or currency");
                        return T::kAny;
                    }
                    break;
                case T::kArray:
                    if (s.named) {
                        issue(s.node->offset, "cannot read member '" + s.name + "' of an array",
                              "an index, e.g. [0]");
                        return T::kAny;
                    }
                    type = T::kAny;
                    break;
                default:
                    issue(s.node->offset,
                          std::string("cannot read ") +
                              (s.named ? "member '" + s.name + "'" : "an index") + " of " +
                              std::string(describe(type)),
                          "an object or an array");
                    return T::kAny;
            }
        }
        return type;
    }

    T inputs(const Node& base, const std::vector<Segment>& segments) {
        if (scope_.inputs == nullptr) {
            issue(base.offset, "'inputs' cannot be used in " + place());
            return T::kAny;
        }
        if (segments.empty()) return T::kObject;
        const Segment& first = segments[0];
        if (!first.named) return T::kAny;
        auto it = scope_.inputs->find(first.name);
        if (it == scope_.inputs->end()) {
            std::vector<std::string> names;
            for (const auto& [name, type] : *scope_.inputs) names.push_back(name);
            issue(first.node->offset, "unknown input '" + first.name + "'",
                  names.empty() ? "no inputs: this workflow declares none"
                                : "one of " + join_names(names),
                  did_you_mean(first.name, names));
            return T::kAny;
        }
        return walk(static_type_of(it->second), segments, 1);
    }

    T steps(const Node& base, const std::vector<Segment>& segments) {
        if (scope_.steps == nullptr) {
            issue(base.offset, "'steps' cannot be used in " + place());
            return T::kAny;
        }
        if (segments.empty() || !segments[0].named) {
            issue(segments.empty() ? base.offset : segments[0].node->offset,
                  "name a step literally", "steps.<id>.outputs.<name>");
            return T::kAny;
        }
        const Segment& id = segments[0];
        auto it = scope_.steps->find(id.name);
        if (it == scope_.steps->end()) {
            std::vector<std::string> ids;
            for (const auto& [name, view] : *scope_.steps) ids.push_back(name);
            issue(id.node->offset, "unknown step '" + id.name + "'", "the id of a step",
                  did_you_mean(id.name, ids));
            return T::kAny;
        }
        const auto& view = it->second;
        if (!view.visible) {
            issue(id.node->offset, "step '" + id.name + "' is not upstream of " + place(),
                  "a step this one needs, directly or through other steps",
                  "add '" + id.name + "' to needs");
            return T::kAny;
        }
        if (segments.size() == 1) return T::kObject;
        const Segment& field = segments[1];
        if (field.named && field.name == "status") return walk(T::kString, segments, 2);
        if (!field.named || field.name != "outputs") {
            issue(field.node->offset,
                  "unknown member " + (field.named ? "'" + field.name + "' " : "") + "of steps." +
                      id.name,
                  "outputs or status",
                  field.named ? did_you_mean(field.name, {"outputs", "status"}) : "");
            return T::kAny;
        }
        if (segments.size() == 2) return T::kObject;
        const Segment& output = segments[2];
        if (view.outputs == nullptr || !output.named) return T::kAny;
        for (const auto& f : *view.outputs)
            if (f.name == output.name) return walk(static_type_of(f.type), segments, 3);
        std::vector<std::string> names;
        for (const auto& f : *view.outputs) names.push_back(f.name);
        std::string owner =
            "step '" + id.name + "'" + (view.uses.empty() ? "" : " (" + view.uses + ")");
        issue(output.node->offset, owner + " has no output '" + output.name + "'",
              names.empty() ? "nothing: it declares no outputs" : "one of " + join_names(names),
              did_you_mean(output.name, names));
        return T::kAny;
    }

    T run(const Node& base, const std::vector<Segment>& segments) {
        if (!scope_.run) {
            issue(base.offset, "'run' cannot be used in " + place());
            return T::kAny;
        }
        if (segments.empty()) return T::kObject;
        const Segment& field = segments[0];
        if (!field.named) return T::kAny;
        static const std::vector<std::string> fields = {"id",         "workflow",    "version",
                                                        "started_at", "failed_step", "error"};
        if (std::find(fields.begin(), fields.end(), field.name) == fields.end()) {
            issue(field.node->offset, "unknown member '" + field.name + "' of run",
                  "one of " + join_names(fields), did_you_mean(field.name, fields));
            return T::kAny;
        }
        if ((field.name == "failed_step" || field.name == "error") && !scope_.failure) {
            issue(field.node->offset,
                  "run." + field.name + " is only available in on_failure steps");
            return T::kAny;
        }
        return walk(field.name == "version" ? T::kInteger : T::kString, segments, 1);
    }

    // --- operators ----------------------------------------------------------------------

    static bool one_of(T t, std::initializer_list<T> allowed) {
        return t == T::kAny || std::find(allowed.begin(), allowed.end(), t) != allowed.end();
    }

    T unary(const Node& n) {
        T operand = check(*n.children[0]);
        if (n.op == Op::kNot) {
            if (!one_of(operand, {T::kBoolean}))
                issue(n.offset, "'!' needs a boolean, not " + std::string(describe(operand)));
            return T::kBoolean;
        }
        if (!one_of(operand, {T::kInteger, T::kMoney})) {
            issue(n.offset, "'-' needs an integer or money, not " + std::string(describe(operand)));
            return T::kAny;
        }
        return operand;
    }

    T binary(const Node& n) {
        T a = check(*n.children[0]);
        T b = check(*n.children[1]);
        std::string op = op_text(n.op);
        auto mismatch = [&](const char* verb) {
            issue(n.offset, std::string("cannot ") + verb + " " + std::string(describe(a)) +
                                " and " + std::string(describe(b)) + " with '" + op + "'");
            return T::kAny;
        };
        switch (n.op) {
            case Op::kAnd:
            case Op::kOr:
                if (!one_of(a, {T::kBoolean}))
                    issue(n.offset, "'" + op + "' needs booleans; the left side is " +
                                        std::string(describe(a)));
                if (!one_of(b, {T::kBoolean}))
                    issue(n.offset, "'" + op + "' needs booleans; the right side is " +
                                        std::string(describe(b)));
                return T::kBoolean;
            case Op::kEq:
            case Op::kNe: {
                bool comparable = a == T::kAny || b == T::kAny || a == T::kNull || b == T::kNull ||
                                  a == b || (a == T::kMoney && b == T::kObject) ||
                                  (a == T::kObject && b == T::kMoney);
                if (!comparable)
                    issue(n.offset,
                          "comparing " + std::string(describe(a)) + " with " +
                              std::string(describe(b)) + " is always " +
                              (n.op == Op::kEq ? "false" : "true"),
                          "values of the same type");
                return T::kBoolean;
            }
            case Op::kLt:
            case Op::kLe:
            case Op::kGt:
            case Op::kGe: {
                bool ok = (one_of(a, {T::kInteger}) && one_of(b, {T::kInteger})) ||
                          (one_of(a, {T::kString}) && one_of(b, {T::kString})) ||
                          (one_of(a, {T::kMoney}) && one_of(b, {T::kMoney}));
                if (!ok) mismatch("compare");
                return T::kBoolean;
            }
            case Op::kAdd:
                for (T t : {T::kInteger, T::kMoney, T::kString})
                    if (one_of(a, {t}) && one_of(b, {t})) return a == T::kAny ? b : a;
                return mismatch("add");
            case Op::kSub:
                for (T t : {T::kInteger, T::kMoney})
                    if (one_of(a, {t}) && one_of(b, {t})) return a == T::kAny ? b : a;
                return mismatch("subtract");
            case Op::kMul:
                if (one_of(a, {T::kInteger}) && one_of(b, {T::kInteger}))
                    return a == T::kAny ? b : a;
                if ((a == T::kMoney && one_of(b, {T::kInteger})) ||
                    (b == T::kMoney && one_of(a, {T::kInteger})))
                    return T::kMoney;
                return mismatch("multiply");
            case Op::kDiv:
            case Op::kMod:
                if (a == T::kMoney || b == T::kMoney) {
                    issue(n.offset, "money cannot be divided (it would need rounding)",
                          "an integer; multiply money by an integer instead");
                    return T::kAny;
                }
                if (one_of(a, {T::kInteger}) && one_of(b, {T::kInteger})) return T::kInteger;
                return mismatch(n.op == Op::kDiv ? "divide" : "take the remainder of");
            default:
                return T::kAny;
        }
    }

    // --- functions ----------------------------------------------------------------------

    void want(const Node& call, const std::vector<T>& args, std::size_t i,
              std::initializer_list<T> allowed, const char* what) {
        if (i < args.size() && !one_of(args[i], allowed))
            issue(call.children[i]->offset, call.name + "() expects " + what + " as argument " +
                                                std::to_string(i + 1) + ", not " +
                                                std::string(describe(args[i])));
    }

    T call(const Node& n) {
        std::vector<T> args;
        for (const auto& c : n.children) args.push_back(check(*c));
        switch (function_specs()[static_cast<std::size_t>(n.function)].id) {
            case Function::kToday:
            case Function::kNow:
                return T::kString;
            case Function::kAddDays:
                want(n, args, 0, {T::kString}, "a date or datetime");
                want(n, args, 1, {T::kInteger}, "an integer number of days");
                return T::kString;
            case Function::kFormat:
                want(n, args, 0, {T::kString}, "a string");
                return T::kString;
            case Function::kLen:
                want(n, args, 0, {T::kString, T::kArray, T::kObject, T::kNull},
                     "a string, an array or an object");
                return T::kInteger;
            case Function::kContains:
                want(n, args, 0, {T::kString, T::kArray, T::kNull}, "a string or an array");
                if (args[0] == T::kString) want(n, args, 1, {T::kString}, "a string");
                return T::kBoolean;
            case Function::kDefault:
                if (args[0] == T::kNull) return args[1];
                return args[0] == args[1] ? args[0] : T::kAny;
            case Function::kLower:
            case Function::kUpper:
                want(n, args, 0, {T::kString}, "a string");
                return T::kString;
            case Function::kJoin:
                want(n, args, 0, {T::kArray, T::kNull}, "an array");
                want(n, args, 1, {T::kString}, "a string");
                return T::kString;
            case Function::kStartsWith:
            case Function::kEndsWith:
                want(n, args, 0, {T::kString}, "a string");
                want(n, args, 1, {T::kString}, "a string");
                return T::kBoolean;
            case Function::kString:
                return T::kString;
            case Function::kMoney:
                want(n, args, 0, {T::kString}, "a string");
                want(n, args, 1, {T::kString}, "a currency code");
                return T::kMoney;
        }
        return T::kAny;
    }

    const ExpressionScope& scope_;
    std::vector<ExpressionIssue>& issues_;
};

}  // namespace

StaticType check_tree(const Node& root, const ExpressionScope& scope,
                      std::vector<ExpressionIssue>& issues) {
    std::size_t before = issues.size();
    T type = Checker(scope, issues).check(root);
    return issues.size() == before ? type : T::kAny;
}

void collect_steps(const Node& node, std::vector<std::string>& ids) {
    if ((node.kind == NodeKind::kMember || node.kind == NodeKind::kIndex) &&
        node.children[0]->kind == NodeKind::kName && node.children[0]->name == "steps") {
        std::string id;
        if (node.kind == NodeKind::kMember) {
            id = node.name;
        } else if (node.children[1]->kind == NodeKind::kLiteral &&
                   node.children[1]->literal.is_string()) {
            id = node.children[1]->literal.get<std::string>();
        }
        if (!id.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    for (const auto& c : node.children) collect_steps(*c, ids);
}

bool reads_item(const Node& node) {
    if (node.kind == NodeKind::kName && (node.name == "item" || node.name == "index")) return true;
    return std::any_of(node.children.begin(), node.children.end(),
                       [](const auto& c) { return reads_item(*c); });
}

}  // namespace artistsaid::workflow::detail
