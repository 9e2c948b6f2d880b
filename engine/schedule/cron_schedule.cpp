#include "engine/schedule/cron_schedule.hpp"

#include <algorithm>
#include <bit>

#include "engine/core/suggest.hpp"
#include "engine/schedule/detail/civil.hpp"

namespace artistsaid::schedule {

using std::chrono::sys_seconds;

namespace {

constexpr std::string_view kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::string_view kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct FieldSpec {
    std::string_view name;
    int min;
    int max;                        // largest value written (day-of-week: 7, another Sunday)
    int span;                       // number of distinct values: the largest useful step
    const std::string_view* names;  // three-letter names of min, min+1, ... or nullptr
    int name_count;
};

constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, 60, nullptr, 0},       {"hour", 0, 23, 24, nullptr, 0},
    {"day-of-month", 1, 31, 31, nullptr, 0}, {"month", 1, 12, 12, kMonthNames, 12},
    {"day-of-week", 0, 7, 7, kDayNames, 7},
};
constexpr std::string_view kFieldList = "minute hour day-of-month month day-of-week";

struct Macro {
    std::string_view name;
    std::string_view fields;
};
constexpr Macro kMacros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) { return lower(c); });
    return out;
}
std::string range_text(int min, int max) { return std::to_string(min) + "-" + std::to_string(max); }

bool has_bit(uint64_t bits, int i) { return ((bits >> i) & 1) != 0; }

// The lowest set bit at or above `from` and at most `max`, or -1.
int next_bit(uint64_t bits, int from, int max) {
    if (from > max) return -1;
    uint64_t above = bits >> from << from;
    if (above == 0) return -1;
    int i = std::countr_zero(above);
    return i <= max ? i : -1;
}

uint64_t progression(int min, int max, int step) {
    uint64_t bits = 0;
    for (int v = min; v <= max; v += step) bits |= uint64_t{1} << v;
    return bits;
}

struct Token {
    size_t offset;
    std::string_view text;
};

struct ParsedField {
    uint64_t bits = 0;
    bool star = false;
};

// One parse of one expression; every error throws CronSyntaxError at a byte offset.
class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    [[noreturn]] void fail(size_t offset, const std::string& reason) const {
        throw CronSyntaxError(std::string(text_), static_cast<int>(offset) + 1, reason);
    }

    std::vector<Token> split() const {
        std::vector<Token> tokens;
        size_t i = 0;
        while (i < text_.size()) {
            if (text_[i] == ' ' || text_[i] == '\t') {
                ++i;
                continue;
            }
            size_t start = i;
            while (i < text_.size() && text_[i] != ' ' && text_[i] != '\t') ++i;
            tokens.push_back({start, text_.substr(start, i - start)});
        }
        return tokens;
    }

    ParsedField field(const FieldSpec& spec, const Token& token) const {
        ParsedField out;
        out.star = token.text.front() == '*';
        const std::string_view f = token.text;
        const size_t base = token.offset;
        size_t pos = 0;
        while (true) {
            if (pos == f.size() || f[pos] == ',')
                fail(base + pos, "empty item in the " + std::string(spec.name) + " list");
            const size_t item = pos;
            int lo = spec.min;
            int hi = spec.max;
            bool single = false;
            if (f[pos] == '*') {
                ++pos;
            } else {
                lo = value(spec, f, base, pos, "");
                hi = lo;
                single = true;
                if (pos < f.size() && f[pos] == '-') {
                    ++pos;
                    hi = value(spec, f, base, pos, " after '-'");
                    single = false;
                    if (hi < lo)
                        fail(base + item, "range " + std::string(f.substr(item, pos - item)) +
                                              " is backwards (wrap-around ranges are not "
                                              "supported; write two ranges as a list)");
                }
            }
            int step = 1;
            if (pos < f.size() && f[pos] == '/') {
                ++pos;
                size_t at = pos;
                if (pos == f.size() || !is_digit(f[pos]))
                    fail(base + pos, "expected a step number after '/', found " + found(f, pos));
                int64_t n = number(f, pos);
                if (n < 1 || n > spec.span)
                    fail(base + at, "step " + std::string(f.substr(at, pos - at)) +
                                        " out of range " + range_text(1, spec.span));
                step = static_cast<int>(n);
                if (single) hi = spec.max;  // "5/15" is "5-59/15", as in cronie
            }
            for (int v = lo; v <= hi; v += step) out.bits |= uint64_t{1} << v;
            if (pos == f.size()) break;
            if (f[pos] != ',')
                fail(base + pos, "unexpected " + found(f, pos) + " in the " +
                                     std::string(spec.name) +
                                     " field (expected ',' or a space after " +
                                     std::string(f.substr(item, pos - item)) + ")");
            ++pos;
        }
        return out;
    }

