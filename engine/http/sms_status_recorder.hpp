// Applies a verified Twilio message status callback (form fields MessageSid or SmsSid,
// MessageStatus or SmsStatus, ErrorCode, AccountSid) to the message sms.send recorded in
// sms_messages (migration 0006): status, error_code and status_updated_at.
//
// Guarantee: a status never moves backwards. Twilio's statuses are ranked
//   accepted, scheduled < queued < sending < sent < delivered | undelivered | failed | canceled
// and `read` follows `delivered` only; a callback whose status does not rank above the
// recorded one (a late or redelivered "sent" after "delivered", a second final status)
// changes nothing, nor does one for an unknown MessageSid, another account, or a status
// Twilio does not document. The update is one conditional statement, so concurrent
// callbacks for one message end at the highest status whatever their order.
// Thread-safety: stateless; apply() runs in the caller's transaction.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

namespace artistsaid::http {

class SmsStatusRecorder {
public:
    enum class Outcome {
        kUpdated,         // the row moved forward
        kUnchanged,       // known message, status not newer (or another account)
        kUnknownMessage,  // no sms_messages row with this SID
        kNotAStatus,      // not a message status callback (an inbound message, a call)
    };

    /// Applies the callback whose form fields are `payload` (a JSON object of strings).
    static Outcome apply(pqxx::work& tx, const nlohmann::json& payload);

    /// The rank of a Twilio message status (higher is later); nullopt if undocumented.
    static std::optional<int> rank(std::string_view status);
};

std::string_view to_string(SmsStatusRecorder::Outcome outcome) noexcept;

}  // namespace artistsaid::http
