#include "engine/workflow/detail/expression_parser.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "engine/workflow/detail/expression_functions.hpp"
#include "engine/workflow/detail/suggest.hpp"
#include "engine/workflow/expression_error.hpp"

namespace artistsaid::workflow::detail {
namespace {

enum class Tok {
    kEnd,
    kInt,
    kString,
    kIdent,
    kLParen,
    kRParen,
    kLBracket,
    kRBracket,
    kDot,
    kComma,
    kNot,
    kNe,
    kEq,
    kLt,
    kLe,
    kGt,
    kGe,
    kPlus,
    kMinus,
    kStar,
    kSlash,
    kPercent,
    kAnd,
    kOr,
};

struct Token {
    Tok kind = Tok::kEnd;
    std::size_t offset = 0;
    std::string text;  // identifier, or the decoded string literal
    std::int64_t number = 0;
};

[[noreturn]] void fail(std::size_t offset, std::string message, std::string expected = "",
                       std::string hint = "") {
    throw ExpressionError(
        ExpressionIssue{offset, std::move(message), std::move(expected), std::move(hint)});
}

std::string function_list() {
    std::string out;
    for (const auto& f : function_specs()) out += (out.empty() ? "" : ", ") + std::string(f.name);
    return out;
}

// A printable rendering of one source character for messages.
std::string show_char(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "byte 0x%02X", u);
    return buffer;
}

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

class Lexer {
public:
    Lexer(std::string_view source, const ExpressionLimits& limits)
        : source_(source), limits_(limits) {}

    Token next() {
        while (pos_ < source_.size() && (source_[pos_] == ' ' || source_[pos_] == '\t' ||
                                         source_[pos_] == '\n' || source_[pos_] == '\r'))
            ++pos_;
        Token t;
        t.offset = pos_;
        if (pos_ >= source_.size()) return t;
        char c = source_[pos_];
        if (is_digit(c)) return number(t);
        if (is_ident_start(c)) {
            while (pos_ < source_.size() && is_ident_char(source_[pos_])) ++pos_;
            t.kind = Tok::kIdent;
            t.text = std::string(source_.substr(t.offset, pos_ - t.offset));
            return t;
        }
        if (c == '\'' || c == '"') return string(t, c);
        auto next_is = [&](char n) { return pos_ + 1 < source_.size() && source_[pos_ + 1] == n; };
        auto two = [&](Tok kind) {
            pos_ += 2;
            t.kind = kind;
            return t;
        };
        auto one = [&](Tok kind) {
            pos_ += 1;
            t.kind = kind;
            return t;
        };
        switch (c) {
            case '(':
                return one(Tok::kLParen);
            case ')':
                return one(Tok::kRParen);
            case '[':
                return one(Tok::kLBracket);
            case ']':
                return one(Tok::kRBracket);
            case '.':
                return one(Tok::kDot);
            case ',':
                return one(Tok::kComma);
            case '+':
                return one(Tok::kPlus);
            case '-':
                return one(Tok::kMinus);
            case '*':
                return one(Tok::kStar);
            case '/':
                return one(Tok::kSlash);
            case '%':
                return one(Tok::kPercent);
            case '!':
                return next_is('=') ? two(Tok::kNe) : one(Tok::kNot);
            case '<':
                return next_is('=') ? two(Tok::kLe) : one(Tok::kLt);
            case '>':
                return next_is('=') ? two(Tok::kGe) : one(Tok::kGt);
            case '=':
                if (next_is('=')) {
                    if (pos_ + 2 < source_.size() && source_[pos_ + 2] == '=')
                        fail(pos_, "unexpected '==='", "an operator", "did you mean '=='?");
                    return two(Tok::kEq);
                }
                fail(pos_, "unexpected '=' (there is no assignment)", "an operator",
                     "did you mean '=='?");
            case '&':
                if (next_is('&')) return two(Tok::kAnd);
                fail(pos_, "unexpected '&'", "an operator", "did you mean '&&'?");
            case '|':
                if (next_is('|')) return two(Tok::kOr);
                fail(pos_, "unexpected '|'", "an operator", "did you mean '||'?");
            default:
                fail(pos_, "unexpected character " + show_char(c),
                     "a value, a name, an operator or a bracket");
        }
    }

private:
    Token number(Token& t) {
        std::int64_t value = 0;
        bool overflow = false;
        while (pos_ < source_.size() && is_digit(source_[pos_])) {
            if (__builtin_mul_overflow(value, 10, &value) ||
                __builtin_add_overflow(value, source_[pos_] - '0', &value))
                overflow = true;
            ++pos_;
        }
        if (pos_ + 1 < source_.size() && source_[pos_] == '.' && is_digit(source_[pos_ + 1]))
            fail(t.offset, "decimal numbers are not supported", "an integer",
                 "amounts of money come from inputs of type money or money('12.34 USD')");
        if (pos_ < source_.size() && is_ident_char(source_[pos_]))
            fail(pos_, "unexpected " + show_char(source_[pos_]) + " after a number", "an operator",
                 "text such as a duration is written in quotes: '10m'");
        if (overflow)
            fail(t.offset, "integer literal out of range", "a value from -2^63 to 2^63-1");
        t.kind = Tok::kInt;
        t.number = value;
        return t;
    }