private:
    static std::string found(std::string_view f, size_t pos) {
        return pos < f.size() ? "'" + std::string(1, f[pos]) + "'" : "the end of the field";
    }

    static int64_t number(std::string_view f, size_t& pos) {
        int64_t n = 0;
        while (pos < f.size() && is_digit(f[pos])) {
            n = std::min<int64_t>(n * 10 + (f[pos] - '0'), 1'000'000);
            ++pos;
        }
        return n;
    }

    // A number or (month, day-of-week) a three-letter name, checked against the range.
    int value(const FieldSpec& spec, std::string_view f, size_t base, size_t& pos,
              const char* where) const {
        const std::string name(spec.name);
        const std::string range = range_text(spec.min, spec.max);
        const size_t start = pos;
        if (pos < f.size() && is_digit(f[pos])) {
            int64_t n = number(f, pos);
            if (n < spec.min || n > spec.max)
                fail(base + start, name + " " + std::string(f.substr(start, pos - start)) +
                                       " out of range " + range);
            return static_cast<int>(n);
        }
        if (pos < f.size() && is_alpha(f[pos])) {
            while (pos < f.size() && is_alpha(f[pos])) ++pos;
            const std::string word(f.substr(start, pos - start));
            if (spec.names == nullptr)
                fail(base + start, "expected a number " + range + " for the " + name + where +
                                       ", found '" + word + "'");
            const std::string key = lower(word);
            for (int i = 0; i < spec.name_count; ++i)
                if (spec.names[i] == key) return spec.min + i;
            fail(base + start, "unknown " + name + " name '" + word + "' (expected " +
                                   std::string(spec.names[0]) + "-" +
                                   std::string(spec.names[spec.name_count - 1]) + " or " + range +
                                   ")");
        }
        if (pos < f.size() && f[pos] == '?')
            fail(base + pos, "'?' is not supported (Quartz syntax); use '*'");
        fail(base + pos, "expected " + std::string(*where == '\0' ? "'*' or " : "") + "a number " +
                             range + " for the " + name + where + ", found " + found(f, pos));
    }

    std::string_view text_;
};

// Field text for describe(): ranges of three or more, "a-b/s" for a longer progression.
std::string format_values(uint64_t bits, int min, int max) {
    std::vector<int> v;
    for (int i = min; i <= max; ++i)
        if (has_bit(bits, i)) v.push_back(i);
    if (v.size() >= 4) {
        const int step = v[1] - v[0];
        bool even = step > 1;
        for (size_t i = 2; even && i < v.size(); ++i) even = v[i] - v[i - 1] == step;
        if (even) {
            const int end = v.back() + step > max ? max : v.back();
            return std::to_string(v.front()) + "-" + std::to_string(end) + "/" +
                   std::to_string(step);
        }
    }
    std::string out;
    for (size_t i = 0; i < v.size();) {
        size_t j = i;
        while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
        if (!out.empty()) out += ",";
        if (j - i >= 2) {
            out += std::to_string(v[i]) + "-" + std::to_string(v[j]);
            i = j + 1;
        } else {
            out += std::to_string(v[i]);
            ++i;
        }
    }
    return out;
}

// A day field that starts with '*' must be written with '*' again, or the day rule changes;
// one that does not must not be.
std::string format_day_field(uint64_t bits, int min, int max, bool star) {
    if (star) {
        for (int step = 1; step <= max - min + 1; ++step) {
            const uint64_t p = progression(min, max, step);
            if ((bits & p) != p) continue;
            std::string out = step == 1 ? "*" : "*/" + std::to_string(step);
            if (const uint64_t rest = bits & ~p; rest != 0)
                out += "," + format_values(rest, min, max);
            return out;
        }
    }
    return format_values(bits, min, max);
}

