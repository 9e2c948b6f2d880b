#include "engine/http/sms_status_recorder.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace artistsaid::http {
namespace {

// Twilio's outbound message statuses in the order a message goes through them. The four
// final statuses share a rank: once one is recorded, no other replaces it.
constexpr std::array<std::pair<std::string_view, int>, 10> kRanks{{
    {"accepted", 0},
    {"scheduled", 0},
    {"queued", 1},
    {"sending", 2},
    {"sent", 3},
    {"delivered", 4},
    {"undelivered", 4},
    {"failed", 4},
    {"canceled", 4},
    {"read", 5},
}};

// The same ranks as a SQL CASE over the recorded status (a status written by something
// else than Twilio ranks lowest, so any documented status replaces it).
std::string rank_sql(std::string_view column) {
    std::string sql = "CASE " + std::string(column);
    for (const auto& [name, r] : kRanks)
        sql += " WHEN '" + std::string(name) + "' THEN " + std::to_string(r);
    return sql + " ELSE -1 END";
}

// A text field; an integer (an Event Streams errorCode) as its digits.
std::string field(const nlohmann::json& payload, const char* name) {
    auto it = payload.find(name);
    if (it == payload.end()) return {};
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return std::to_string(it->get<long long>());
    return {};
}

}  // namespace

std::optional<int> SmsStatusRecorder::rank(std::string_view status) {
    for (const auto& [name, r] : kRanks)
        if (name == status) return r;
    return std::nullopt;
}

SmsStatusRecorder::Outcome SmsStatusRecorder::apply(pqxx::work& tx, const nlohmann::json& payload) {
    if (!payload.is_object()) return Outcome::kNotAStatus;
    // A status callback's form fields, or an Event Streams CloudEvent's `data` (camelCase,
    // statuses in capitals).
    const bool cloud_event = payload.contains("specversion");
    const auto& fields = cloud_event && payload.contains("data") ? payload["data"] : payload;
    if (!fields.is_object()) return Outcome::kNotAStatus;
    auto get = [&](const char* form_name, const char* event_name) {
        return field(fields, cloud_event ? event_name : form_name);
    };
    if (!get("CallSid", "callSid").empty()) return Outcome::kNotAStatus;
    std::string sid = get("MessageSid", "messageSid");
    if (sid.empty()) sid = field(fields, "SmsSid");
    std::string status = get("MessageStatus", "messageStatus");
    if (status.empty()) status = field(fields, "SmsStatus");
    std::transform(status.begin(), status.end(), status.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (sid.empty() || status.empty()) return Outcome::kNotAStatus;
    auto new_rank = rank(status);
    std::optional<int> error_code;
    const std::string code = get("ErrorCode", "errorCode");
    int parsed = 0;
    auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), parsed);
    if (!code.empty() && ec == std::errc() && end == code.data() + code.size()) error_code = parsed;

    if (new_rank) {
        // "read" follows "delivered" only, never a failure.
        const std::string read_guard =
            status == "read" ? " AND status NOT IN ('undelivered', 'failed', 'canceled')" : "";
        auto updated = tx.exec_params(
            "UPDATE sms_messages SET status = $2, error_code = coalesce($3, error_code), "
            "status_updated_at = now() WHERE provider_sid = $1 AND ($4 = '' OR account_sid = $4) "
            "AND " + rank_sql("status") + " < $5" + read_guard + " RETURNING id",
            sid, status, error_code, get("AccountSid", "accountSid"), *new_rank);
        if (!updated.empty()) return Outcome::kUpdated;
    }
    auto known = tx.exec_params("SELECT 1 FROM sms_messages WHERE provider_sid = $1", sid);
    return known.empty() ? Outcome::kUnknownMessage : Outcome::kUnchanged;
}

std::string_view to_string(SmsStatusRecorder::Outcome outcome) noexcept {
    switch (outcome) {
        case SmsStatusRecorder::Outcome::kUpdated: return "updated";
        case SmsStatusRecorder::Outcome::kUnchanged: return "unchanged";
        case SmsStatusRecorder::Outcome::kUnknownMessage: return "unknown_message";
        case SmsStatusRecorder::Outcome::kNotAStatus: return "not_a_status";
    }
    return "unknown";
}

}  // namespace artistsaid::http