    Token string(Token& t, char quote) {
        ++pos_;
        std::string out;
        while (true) {
            if (pos_ >= source_.size())
                fail(t.offset, "unterminated string", std::string("a closing ") + quote);
            char c = source_[pos_];
            if (c == quote) {
                ++pos_;
                break;
            }
            if (c == '\\') {
                if (pos_ + 1 >= source_.size())
                    fail(t.offset, "unterminated string", std::string("a closing ") + quote);
                char e = source_[pos_ + 1];
                switch (e) {
                    case 'n':
                        out += '\n';
                        break;
                    case 't':
                        out += '\t';
                        break;
                    case 'r':
                        out += '\r';
                        break;
                    case '\\':
                        out += '\\';
                        break;
                    case '\'':
                        out += '\'';
                        break;
                    case '"':
                        out += '"';
                        break;
                    case 'u': {
                        std::uint32_t cp = 0;
                        for (size_t i = 0; i < 4; ++i) {
                            size_t p = pos_ + 2 + i;
                            char h = p < source_.size() ? source_[p] : '\0';
                            int v = h >= '0' && h <= '9'   ? h - '0'
                                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                           : -1;
                            if (v < 0)
                                fail(pos_, "invalid \\u escape", "four hex digits, e.g. \\u00e9");
                            cp = cp * 16 + static_cast<std::uint32_t>(v);
                        }
                        if (cp >= 0xD800 && cp <= 0xDFFF)
                            fail(pos_, "invalid \\u escape (a UTF-16 surrogate)",
                                 "a character outside U+D800..U+DFFF");
                        append_utf8(out, cp);
                        pos_ += 4;
                        break;
                    }
                    default:
                        fail(pos_, "unknown escape '\\" + std::string(1, e) + "'",
                             "one of \\n \\t \\r \\\\ \\' \\\" \\uXXXX");
                }
                pos_ += 2;
            } else {
                out += c;
                ++pos_;
            }
            if (out.size() > limits_.max_string_bytes)
                fail(t.offset, "string literal longer than " +
                                   std::to_string(limits_.max_string_bytes) + " bytes");
        }
        t.kind = Tok::kString;
        t.text = std::move(out);
        return t;
    }