// Other fields read best as "*" or "*/s" when that is exactly what they hold.
std::string format_field(uint64_t bits, int min, int max) {
    for (int step = 1; step <= max - min + 1; ++step) {
        if (bits != progression(min, max, step)) continue;
        if (step == 1) return "*";
        if (std::popcount(bits) >= 2) return "*/" + std::to_string(step);
    }
    return format_values(bits, min, max);
}

// A wall-clock minute that moves forward field by field.
struct Cursor {
    int year;
    int month;
    int day;
    int hour;
    int minute;

    void next_day() {
        hour = 0;
        minute = 0;
        if (++day > detail::days_in_month(year, month)) {
            day = 1;
            if (++month > 12) {
                month = 1;
                ++year;
            }
        }
    }
    void next_month(uint64_t months) {
        day = 1;
        hour = 0;
        minute = 0;
        int m = next_bit(months, month + 1, 12);
        if (m < 0) {
            ++year;
            m = next_bit(months, 1, 12);
        }
        month = m;
    }
    void next_hour(uint64_t hours) {
        minute = 0;
        int h = next_bit(hours, hour + 1, 23);
        if (h < 0) {
            next_day();
        } else {
            hour = h;
        }
    }
    void next_minute(uint64_t minutes) {
        int m = next_bit(minutes, minute + 1, 59);
        if (m >= 0) {
            minute = m;
            return;
        }
        minute = 0;
        if (++hour > 23) next_day();
    }
};

}  // namespace

CronSchedule CronSchedule::parse(std::string_view expression) {
    const Parser parser(expression);
    const std::vector<Token> tokens = parser.split();
    if (tokens.empty())
        parser.fail(0, "empty expression; expected 5 fields (" + std::string(kFieldList) +
                           ") or a macro such as @daily");

    CronSchedule s;
    s.expression_ = std::string(expression);
    std::vector<Token> fields = tokens;
    std::string macro_fields;
    if (tokens[0].text.front() == '@') {
        const std::string name = lower(tokens[0].text);
        const Macro* macro = nullptr;
        for (const Macro& m : kMacros)
            if (m.name == name) macro = &m;
        if (macro == nullptr) {
            if (name == "@reboot")
                parser.fail(tokens[0].offset,
                            "@reboot is not supported: a schedule needs "
                            "fire times; use a systemd unit instead");
            std::vector<std::string> names;
            for (const Macro& m : kMacros) names.emplace_back(m.name);
            std::string reason = "unknown macro '" + std::string(tokens[0].text) + "'";
            if (auto guess = closest_match(name, names))
                reason += " (did you mean " + *guess + "?)";
            parser.fail(tokens[0].offset, reason +
                                              "; expected @hourly, @daily, @midnight, "
                                              "@weekly, @monthly, @yearly or @annually");
        }
        if (tokens.size() > 1)
            parser.fail(tokens[1].offset,
                        "unexpected text after " + name + " (a macro stands alone)");
        macro_fields = std::string(macro->fields);
        fields = Parser(macro_fields).split();
    } else if (tokens.size() < 5) {
        const Token& last = tokens.back();
        parser.fail(last.offset + last.text.size(),
                    "missing " + std::string(kFields[tokens.size()].name) + " field (" +
                        std::to_string(tokens.size()) + " of 5 fields: " + std::string(kFieldList) +
                        ")");
    } else if (tokens.size() > 5) {
        parser.fail(tokens[5].offset, "unexpected 6th field '" + std::string(tokens[5].text) +
                                          "': a cron "
                                          "expression has 5 fields (" +
                                          std::string(kFieldList) +
                                          "); seconds, years and commands are not supported");
    }

    const Parser& field_parser = macro_fields.empty() ? parser : Parser(macro_fields);
    ParsedField f[5];
    for (int i = 0; i < 5; ++i) f[i] = field_parser.field(kFields[i], fields[i]);
    s.minutes_ = f[0].bits;
    s.hours_ = static_cast<uint32_t>(f[1].bits);
    s.days_of_month_ = static_cast<uint32_t>(f[2].bits);
    s.months_ = static_cast<uint32_t>(f[3].bits);
    // Day 7 is another Sunday.
    s.days_of_week_ = static_cast<uint32_t>((f[4].bits | (f[4].bits >> 7)) & 0x7f);
    s.dom_star_ = f[2].star;
    s.dow_star_ = f[4].star;

    // Both day fields restricted: some weekday always matches. Otherwise a day needs a real
    // (month, day-of-month) pair; every such date falls on each weekday in some year.
    s.can_fire_ = !s.dom_star_ && !s.dow_star_;
    for (int m = 1; m <= 12 && !s.can_fire_; ++m) {
        if (!has_bit(s.months_, m)) continue;
        const int longest = m == 2 ? 29 : detail::days_in_month(2001, m);
        s.can_fire_ = next_bit(s.days_of_month_, 1, longest) >= 0;
    }
    return s;
}

