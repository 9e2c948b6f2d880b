#include "gateways/sandbox/sandbox_gateway.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include <pqxx/pqxx>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::gateways {
namespace {

// What a test card does; see the table in sandbox_gateway.hpp.
enum class Twist { kNone, kAnswerLost, kNeverHappened };

struct TestCard {
    std::string_view number;
    OperationStatus status;
    std::string_view code;  // decline code or error code
    bool retryable;
    Twist twist;
};

constexpr std::array<TestCard, 12> kTestCards{{
    {"4242424242424242", OperationStatus::kSucceeded, "", false, Twist::kNone},
    {"5555555555554444", OperationStatus::kSucceeded, "", false, Twist::kNone},
    {"4000000000000002", OperationStatus::kDeclined, "card_declined", false, Twist::kNone},
    {"4000000000009995", OperationStatus::kDeclined, "insufficient_funds", false, Twist::kNone},
    {"4000000000000069", OperationStatus::kDeclined, "expired_card", false, Twist::kNone},
    {"4000000000000127", OperationStatus::kDeclined, "incorrect_cvc", false, Twist::kNone},
    {"4000000000000119", OperationStatus::kFailed, "processing_error", true, Twist::kNone},
    {"4000002500003155", OperationStatus::kRequiresAction, "authentication_required", false,
     Twist::kNone},
    {"4000000000000077", OperationStatus::kPending, "", false, Twist::kNone},
    {"4000000000000341", OperationStatus::kSucceeded, "", false, Twist::kAnswerLost},
    {"4000000000000259", OperationStatus::kUnknown, "", false, Twist::kNeverHappened},
    {"", OperationStatus::kDeclined, "invalid_number", false, Twist::kNone},
}};

// `sbx_card_<number>_<suffix>`: a seeded reference standing for a test card.
constexpr std::string_view kSeededCard = "sbx_card_";
// A refund with this reason is performed and its answer lost (unknown); lookup() finds it.
constexpr std::string_view kRefundAnswerLostReason = "sandbox_answer_lost";

const TestCard& test_card(std::string_view number) {
    for (const auto& card : kTestCards) {
        if (card.number == number) return card;
    }
    return kTestCards.back();
}

constexpr std::string_view kColumns =
    "provider_id, status, amount, currency, decline_code, error, retryable, response_lost, "
    "request_hash, customer, payment_method, target";

// One operation about to be recorded.
struct Operation {
    std::string kind;
    std::string key;
    std::string request_hash;
    OperationStatus status = OperationStatus::kSucceeded;
    std::optional<Money> amount;
    std::string customer, payment_method, target, decline_code, error;
    bool retryable = false;
    Twist twist = Twist::kNone;
};

std::string provider_prefix(std::string_view kind) {
    if (kind == "customer") return "sbx_cus_";
    if (kind == "payment_method") return "sbx_pm_";
    if (kind == "charge") return "sbx_ch_";
    if (kind == "refund") return "sbx_re_";
    if (kind == "transfer") return "sbx_tr_";
    return "sbx_po_";
}

std::chrono::seconds connect_budget(std::chrono::system_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(
        deadline - std::chrono::system_clock::now());
    if (deadline.time_since_epoch().count() == 0) return std::chrono::seconds(5);
    return std::clamp(left, std::chrono::seconds(1), std::chrono::seconds(5));
}

GatewayResult result_of(const pqxx::row& row) {
    GatewayResult result;
    result.provider_id = row["provider_id"].as<std::string>();
    result.status = *operation_status_from_string(row["status"].as<std::string>());
    if (!row["amount"].is_null()) {
        result.amount = Money(row["amount"].as<std::int64_t>(),
                              Currency::from_code(row["currency"].as<std::string>()));
    }
    result.decline_code = row["decline_code"].is_null() ? "" : row["decline_code"].as<std::string>();
    result.error = row["error"].is_null() ? "" : row["error"].as<std::string>();
    result.retryable = row["retryable"].as<bool>();
    return result;
}

std::string validate_key(const OperationContext& context) {
    if (context.idempotency_key.empty() || context.idempotency_key.size() > 255) {
        throw InputError("sandbox: the idempotency key must be 1 to 255 characters");
    }
    return context.idempotency_key;
}

std::string metadata_text(const Metadata& metadata) {
    std::string text;
    for (const auto& [key, value] : metadata) text += key + "=" + value + ";";
    return text;
}

}  // namespace