    std::string_view source_;
    const ExpressionLimits& limits_;
    std::size_t pos_ = 0;
};

const char* token_text(Tok kind) {
    switch (kind) {
        case Tok::kEnd:
            return "the end of the expression";
        case Tok::kInt:
            return "a number";
        case Tok::kString:
            return "a string";
        case Tok::kIdent:
            return "a name";
        case Tok::kLParen:
            return "'('";
        case Tok::kRParen:
            return "')'";
        case Tok::kLBracket:
            return "'['";
        case Tok::kRBracket:
            return "']'";
        case Tok::kDot:
            return "'.'";
        case Tok::kComma:
            return "','";
        case Tok::kNot:
            return "'!'";
        case Tok::kNe:
            return "'!='";
        case Tok::kEq:
            return "'=='";
        case Tok::kLt:
            return "'<'";
        case Tok::kLe:
            return "'<='";
        case Tok::kGt:
            return "'>'";
        case Tok::kGe:
            return "'>='";
        case Tok::kPlus:
            return "'+'";
        case Tok::kMinus:
            return "'-'";
        case Tok::kStar:
            return "'*'";
        case Tok::kSlash:
            return "'/'";
        case Tok::kPercent:
            return "'%'";
        case Tok::kAnd:
            return "'&&'";
        case Tok::kOr:
            return "'||'";
    }
    return "a token";
}

class Parser {
public:
    Parser(std::string_view source, const ExpressionLimits& limits)
        : lexer_(source, limits), limits_(limits) {
        advance();
    }

    std::unique_ptr<Node> parse() {
        if (token_.kind == Tok::kEnd) fail(0, "empty expression", "a value, e.g. inputs.name");
        auto root = expression();
        if (token_.kind != Tok::kEnd)
            fail(token_.offset,
                 "unexpected " + std::string(token_text(token_.kind)) +
                     " after a complete expression",
                 "an operator or the end of the expression");
        return root;
    }

private:
    // Bounds the parser's recursion: every nested expression, bracket, call and unary
    // operator passes through here.
    class DepthGuard {
    public:
        DepthGuard(Parser& parser, std::size_t offset) : parser_(parser) {
            if (++parser_.depth_ > parser_.limits_.max_depth) parser_.too_deep(offset);
        }
        ~DepthGuard() { --parser_.depth_; }
        DepthGuard(const DepthGuard&) = delete;
        DepthGuard& operator=(const DepthGuard&) = delete;

    private:
        Parser& parser_;
    };

    [[noreturn]] void too_deep(std::size_t offset) const {
        fail(offset,
             "expression nests too deeply (more than " + std::to_string(limits_.max_depth) +
                 " levels of brackets, calls, operators or member accesses)",
             "a simpler expression; split it across steps");
    }

    void advance() { token_ = lexer_.next(); }

    void expect(Tok kind, const char* what) {
        if (token_.kind != kind)
            fail(token_.offset,
                 "expected " + std::string(what) + ", found " + token_text(token_.kind), what);
        advance();
    }

    std::unique_ptr<Node> make(NodeKind kind, std::size_t offset,
                               std::vector<std::unique_ptr<Node>> children = {}) {
        auto node = std::make_unique<Node>();
        node->kind = kind;
        node->offset = offset;
        int tallest = 0;
        for (const auto& c : children) tallest = std::max(tallest, c->height);
        node->height = tallest + 1;
        node->children = std::move(children);
        if (node->height > limits_.max_depth) too_deep(offset);
        return node;
    }

    std::unique_ptr<Node> binary(Op op, std::size_t offset, std::unique_ptr<Node> left,
                                 std::unique_ptr<Node> right) {
        std::vector<std::unique_ptr<Node>> children;
        children.push_back(std::move(left));
        children.push_back(std::move(right));
        auto node = make(NodeKind::kBinary, offset, std::move(children));
        node->op = op;
        return node;
    }

    std::unique_ptr<Node> expression() {
        DepthGuard guard(*this, token_.offset);
        return or_expr();
    }

    std::unique_ptr<Node> or_expr() {
        auto left = and_expr();
        while (token_.kind == Tok::kOr) {
            auto at = token_.offset;
            advance();
            left = binary(Op::kOr, at, std::move(left), and_expr());
        }
        return left;
    }

    std::unique_ptr<Node> and_expr() {
        auto left = equality();
        while (token_.kind == Tok::kAnd) {
            auto at = token_.offset;
            advance();
            left = binary(Op::kAnd, at, std::move(left), equality());
        }
        return left;
    }

