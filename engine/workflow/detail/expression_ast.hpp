// The syntax tree of an expression. Internal: only the parser, checker and evaluator see it.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace artistsaid::workflow::detail {

enum class NodeKind {
    kLiteral,  // null, true, false, 42, 'text'
    kName,     // a context root: inputs, steps, item, index, env, secrets, run
    kMember,   // children[0].name
    kIndex,    // children[0][children[1]]
    kCall,     // name(children...)
    kArray,    // [children...]
    kUnary,    // op children[0]
    kBinary,   // children[0] op children[1]
};

enum class Op {
    kNone,
    kNot,
    kNeg,
    kOr,
    kAnd,
    kEq,
    kNe,
    kLt,
    kLe,
    kGt,
    kGe,
    kAdd,
    kSub,
    kMul,
    kDiv,
    kMod
};

/// The operator as written ("&&").
const char* op_text(Op op) noexcept;

struct Node {
    NodeKind kind = NodeKind::kLiteral;
    Op op = Op::kNone;
    /// Byte offset in the source of what an error about this node points at: the operator
    /// of a unary/binary node, the member name, the '[' of an index, a call's name.
    std::size_t offset = 0;
    int height = 1;          // 1 + the tallest child; bounded by ExpressionLimits::max_depth
    nlohmann::json literal;  // kLiteral
    std::string name;        // kName, kMember, kCall
    int function = -1;       // kCall: index into function_specs()
    std::vector<std::unique_ptr<Node>> children;
};

}  // namespace artistsaid::workflow::detail