SandboxGateway::SandboxGateway(std::string database_url)
    : database_url_(std::move(database_url)),
      batch_connections_(std::make_unique<store::ConnectionPool>(database_url_, 16,
                                                                 std::chrono::seconds(30))) {}

namespace {

// Records `op` unless its key was seen, and answers as the first call did (a key reused with
// other parameters is refused). The caller sees `unknown` when the answer is "lost".
GatewayResult perform(const std::string& url, std::chrono::system_clock::time_point deadline,
                      Operation op) {
    auto conn = store::connect(url, connect_budget(deadline), std::chrono::seconds(10));
    try {
        pqxx::work tx(*conn);
        auto replay = [&](const pqxx::row& row) {
            if (row["request_hash"].as<std::string>() != op.request_hash) {
                GatewayResult refused;
                refused.status = OperationStatus::kFailed;
                refused.error = "sandbox: idempotency key '" + op.key +
                                "' was used before with other parameters";
                return refused;
            }
            return result_of(row);
        };
        auto existing = tx.exec_params("SELECT " + std::string(kColumns) +
                                           " FROM sandbox_operations WHERE kind = $1 AND "
                                           "idempotency_key = $2",
                                       op.kind, op.key);
        if (!existing.empty()) return replay(existing[0]);
        if (op.twist == Twist::kNeverHappened) {
            GatewayResult lost;
            lost.error = "sandbox: simulated timeout before the operation reached the provider";
            return lost;
        }
        std::optional<std::int64_t> amount;
        std::optional<std::string> currency;
        if (op.amount) {
            amount = op.amount->minor_units();
            currency = std::string(op.amount->currency().code());
        }
        auto nullable = [](const std::string& s) {
            return s.empty() ? std::optional<std::string>() : std::optional<std::string>(s);
        };
        auto inserted = tx.exec_params(
            "INSERT INTO sandbox_operations (provider_id, kind, idempotency_key, request_hash, "
            "status, amount, currency, customer, payment_method, target, decline_code, error, "
            "retryable, response_lost) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
            "$12, $13, $14) ON CONFLICT (kind, idempotency_key) DO NOTHING RETURNING " +
                std::string(kColumns),
            provider_prefix(op.kind) + new_id(), op.kind, op.key, op.request_hash,
            std::string(to_string(op.status)), amount, currency, nullable(op.customer),
            nullable(op.payment_method), nullable(op.target), nullable(op.decline_code),
            nullable(op.error), op.retryable, op.twist == Twist::kAnswerLost);
        GatewayResult result;
        if (inserted.empty()) {
            // A concurrent call with the same key won the insert: answer as it did.
            tx.abort();
            pqxx::work again(*conn);
            auto rows = again.exec_params("SELECT " + std::string(kColumns) +
                                              " FROM sandbox_operations WHERE kind = $1 AND "
                                              "idempotency_key = $2",
                                          op.kind, op.key);
            if (rows.empty()) throw WorkError("sandbox: operation vanished during its insert");
            return replay(rows[0]);
        }
        result = result_of(inserted[0]);
        tx.commit();
        if (op.twist == Twist::kAnswerLost) {
            GatewayResult lost;
            lost.error = "sandbox: simulated timeout after the operation was performed";
            return lost;
        }
        return result;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("recording a sandbox " + op.kind);
    }
}

}  // namespace