    std::unique_ptr<Node> equality() {
        auto left = comparison();
        while (token_.kind == Tok::kEq || token_.kind == Tok::kNe) {
            Op op = token_.kind == Tok::kEq ? Op::kEq : Op::kNe;
            auto at = token_.offset;
            advance();
            left = binary(op, at, std::move(left), comparison());
        }
        return left;
    }

    std::unique_ptr<Node> comparison() {
        auto left = additive();
        while (true) {
            Op op = token_.kind == Tok::kLt   ? Op::kLt
                    : token_.kind == Tok::kLe ? Op::kLe
                    : token_.kind == Tok::kGt ? Op::kGt
                    : token_.kind == Tok::kGe ? Op::kGe
                                              : Op::kNone;
            if (op == Op::kNone) return left;
            auto at = token_.offset;
            advance();
            left = binary(op, at, std::move(left), additive());
        }
    }

    std::unique_ptr<Node> additive() {
        auto left = multiplicative();
        while (token_.kind == Tok::kPlus || token_.kind == Tok::kMinus) {
            Op op = token_.kind == Tok::kPlus ? Op::kAdd : Op::kSub;
            auto at = token_.offset;
            advance();
            left = binary(op, at, std::move(left), multiplicative());
        }
        return left;
    }

    std::unique_ptr<Node> multiplicative() {
        auto left = unary();
        while (token_.kind == Tok::kStar || token_.kind == Tok::kSlash ||
               token_.kind == Tok::kPercent) {
            Op op = token_.kind == Tok::kStar    ? Op::kMul
                    : token_.kind == Tok::kSlash ? Op::kDiv
                                                 : Op::kMod;
            auto at = token_.offset;
            advance();
            left = binary(op, at, std::move(left), unary());
        }
        return left;
    }

    std::unique_ptr<Node> unary() {
        if (token_.kind == Tok::kNot || token_.kind == Tok::kMinus) {
            DepthGuard guard(*this, token_.offset);
            Op op = token_.kind == Tok::kNot ? Op::kNot : Op::kNeg;
            auto at = token_.offset;
            advance();
            std::vector<std::unique_ptr<Node>> children;
            children.push_back(unary());
            auto node = make(NodeKind::kUnary, at, std::move(children));
            node->op = op;
            return node;
        }
        return postfix();
    }

    std::unique_ptr<Node> postfix() {
        auto node = primary();
        while (true) {
            if (token_.kind == Tok::kDot) {
                advance();
                if (token_.kind != Tok::kIdent)
                    fail(token_.offset,
                         "expected a name after '.', found " + std::string(token_text(token_.kind)),
                         "a member name, e.g. inputs.client_id");
                std::vector<std::unique_ptr<Node>> children;
                children.push_back(std::move(node));
                node = make(NodeKind::kMember, token_.offset, std::move(children));
                node->name = token_.text;
                advance();
            } else if (token_.kind == Tok::kLBracket) {
                DepthGuard guard(*this, token_.offset);
                auto at = token_.offset;
                advance();
                std::vector<std::unique_ptr<Node>> children;
                children.push_back(std::move(node));
                children.push_back(expression());
                expect(Tok::kRBracket, "']'");
                node = make(NodeKind::kIndex, at, std::move(children));
            } else {
                return node;
            }
        }
    }

    std::unique_ptr<Node> primary() {
        const Token t = token_;
        switch (t.kind) {
            case Tok::kInt: {
                advance();
                auto node = make(NodeKind::kLiteral, t.offset);
                node->literal = t.number;
                return node;
            }
            case Tok::kString: {
                advance();
                auto node = make(NodeKind::kLiteral, t.offset);
                node->literal = t.text;
                return node;
            }
            case Tok::kIdent:
                return name(t);
            case Tok::kLParen: {
                advance();
                auto inner = expression();
                expect(Tok::kRParen, "')'");
                return inner;
            }
            case Tok::kLBracket: {
                DepthGuard guard(*this, t.offset);
                advance();
                auto children = list(Tok::kRBracket, "']'");
                return make(NodeKind::kArray, t.offset, std::move(children));
            }
            default:
                fail(t.offset, "expected a value, found " + std::string(token_text(t.kind)),
                     "a literal, a name such as inputs.x, a function call or '('");
        }
    }

