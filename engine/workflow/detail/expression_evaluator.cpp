#include "engine/workflow/detail/expression_evaluator.hpp"

#include <algorithm>
#include <string>

#include "engine/workflow/detail/calendar.hpp"
#include "engine/workflow/detail/expression_functions.hpp"
#include "engine/workflow/expression_error.hpp"

namespace artistsaid::workflow::detail {
namespace {

using nlohmann::json;

const json kEmptyObject = json::object();

[[noreturn]] void fail(std::size_t offset, std::string message, std::string expected = "",
                       ErrorCode code = ErrorCode::kInvalidInput) {
    throw ExpressionError(ExpressionIssue{offset, std::move(message), std::move(expected), ""},
                          code);
}

// An intermediate value: borrowed from the context where possible, so reading
// `steps.fetch.outputs.rows` does not copy the rows.
struct Val {
    const json* ref = nullptr;
    json owned;
    bool secret = false;
    bool secrets_root = false;  // the `secrets` object itself: a missing member is an error

    const json& get() const { return ref != nullptr ? *ref : owned; }
    json take() { return ref != nullptr ? *ref : std::move(owned); }
};

Val owned(json value, bool secret) {
    Val v;
    v.owned = std::move(value);
    v.secret = secret;
    return v;
}

Val borrowed(const json* value, bool secret) {
    Val v;
    v.ref = value;
    v.secret = secret;
    return v;
}

std::optional<std::int64_t> as_int(const json& value) {
    if (value.is_number_unsigned()) {
        auto u = value.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return std::nullopt;
        return static_cast<std::int64_t>(u);
    }
    if (value.is_number_integer()) return value.get<std::int64_t>();
    return std::nullopt;
}

// Counts UTF-8 code points (continuation bytes are not counted).
std::int64_t code_points(const std::string& text) {
    return static_cast<std::int64_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

class Evaluator {
public:
    Evaluator(const EvalContext& context, EvalState& state)
        : context_(context), limits_(context.limits), state_(state) {}

    Val eval(const Node& n) {
        charge(1, n.offset);
        switch (n.kind) {
            case NodeKind::kLiteral:
                return borrowed(&n.literal, false);
            case NodeKind::kName:
                return root(n);
            case NodeKind::kMember:
                return member(eval(*n.children[0]), n.name, n.offset);
            case NodeKind::kIndex:
                return index(n);
            case NodeKind::kCall:
                return call(n);
            case NodeKind::kArray: {
                Val out = owned(json::array(), false);
                for (const auto& child : n.children) {
                    Val item = eval(*child);
                    out.secret = out.secret || item.secret;
                    out.owned.push_back(item.take());
                }
                return out;
            }
            case NodeKind::kUnary:
                return unary(n);
            case NodeKind::kBinary:
                return binary(n);
        }
        fail(n.offset, "internal error: unknown expression node", "", ErrorCode::kInternal);
    }

private:
    void charge(std::size_t units, std::size_t offset) {
        state_.steps += units;
        if (state_.steps > limits_.max_steps)
            fail(offset,
                 "evaluation needs more than " + std::to_string(limits_.max_steps) +
                     " steps (the expression or its data is too large)",
                 "a cheaper expression");
    }

    void check_size(std::size_t bytes, std::size_t offset) {
        if (bytes > limits_.max_string_bytes)
            fail(offset,
                 "the result would be a string of more than " +
                     std::to_string(limits_.max_string_bytes) + " bytes",
                 "a shorter result");
    }

    const json* or_empty(const json* value) const {
        return value != nullptr ? value : &kEmptyObject;
    }

    Val root(const Node& n) {
        const std::string& name = n.name;
        if (name == "inputs") return borrowed(or_empty(context_.inputs), false);
        if (name == "steps") return borrowed(or_empty(context_.steps), false);
        if (name == "env") return borrowed(or_empty(context_.env), false);
        if (name == "run") return borrowed(or_empty(context_.run), false);
        if (name == "secrets") {
            Val v = borrowed(or_empty(context_.secrets), true);
            v.secrets_root = true;
            return v;
        }
        if (name == "item") {
            if (context_.item == nullptr)
                fail(n.offset, "'item' is only available inside a step with for_each");
            return borrowed(context_.item, false);
        }
        if (name == "index") {
            if (!context_.index)
                fail(n.offset, "'index' is only available inside a step with for_each");
            return owned(*context_.index, false);
        }
        fail(n.offset, "unknown name '" + name + "'");
    }

    Val member(Val base, const std::string& name, std::size_t offset) {
        const json& b = base.get();
        if (b.is_null()) return owned(nullptr, base.secret);
        if (!b.is_object())
            fail(offset, "cannot read member '" + name + "' of " + kind_of(b), "an object or null");
        auto it = b.find(name);
        if (it == b.end()) {
            if (base.secrets_root) fail(offset, "secret '" + name + "' is not set");
            return owned(nullptr, base.secret);
        }
        if (base.ref != nullptr) return borrowed(&*it, base.secret);
        json value = std::move(base.owned[name]);
        return owned(std::move(value), base.secret);
    }

    Val index(const Node& n) {
        Val base = eval(*n.children[0]);
        Val key = eval(*n.children[1]);
        bool secret = base.secret || key.secret;
        const json& k = key.get();
        if (k.is_string()) {
            Val out = member(std::move(base), k.get<std::string>(), n.offset);
            out.secret = out.secret || secret;
            return out;
        }
        const json& b = base.get();
        if (b.is_null()) return owned(nullptr, secret);
        auto i = as_int(k);
        if (!i) fail(n.offset, "an index must be an integer or a string, not " + kind_of(k));
        if (!b.is_array())
            fail(n.offset, "cannot index " + kind_of(b) + " with an integer", "an array");
        if (*i < 0 || static_cast<std::uint64_t>(*i) >= b.size()) return owned(nullptr, secret);
        auto at = static_cast<std::size_t>(*i);
        if (base.ref != nullptr) return borrowed(&(*base.ref)[at], secret);
        return owned(std::move(base.owned[at]), secret);
    }

    Val unary(const Node& n) {
        Val operand = eval(*n.children[0]);
        const json& v = operand.get();
        if (n.op == Op::kNot) {
            if (!v.is_boolean())
                fail(n.offset, "'!' needs a boolean, not " + kind_of(v), "a boolean");
            return owned(!v.get<bool>(), operand.secret);
        }
        if (auto i = as_int(v)) {
            if (*i == std::numeric_limits<std::int64_t>::min())
                fail(n.offset, "integer overflow in '-'", "", ErrorCode::kOverflow);
            return owned(-*i, operand.secret);
        }
        if (auto m = money_from_json(v))
            return owned(money_to_json(guard([&] { return -*m; }, n, operand.secret)),
                         operand.secret);
        fail(n.offset, "'-' needs an integer or money, not " + kind_of(v));
    }

    // Runs a Money operation, turning its exceptions into ExpressionErrors at `n`. Money's
    // messages quote amounts, so an operation on a secret gets a message without them.
    template <typename F>
    auto guard(F&& f, const Node& n, bool secret) -> decltype(f()) {
        try {
            return f();
        } catch (const ExpressionError&) {
            throw;
        } catch (const Error& e) {
            if (secret)
                fail(n.offset,
                     std::string("invalid money operation on a secret value (") +
                         std::string(to_string(e.code())) + ")",
                     "", e.code());
            fail(n.offset, e.what(), "", e.code());
        }
    }

    Val logical(const Node& n) {
        Val left = eval(*n.children[0]);
        if (!left.get().is_boolean())
            fail(n.offset,
                 std::string("'") + op_text(n.op) + "' needs booleans; the left side is " +
                     kind_of(left.get()),
                 "a boolean");
        bool l = left.get().get<bool>();
        if ((n.op == Op::kAnd && !l) || (n.op == Op::kOr && l)) return owned(l, left.secret);
        Val right = eval(*n.children[1]);
        if (!right.get().is_boolean())
            fail(n.offset,
                 std::string("'") + op_text(n.op) + "' needs booleans; the right side is " +
                     kind_of(right.get()),
                 "a boolean");
        return owned(right.get().get<bool>(), left.secret || right.secret);
    }

    [[noreturn]] void type_error(const Node& n, const json& a, const json& b) {
        static const char* verbs[] = {"",         "",         "",        "",
                                      "",         "compare",  "compare", "compare",
                                      "compare",  "compare",  "compare", "add",
                                      "subtract", "multiply", "divide",  "take the remainder of"};
        fail(n.offset, std::string("cannot ") + verbs[static_cast<int>(n.op)] + " " + kind_of(a) +
                           " and " + kind_of(b) + " with '" + op_text(n.op) + "'");
    }

    Val binary(const Node& n) {
        if (n.op == Op::kAnd || n.op == Op::kOr) return logical(n);
        Val left = eval(*n.children[0]);
        Val right = eval(*n.children[1]);
        bool secret = left.secret || right.secret;
        const json& a = left.get();
        const json& b = right.get();
        switch (n.op) {
            case Op::kEq:
            case Op::kNe: {
                charge(a.size() + b.size(), n.offset);
                bool equal = a == b;
                return owned(n.op == Op::kEq ? equal : !equal, secret);
            }
            case Op::kLt:
            case Op::kLe:
            case Op::kGt:
            case Op::kGe:
                return owned(compare(n, a, b, secret), secret);
            default:
                break;
        }
        auto ia = as_int(a);
        auto ib = as_int(b);
        if (ia && ib) return owned(integer_op(n, *ia, *ib), secret);
        auto ma = money_from_json(a);
        auto mb = money_from_json(b);
        switch (n.op) {
            case Op::kAdd:
                if (ma && mb)
                    return owned(money_to_json(guard([&] { return *ma + *mb; }, n, secret)),
                                 secret);
                if (a.is_string() && b.is_string()) {
                    const auto& sa = a.get_ref<const std::string&>();
                    const auto& sb = b.get_ref<const std::string&>();
                    check_size(sa.size() + sb.size(), n.offset);
                    charge((sa.size() + sb.size()) / 1024, n.offset);
                    return owned(sa + sb, secret);
                }
                break;
            case Op::kSub:
                if (ma && mb)
                    return owned(money_to_json(guard([&] { return *ma - *mb; }, n, secret)),
                                 secret);
                break;
            case Op::kMul:
                if (ma && ib)
                    return owned(money_to_json(guard([&] { return *ma * *ib; }, n, secret)),
                                 secret);
                if (ia && mb)
                    return owned(money_to_json(guard([&] { return *ia * *mb; }, n, secret)),
                                 secret);
                break;
            case Op::kDiv:
            case Op::kMod:
                if (ma || mb)
                    fail(n.offset, "money cannot be divided (it would need rounding)",
                         "an integer; multiply money by an integer instead");
                break;
            default:
                break;
        }
        type_error(n, a, b);
    }

    json integer_op(const Node& n, std::int64_t a, std::int64_t b) {
        std::int64_t out = 0;
        bool overflow = false;
        switch (n.op) {
            case Op::kAdd:
                overflow = __builtin_add_overflow(a, b, &out);
                break;
            case Op::kSub:
                overflow = __builtin_sub_overflow(a, b, &out);
                break;
            case Op::kMul:
                overflow = __builtin_mul_overflow(a, b, &out);
                break;
            case Op::kDiv:
            case Op::kMod:
                if (b == 0) fail(n.offset, "division by zero", "a non-zero divisor");
                if (a == std::numeric_limits<std::int64_t>::min() && b == -1) {
                    overflow = true;
                    break;
                }
                out = n.op == Op::kDiv ? a / b : a % b;
                break;
            default:
                break;
        }
        if (overflow)
            fail(n.offset, std::string("integer overflow in '") + op_text(n.op) + "'",
                 "results from -2^63 to 2^63-1", ErrorCode::kOverflow);
        return out;
    }

    bool compare(const Node& n, const json& a, const json& b, bool secret) {
        int order = 0;
        auto ia = as_int(a);
        auto ib = as_int(b);
        if (ia && ib) {
            order = *ia < *ib ? -1 : (*ia > *ib ? 1 : 0);
        } else if (a.is_number() && b.is_number()) {
            double da = a.get<double>();
            double db = b.get<double>();
            order = da < db ? -1 : (da > db ? 1 : 0);
        } else if (a.is_string() && b.is_string()) {
            int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
            order = c < 0 ? -1 : (c > 0 ? 1 : 0);
        } else {
            auto ma = money_from_json(a);
            auto mb = money_from_json(b);
            if (!ma || !mb) type_error(n, a, b);
            auto c = guard([&] { return *ma <=> *mb; }, n, secret);
            order = c < 0 ? -1 : (c > 0 ? 1 : 0);
        }
        switch (n.op) {
            case Op::kLt:
                return order < 0;
            case Op::kLe:
                return order <= 0;
            case Op::kGt:
                return order > 0;
            default:
                return order >= 0;
        }
    }

    const std::string& want_string(const Node& call, const std::vector<Val>& args, size_t i) {
        const json& v = args[i].get();
        if (!v.is_string())
            fail(call.children[i]->offset,
                 call.name + "() expects a string as argument " + std::to_string(i + 1) + ", not " +
                     kind_of(v),
                 "a string");
        return v.get_ref<const std::string&>();
    }

    Val call(const Node& n) {
        std::vector<Val> args;
        args.reserve(n.children.size());
        bool secret = false;
        for (const auto& child : n.children) {
            args.push_back(eval(*child));
            secret = secret || args.back().secret;
        }
        auto id = function_specs()[static_cast<size_t>(n.function)].id;
        switch (id) {
            case Function::kToday:
                return owned(format_date(std::chrono::floor<std::chrono::days>(context_.now())),
                             false);
            case Function::kNow:
                return owned(format_datetime(utc_datetime(context_.now())), false);
            case Function::kAddDays:
                return owned(add_days(n, args), secret);
            case Function::kFormat:
                return owned(format(n, args), secret);
            case Function::kLen: {
                const json& v = args[0].get();
                if (v.is_string()) {
                    charge(v.get_ref<const std::string&>().size() / 1024, n.offset);
                    return owned(code_points(v.get_ref<const std::string&>()), secret);
                }
                if (v.is_array() || v.is_object())
                    return owned(static_cast<std::int64_t>(v.size()), secret);
                if (v.is_null()) return owned(0, secret);
                fail(n.children[0]->offset,
                     "len() expects a string, an array or an object, not " + kind_of(v));
            }
            case Function::kContains: {
                const json& hay = args[0].get();
                const json& needle = args[1].get();
                if (hay.is_null()) return owned(false, secret);
                if (hay.is_string()) {
                    const auto& s = hay.get_ref<const std::string&>();
                    charge(s.size() / 1024, n.offset);
                    return owned(s.find(want_string(n, args, 1)) != std::string::npos, secret);
                }
                if (hay.is_array()) {
                    charge(hay.size(), n.offset);
                    return owned(std::find(hay.begin(), hay.end(), needle) != hay.end(), secret);
                }
                fail(n.children[0]->offset,
                     "contains() expects a string or an array as argument 1, not " + kind_of(hay));
            }
            case Function::kDefault:
                if (args[0].get().is_null()) return std::move(args[1]);
                return std::move(args[0]);
            case Function::kLower:
            case Function::kUpper: {
                std::string s = want_string(n, args, 0);
                charge(s.size() / 1024, n.offset);
                for (char& c : s) {
                    if (id == Function::kLower && c >= 'A' && c <= 'Z')
                        c = static_cast<char>(c - 'A' + 'a');
                    if (id == Function::kUpper && c >= 'a' && c <= 'z')
                        c = static_cast<char>(c - 'a' + 'A');
                }
                return owned(std::move(s), secret);
            }
            case Function::kJoin:
                return owned(join(n, args), secret);
            case Function::kStartsWith:
            case Function::kEndsWith: {
                const std::string& s = want_string(n, args, 0);
                const std::string& affix = want_string(n, args, 1);
                bool match = affix.size() <= s.size() &&
                             (id == Function::kStartsWith
                                  ? s.compare(0, affix.size(), affix) == 0
                                  : s.compare(s.size() - affix.size(), affix.size(), affix) == 0);
                return owned(match, secret);
            }
            case Function::kString: {
                std::string text = value_text(args[0].get());
                check_size(text.size(), n.offset);
                return owned(std::move(text), secret);
            }
            case Function::kMoney: {
                std::string text = want_string(n, args, 0);
                if (args.size() == 2) text += " " + want_string(n, args, 1);
                return owned(money_to_json(guard([&] { return Money::parse(text); }, n, secret)),
                             secret);
            }
        }
        fail(n.offset, "internal error: unknown function", "", ErrorCode::kInternal);
    }

    json add_days(const Node& n, const std::vector<Val>& args) {
        auto days = as_int(args[1].get());
        if (!days || *days < -3'660'000 || *days > 3'660'000)
            fail(n.children[1]->offset,
                 "add_days() expects a number of days (an integer within ±3,660,000) as "
                 "argument 2, not " +
                     kind_of(args[1].get()));
        const json& d = args[0].get();
        auto in_range = [&](std::chrono::sys_days day) {
            int year = static_cast<int>(std::chrono::year_month_day{day}.year());
            if (year < 1 || year > 9999)
                fail(n.offset, "add_days() result is outside the years 0001-9999");
            return day;
        };
        if (d.is_string()) {
            const auto& text = d.get_ref<const std::string&>();
            if (auto date = parse_date(text))
                return format_date(in_range(*date + std::chrono::days(*days)));
            if (auto dt = parse_datetime(text)) {
                dt->date = in_range(dt->date + std::chrono::days(*days));
                return format_datetime(*dt);
            }
        }
        fail(n.children[0]->offset,
             "add_days() expects a date (YYYY-MM-DD) or an RFC 3339 datetime as argument 1, "
             "not " +
                 (d.is_string() ? std::string("a string of another form") : kind_of(d)));
    }

    std::string format(const Node& n, const std::vector<Val>& args) {
        const std::string& fmt = want_string(n, args, 0);
        std::string out;
        for (size_t i = 0; i < fmt.size(); ++i) {
            char c = fmt[i];
            if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
                out += '{';
                ++i;
            } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
                out += '}';
                ++i;
            } else if (c == '{') {
                size_t j = i + 1;
                std::size_t number = 0;
                while (j < fmt.size() && fmt[j] >= '0' && fmt[j] <= '9' && j - i <= 4)
                    number = number * 10 + static_cast<std::size_t>(fmt[j++] - '0');
                if (j == i + 1 || j >= fmt.size() || fmt[j] != '}')
                    fail(n.children[0]->offset,
                         "format(): invalid placeholder at character " + std::to_string(i + 1) +
                             " of the template",
                         "{0}, {1}, ... or {{ and }} for literal braces");
                if (number + 1 >= args.size())
                    fail(n.children[0]->offset,
                         "format(): placeholder {" + std::to_string(number) + "} has no argument",
                         std::to_string(args.size() - 1) + " argument(s) after the template");
                out += value_text(args[number + 1].get());
                i = j;
            } else if (c == '}') {
                fail(n.children[0]->offset,
                     "format(): unmatched '}' at character " + std::to_string(i + 1) +
                         " of the template",
                     "}} for a literal brace");
            } else {
                out += c;
            }
            check_size(out.size(), n.offset);
        }
        charge(out.size() / 1024, n.offset);
        return out;
    }

    std::string join(const Node& n, const std::vector<Val>& args) {
        const json& list = args[0].get();
        std::string separator = args.size() > 1 ? want_string(n, args, 1) : ",";
        if (list.is_null()) return "";
        if (!list.is_array())
            fail(n.children[0]->offset,
                 "join() expects an array as argument 1, not " + kind_of(list));
        charge(list.size(), n.offset);
        std::string out;
        bool first = true;
        for (const auto& item : list) {
            if (!first) out += separator;
            first = false;
            out += value_text(item);
            check_size(out.size(), n.offset);
        }
        return out;
    }

    const EvalContext& context_;
    const ExpressionLimits& limits_;
    EvalState& state_;
};

}  // namespace

Value evaluate_tree(const Node& root, const EvalContext& context, EvalState& state) {
    Evaluator evaluator(context, state);
    Val v = evaluator.eval(root);
    bool secret = v.secret;
    return Value(v.take(), secret);
}

}  // namespace artistsaid::workflow::detail