CustomerRef SandboxGateway::save_customer(const CustomerRequest& request) {
    Operation op;
    op.kind = "customer";
    op.key = validate_key(request);
    op.target = request.reference;
    op.request_hash = sha256_hex(request.reference + "\n" + request.name + "\n" + request.email +
                                 "\n" + metadata_text(request.metadata));
    auto result = perform(database_url_, request.deadline, op);
    if (result.status != OperationStatus::kSucceeded) throw WorkError(result.error);
    return CustomerRef{request.reference.empty() ? result.provider_id : request.reference};
}

PaymentMethodRef SandboxGateway::save_payment_method(const PaymentMethodRequest& request) {
    if (request.customer_reference.empty()) throw InputError("sandbox: a payment method needs a customer");
    const auto& card = test_card(request.token);
    if (card.number.empty()) throw WorkError("sandbox: '" + request.token + "' is not a sandbox test card");
    Operation op;
    op.kind = "payment_method";
    op.key = validate_key(request);
    op.customer = request.customer_reference;
    op.payment_method = request.token;
    op.request_hash = sha256_hex(request.customer_reference + "\n" + request.token + "\n" +
                                 (request.make_default ? "1" : "0"));
    auto result = perform(database_url_, request.deadline, op);
    if (result.status != OperationStatus::kSucceeded) throw WorkError(result.error);
    PaymentMethodRef ref;
    ref.reference = result.provider_id;
    ref.customer_reference = request.customer_reference;
    ref.brand = request.token.front() == '5' ? "mastercard" : "visa";
    ref.last4 = request.token.substr(request.token.size() - 4);
    ref.exp_month = 12;
    ref.exp_year = 2034;
    return ref;
}

namespace {

// A charge request as the operation it records, once its payment method is resolved to a
// card number (`card_number`: the reference itself unless it was a saved sbx_pm_ one).
Operation charge_operation(const ChargeRequest& request, std::string card_number) {
    Operation op;
    op.kind = "charge";
    op.key = validate_key(request);
    op.amount = request.amount;
    op.customer = request.customer_reference;
    if (card_number.rfind(kSeededCard, 0) == 0) {
        const auto end = card_number.find('_', kSeededCard.size());
        card_number = card_number.substr(kSeededCard.size(), end == std::string::npos
                                                                 ? std::string::npos
                                                                 : end - kSeededCard.size());
    }
    const auto& card = test_card(card_number);
    op.payment_method = card_number;
    op.status = card.status;
    op.twist = card.twist;
    op.retryable = card.retryable;
    if (card.status == OperationStatus::kDeclined) op.decline_code = std::string(card.code);
    if (card.status == OperationStatus::kDeclined) op.error = "sandbox: declined (" + op.decline_code + ")";
    if (card.status == OperationStatus::kFailed) op.error = "sandbox: " + std::string(card.code);
    if (card.status == OperationStatus::kRequiresAction) {
        op.error = "sandbox: the card requires authentication (" + std::string(card.code) + ")";
    }
    op.request_hash = sha256_hex(request.amount.to_string() + "\n" + request.customer_reference +
                                 "\n" + request.payment_method_reference + "\n" +
                                 request.description + "\n" + metadata_text(request.metadata));
    return op;
}

}  // namespace

GatewayResult SandboxGateway::charge(const ChargeRequest& request) {
    if (request.amount.minor_units() <= 0) throw InputError("sandbox: a charge must be positive");
    // A sandbox payment method reference stands for the card it was saved with.
    std::string card_number = request.payment_method_reference;
    if (card_number.rfind("sbx_pm_", 0) == 0) {
        auto conn = store::connect(database_url_, connect_budget(request.deadline));
        std::optional<std::string> saved;
        try {
            pqxx::read_transaction tx(*conn);
            auto rows = tx.exec_params(
                "SELECT payment_method FROM sandbox_operations WHERE provider_id = $1 AND "
                "kind = 'payment_method'",
                card_number);
            if (!rows.empty()) saved = rows[0][0].as<std::string>();
        } catch (const std::exception&) {
            store::throw_from_pqxx("reading a sandbox payment method");
        }
        if (!saved) throw InputError("sandbox: unknown payment method " + card_number);
        card_number = *saved;
    }
    return perform(database_url_, request.deadline, charge_operation(request, card_number));
}