    std::unique_ptr<Node> name(const Token& t) {
        advance();
        if (t.text == "true" || t.text == "false" || t.text == "null") {
            auto node = make(NodeKind::kLiteral, t.offset);
            node->literal =
                t.text == "null" ? nlohmann::json(nullptr) : nlohmann::json(t.text == "true");
            return node;
        }
        if (token_.kind == Tok::kLParen) return call(t);
        const auto& roots = context_names();
        if (std::find(roots.begin(), roots.end(), t.text) == roots.end()) {
            std::string hint;
            if (find_function(t.text) >= 0) {
                hint = "call the function: " + t.text + "()";
            } else {
                std::vector<std::string> candidates = roots;
                candidates.insert(candidates.end(), {"true", "false", "null"});
                hint = did_you_mean(t.text, candidates);
            }
            fail(t.offset, "unknown name '" + t.text + "'",
                 "inputs, steps, item, index, env, secrets, run, a literal or a function call",
                 hint);
        }
        auto node = make(NodeKind::kName, t.offset);
        node->name = t.text;
        return node;
    }

    std::unique_ptr<Node> call(const Token& t) {
        int index = find_function(t.text);
        if (index < 0) {
            std::vector<std::string> names;
            for (const auto& f : function_specs()) names.emplace_back(f.name);
            fail(t.offset, "unknown function '" + t.text + "'", "one of " + function_list(),
                 did_you_mean(t.text, names));
        }
        DepthGuard guard(*this, t.offset);
        advance();  // '('
        auto args = list(Tok::kRParen, "')'");
        const auto& spec = function_specs()[static_cast<size_t>(index)];
        int count = static_cast<int>(args.size());
        if (count < spec.min_args || (spec.max_args >= 0 && count > spec.max_args)) {
            std::string want =
                spec.max_args < 0 ? "at least " + std::to_string(spec.min_args)
                : spec.min_args == spec.max_args
                    ? std::to_string(spec.min_args)
                    : std::to_string(spec.min_args) + " to " + std::to_string(spec.max_args);
            fail(t.offset,
                 t.text + "() takes " + want + " argument" + (want == "1" ? "" : "s") + " (got " +
                     std::to_string(count) + ")",
                 std::string(spec.signature));
        }
        auto node = make(NodeKind::kCall, t.offset, std::move(args));
        node->name = t.text;
        node->function = index;
        return node;
    }

    // Comma-separated expressions up to `close` (the opening bracket is consumed).
    std::vector<std::unique_ptr<Node>> list(Tok close, const char* close_text) {
        std::vector<std::unique_ptr<Node>> items;
        if (token_.kind == close) {
            advance();
            return items;
        }
        while (true) {
            items.push_back(expression());
            if (token_.kind == Tok::kComma) {
                advance();
                continue;
            }
            if (token_.kind != close)
                fail(token_.offset,
                     "expected ',' or " + std::string(close_text) + ", found " +
                         token_text(token_.kind),
                     std::string("',' or ") + close_text);
            advance();
            return items;
        }
    }

    Lexer lexer_;
    const ExpressionLimits& limits_;
    Token token_;
    int depth_ = 0;
};

}  // namespace

const std::vector<std::string>& context_names() {
    static const std::vector<std::string> names = {"inputs", "steps",   "item", "index",
                                                   "env",    "secrets", "run"};
    return names;
}

std::unique_ptr<Node> parse_expression(std::string_view source, const ExpressionLimits& limits) {
    if (source.size() > limits.max_expression_bytes)
        fail(0,
             "expression is " + std::to_string(source.size()) + " bytes long; the limit is " +
                 std::to_string(limits.max_expression_bytes),
             "a shorter expression");
    return Parser(source, limits).parse();
}

}  // namespace artistsaid::workflow::detail
