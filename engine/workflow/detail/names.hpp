// The shapes of the names a workflow file uses.
#pragma once

#include <string_view>

namespace artistsaid::workflow::detail {

/// Step ids and input names: [a-z_][a-z0-9_]*, at most 64 bytes — so they can be read as
/// steps.<id> and inputs.<name>.
bool is_identifier(std::string_view name) noexcept;

/// Workflow names: lower-case letters, digits, '_', '-', '.', starting with a letter and
/// ending with a letter or digit, at most 100 bytes ("billing-cycle", "payouts.monthly").
bool is_workflow_name(std::string_view name) noexcept;

/// Engine event names: dot-separated words of [a-z0-9_] starting with a letter
/// ("subscription.created"), at most 200 bytes.
bool is_event_name(std::string_view name) noexcept;

/// A provider's own event type (webhooks): printable ASCII without spaces, at most 200 bytes.
bool is_webhook_event(std::string_view name) noexcept;

/// IANA time zone names as written ("UTC", "Europe/Berlin", "Etc/GMT+2"): shape only.
bool is_timezone_name(std::string_view name) noexcept;

}  // namespace artistsaid::workflow::detail