GatewayResult SandboxGateway::refund(const RefundRequest& request) {
    Operation op;
    op.kind = "refund";
    op.key = validate_key(request);
    op.target = request.charge_reference;
    op.request_hash = sha256_hex(request.charge_reference + "\n" +
                                 (request.amount ? request.amount->to_string() : "full") + "\n" +
                                 request.reason + "\n" + metadata_text(request.metadata));
    if (request.amount && request.amount->minor_units() <= 0) {
        throw InputError("sandbox: a refund amount must be positive");
    }
    // The charge and what was refunded of it so far decide the outcome; the charge row is
    // locked so that two refunds of one charge cannot both take its last cent.
    auto conn = store::connect(database_url_, connect_budget(request.deadline));
    try {
        pqxx::work tx(*conn);
        auto seen = tx.exec_params("SELECT " + std::string(kColumns) +
                                       " FROM sandbox_operations WHERE kind = 'refund' AND "
                                       "idempotency_key = $1",
                                   op.key);
        if (!seen.empty()) {
            tx.abort();
            return perform(database_url_, request.deadline, op);
        }
        auto charge = tx.exec_params(
            "SELECT status, amount, currency FROM sandbox_operations WHERE provider_id = $1 AND "
            "kind = 'charge' FOR UPDATE",
            request.charge_reference);
        if (charge.empty()) {
            op.status = OperationStatus::kFailed;
            op.error = "sandbox: no charge " + request.charge_reference;
        } else if (charge[0]["status"].as<std::string>() != "succeeded") {
            op.status = OperationStatus::kFailed;
            op.error = "sandbox: charge " + request.charge_reference + " did not succeed";
        } else {
            Money charged(charge[0]["amount"].as<std::int64_t>(),
                          Currency::from_code(charge[0]["currency"].as<std::string>()));
            auto refunded = tx.exec_params(
                "SELECT coalesce(sum(amount), 0) FROM sandbox_operations WHERE kind = 'refund' "
                "AND target = $1 AND status = 'succeeded'",
                request.charge_reference)[0][0].as<std::int64_t>();
            Money left = charged - Money(refunded, charged.currency());
            Money amount = request.amount.value_or(left);
            if (amount.currency() != charged.currency()) {
                op.status = OperationStatus::kFailed;
                op.error = "sandbox: refund in " + std::string(amount.currency().code()) +
                           " of a charge in " + std::string(charged.currency().code());
            } else if (amount.minor_units() <= 0 || amount > left) {
                op.status = OperationStatus::kFailed;
                op.error = "sandbox: refund of " + amount.to_string() + " exceeds the " +
                           left.to_string() + " left to refund";
            } else {
                op.amount = amount;
                // The refund's answer-lost test trigger (see the table in the header).
                if (request.reason == kRefundAnswerLostReason) op.twist = Twist::kAnswerLost;
            }
        }
        // perform() records the refund on a connection of its own; this transaction keeps the
        // charge locked until then.
        auto result = perform(database_url_, request.deadline, op);
        tx.commit();
        return result;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("recording a sandbox refund");
    }
}

