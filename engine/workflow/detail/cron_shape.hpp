// A shape check of cron expressions: five fields with values in range, or a macro. The
// schedule issue brings the real CronSchedule; this only catches typos early, with a column.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace artistsaid::workflow::detail {

struct CronProblem {
    std::size_t offset = 0;  // byte offset in the expression
    std::string message;
};

/// std::nullopt if `text` looks like a cron expression: "m h dom mon dow" where each field
/// is a comma list of `*`, `N`, `N-M`, each optionally `/step`, months and weekdays also by
/// three-letter name; or one of @yearly @annually @monthly @weekly @daily @midnight @hourly.
std::optional<CronProblem> check_cron_shape(std::string_view text);

}  // namespace artistsaid::workflow::detail