std::string CronSchedule::describe() const {
    return format_field(minutes_, 0, 59) + " " + format_field(hours_, 0, 23) + " " +
           format_day_field(days_of_month_, 1, 31, dom_star_) + " " + format_field(months_, 1, 12) +
           " " + format_day_field(days_of_week_, 0, 6, dow_star_);
}

bool CronSchedule::day_matches(int64_t year, int month, int day) const noexcept {
    const bool dom = has_bit(days_of_month_, day);
    const bool dow = has_bit(days_of_week_,
                             detail::weekday_from_days(detail::days_from_civil(year, month, day)));
    // Vixie cron: either field starting with '*' makes the rule "both"; else "either".
    return (dom_star_ || dow_star_) ? (dom && dow) : (dom || dow);
}

bool CronSchedule::matches(const LocalDateTime& local) const noexcept {
    return local.is_valid() && has_bit(minutes_, local.minute) && has_bit(hours_, local.hour) &&
           has_bit(months_, local.month) && day_matches(local.year, local.month, local.day);
}

std::optional<sys_seconds> CronSchedule::next_after(sys_seconds t, const TimeZone& zone) const {
    if (!can_fire_ || t < TimeZone::kMinInstant || t >= TimeZone::kMaxInstant) return std::nullopt;
    const LocalDateTime now = zone.to_local(t);
    Cursor c{now.year, now.month, now.day, now.hour, now.minute};
    if (++c.minute > 59) {  // the first whole wall-clock minute after `now`
        c.minute = 0;
        if (++c.hour > 23) c.next_day();
    }
    const int last_year = std::min(now.year + kSearchHorizonYears, 9999);
    // Skip by field: a month, then a day, an hour, a minute that cannot match. Only a fully
    // matching minute is mapped to an instant, so a year costs a few hundred steps at most.
    while (c.year <= last_year) {
        if (!has_bit(months_, c.month)) {
            c.next_month(months_);
        } else if (!day_matches(c.year, c.month, c.day)) {
            c.next_day();
        } else if (!has_bit(hours_, c.hour)) {
            c.next_hour(hours_);
        } else if (!has_bit(minutes_, c.minute)) {
            c.next_minute(minutes_);
        } else {
            const LocalMapping m = zone.from_local({c.year, c.month, c.day, c.hour, c.minute, 0});
            // `first` is the instant after a gap, or the first of a repeated time. It is at
            // or before `t` only for a time repeated after `t`'s first occurrence: skip it.
            if (m.first > t) {
                if (m.first > TimeZone::kMaxInstant) return std::nullopt;
                return m.first;
            }
            c.next_minute(minutes_);
        }
    }
    return std::nullopt;
}

std::vector<sys_seconds> CronSchedule::fire_times_between(sys_seconds after, sys_seconds until,
                                                          const TimeZone& zone,
                                                          std::size_t cap) const {
    std::vector<sys_seconds> out;
    std::optional<sys_seconds> next = after;
    while (out.size() < cap && (next = next_after(*next, zone)) && *next <= until)
        out.push_back(*next);
    return out;
}

bool operator==(const CronSchedule& a, const CronSchedule& b) noexcept {
    return a.minutes_ == b.minutes_ && a.hours_ == b.hours_ &&
           a.days_of_month_ == b.days_of_month_ && a.months_ == b.months_ &&
           a.days_of_week_ == b.days_of_week_ && a.dom_star_ == b.dom_star_ &&
           a.dow_star_ == b.dow_star_;
}

}  // namespace artistsaid::schedule