GatewayResult SandboxGateway::transfer(const TransferRequest& request) {
    if (request.amount.minor_units() <= 0) throw InputError("sandbox: a transfer must be positive");
    if (request.kind != OperationKind::kTransfer && request.kind != OperationKind::kPayout) {
        throw InputError("sandbox: transfer() takes kTransfer or kPayout");
    }
    if (request.destination.empty()) throw InputError("sandbox: a transfer needs a destination");
    Operation op;
    op.kind = std::string(to_string(request.kind));
    op.key = validate_key(request);
    op.amount = request.amount;
    op.target = request.destination;
    op.status = request.kind == OperationKind::kPayout ? OperationStatus::kPending
                                                         : OperationStatus::kSucceeded;
    if (request.destination == "acct_sandbox_fail" || request.destination.rfind("XX", 0) == 0) {
        op.status = OperationStatus::kFailed;
        op.error = "sandbox: the destination refuses transfers";
    } else if (request.destination == "acct_sandbox_timeout") {
        op.twist = Twist::kAnswerLost;
    }
    op.request_hash = sha256_hex(request.amount.to_string() + "\n" + request.destination + "\n" +
                                 request.description + "\n" + metadata_text(request.metadata));
    return perform(database_url_, request.deadline, op);
}

std::optional<GatewayResult> SandboxGateway::lookup(const LookupRequest& request) {
    if (request.idempotency_key.empty() && request.provider_id.empty()) {
        throw InputError("sandbox: a lookup needs an idempotency key or a provider id");
    }
    auto conn = store::connect(database_url_, connect_budget(request.deadline));
    try {
        pqxx::work tx(*conn);
        // A pending operation settles when it is looked up: deterministic, and enough for the
        // reconciler to have something to resolve.
        auto rows = tx.exec_params(
            "UPDATE sandbox_operations SET status = CASE WHEN status = 'pending' THEN "
            "'succeeded' ELSE status END WHERE kind = $1 AND ((length($2) > 0 AND "
            "idempotency_key = $2) OR (length($3) > 0 AND provider_id = $3)) RETURNING " +
                std::string(kColumns),
            std::string(to_string(request.kind)), request.idempotency_key, request.provider_id);
        tx.commit();
        if (rows.empty()) return std::nullopt;
        return result_of(rows[0]);
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("looking up a sandbox operation");
    }
}

std::vector<GatewayResult> SandboxGateway::charge_batch(const std::vector<ChargeRequest>& requests,
                                                        int /*max_parallel*/) {
    std::vector<GatewayResult> results(requests.size());
    std::vector<std::optional<Operation>> ops(requests.size());
    if (requests.empty()) return results;
    auto refuse = [&](std::size_t i, std::string error) {
        results[i].status = OperationStatus::kFailed;  // what charge() refuses by InputError
        results[i].error = std::move(error);
    };
    auto deadline = requests.front().deadline;
    for (const auto& r : requests) deadline = std::min(deadline, r.deadline);
    auto conn = batch_connections_->acquire(connect_budget(deadline));
    try {
        // Saved sbx_pm_ references, resolved in one query.
        nlohmann::json saved_refs = nlohmann::json::array();
        for (const auto& r : requests)
            if (r.payment_method_reference.rfind("sbx_pm_", 0) == 0)
                saved_refs.push_back(r.payment_method_reference);
        std::map<std::string, std::string> saved;
        if (!saved_refs.empty()) {
            pqxx::read_transaction tx(*conn);
            for (const auto& row : tx.exec_params(
                     "SELECT provider_id, payment_method FROM sandbox_operations WHERE kind = "
                     "'payment_method' AND provider_id IN (SELECT jsonb_array_elements_text($1::jsonb))",
                     saved_refs.dump()))
                saved[row[0].as<std::string>()] = row[1].as<std::string>();
        }
        for (std::size_t i = 0; i < requests.size(); ++i) {
            const auto& r = requests[i];
            try {
                if (r.amount.minor_units() <= 0) throw InputError("sandbox: a charge must be positive");
                std::string card = r.payment_method_reference;
                if (card.rfind("sbx_pm_", 0) == 0) {
                    auto it = saved.find(card);
                    if (it == saved.end()) throw InputError("sandbox: unknown payment method " + card);
                    card = it->second;
                }
                ops[i] = charge_operation(r, card);
            } catch (const InputError& e) {
                refuse(i, e.what());
            }
        }
        // The whole batch in one transaction: new operations inserted by one statement (in key
        // order, so concurrent batches over the same keys wait for each other, never deadlock),
        // then every key's row read back. A key seen before answers as its first call did.
        nlohmann::json rows = nlohmann::json::array();
        nlohmann::json keys = nlohmann::json::array();
        for (const auto& op : ops) {
            if (!op) continue;
            keys.push_back(op->key);
            if (op->twist == Twist::kNeverHappened) continue;
            rows.push_back({{"provider_id", provider_prefix(op->kind) + new_id()},
                            {"idempotency_key", op->key}, {"request_hash", op->request_hash},
                            {"status", std::string(to_string(op->status))},
                            {"amount", op->amount->minor_units()},
                            {"currency", std::string(op->amount->currency().code())},
                            {"customer", op->customer}, {"payment_method", op->payment_method},
                            {"decline_code", op->decline_code}, {"error", op->error},
                            {"retryable", op->retryable},
                            {"response_lost", op->twist == Twist::kAnswerLost}});
        }
        std::map<std::string, pqxx::row> found;
        std::set<std::string> inserted;  // by this call: only its answer can be "lost"
        pqxx::result added;
        pqxx::result stored;
        {
            pqxx::work tx(*conn);
            added = tx.exec_params(
                "INSERT INTO sandbox_operations (provider_id, kind, idempotency_key, request_hash, "
                "status, amount, currency, customer, payment_method, decline_code, error, retryable, "
                "response_lost) SELECT x.provider_id, 'charge', x.idempotency_key, x.request_hash, "
                "x.status, x.amount, x.currency, NULLIF(x.customer, ''), NULLIF(x.payment_method, ''), "
                "NULLIF(x.decline_code, ''), NULLIF(x.error, ''), x.retryable, x.response_lost "
                "FROM jsonb_to_recordset($1::jsonb) AS x(provider_id text, idempotency_key text, "
                "request_hash text, status text, amount bigint, currency text, customer text, "
                "payment_method text, decline_code text, error text, retryable boolean, "
                "response_lost boolean) ORDER BY x.idempotency_key "
                "ON CONFLICT (kind, idempotency_key) DO NOTHING RETURNING idempotency_key, " +
                    std::string(kColumns),
                rows.dump());
            tx.commit();
            for (const auto& row : added) {
                inserted.insert(row[0].as<std::string>());
                found.emplace(row[0].as<std::string>(), row);  // as stored: no read-back
            }
        }
        // Only the keys this call did not insert (seen before, or never reached) are read.
        nlohmann::json others = nlohmann::json::array();
        for (const auto& key : keys)
            if (inserted.count(key.get<std::string>()) == 0) others.push_back(key);
        if (!others.empty()) {
            pqxx::read_transaction tx(*conn);
            stored = tx.exec_params(
                "SELECT idempotency_key, " + std::string(kColumns) +
                    " FROM sandbox_operations WHERE kind = 'charge' AND idempotency_key IN "
                    "(SELECT jsonb_array_elements_text($1::jsonb))",
                others.dump());
        }
        for (const auto& row : stored) found.emplace(row[0].as<std::string>(), row);
        for (std::size_t i = 0; i < requests.size(); ++i) {
            if (!ops[i]) continue;
            const Operation& op = *ops[i];
            auto it = found.find(op.key);
            if (it == found.end()) {
                results[i].error = "sandbox: simulated timeout before the operation reached the provider";
            } else if (it->second["request_hash"].as<std::string>() != op.request_hash) {
                refuse(i, "sandbox: idempotency key '" + op.key + "' was used before with other parameters");
            } else if (it->second["response_lost"].as<bool>() && inserted.count(op.key) > 0) {
                results[i].error = "sandbox: simulated timeout after the operation was performed";
            } else {
                results[i] = result_of(it->second);
            }
        }
        return results;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("recording a batch of sandbox charges");
    }
}

}  // namespace artistsaid::gateways
