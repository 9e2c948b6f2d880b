#include "engine/schedule/detail/posix_tz.hpp"

#include <algorithm>
#include <array>

#include "engine/schedule/detail/civil.hpp"

namespace artistsaid::schedule::detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// A small cursor over the TZ string; every reader returns false (and may leave the cursor
// anywhere) when the text does not fit, and the caller gives up on the whole string.
class Reader {
public:
    explicit Reader(std::string_view text) : text_(text) {}

    bool at_end() const { return pos_ == text_.size(); }
    bool accept(char c) {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool peek_is(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

    // "ABC" (3+ letters) or "<+0330>" (3+ of letters, digits, '+', '-').
    bool abbreviation(std::string& out) {
        size_t start = pos_;
        if (accept('<')) {
            start = pos_;
            while (pos_ < text_.size() && text_[pos_] != '>') {
                char c = text_[pos_];
                if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-') return false;
                ++pos_;
            }
            if (pos_ - start < 3 || !accept('>')) return false;
            out.assign(text_.substr(start, pos_ - 1 - start));
            return true;
        }
        while (pos_ < text_.size() && is_alpha(text_[pos_])) ++pos_;
        if (pos_ - start < 3) return false;
        out.assign(text_.substr(start, pos_ - start));
        return true;
    }

    bool number(int max_digits, int64_t& out) {
        if (pos_ >= text_.size() || !is_digit(text_[pos_])) return false;
        out = 0;
        int digits = 0;
        while (pos_ < text_.size() && is_digit(text_[pos_])) {
            if (++digits > max_digits) return false;
            out = out * 10 + (text_[pos_++] - '0');
        }
        return true;
    }

    // [+-]hh[:mm[:ss]] with hh at most `max_hours`; the result keeps the written sign.
    bool hms(int64_t max_hours, int32_t& out) {
        int64_t sign = 1;
        if (accept('-')) {
            sign = -1;
        } else {
            accept('+');
        }
        int64_t h = 0;
        int64_t m = 0;
        int64_t s = 0;
        if (!number(3, h) || h > max_hours) return false;
        if (accept(':')) {
            if (!number(2, m) || m > 59) return false;
            if (accept(':') && (!number(2, s) || s > 59)) return false;
        }
        out = static_cast<int32_t>(sign * (h * 3600 + m * 60 + s));
        return true;
    }

    bool date(PosixTzDate& out) {
        int64_t a = 0;
        int64_t b = 0;
        int64_t c = 0;
        if (accept('J')) {
            if (!number(3, a) || a < 1 || a > 365) return false;
            out.kind = PosixTzDate::Kind::kJulianNoLeap;
            out.day = static_cast<int>(a);
        } else if (accept('M')) {
            if (!number(2, a) || a < 1 || a > 12 || !accept('.') || !number(1, b) || b < 1 ||
                b > 5 || !accept('.') || !number(1, c) || c > 6)
                return false;
            out.kind = PosixTzDate::Kind::kMonthWeekDay;
            out.month = static_cast<int>(a);
            out.week = static_cast<int>(b);
            out.day = static_cast<int>(c);
        } else {
            if (!number(3, a) || a > 365) return false;
            out.kind = PosixTzDate::Kind::kZeroBased;
            out.day = static_cast<int>(a);
        }
        out.time = 7200;
        // RFC 8536 3.3.1: hours may range over -167..167 in rule times.
        return !accept('/') || hms(167, out.time);
    }

private:
    std::string_view text_;
    size_t pos_ = 0;
};

}  // namespace

int64_t PosixTzDate::day_in(int64_t year) const {
    const int64_t jan1 = days_from_civil(year, 1, 1);
    switch (kind) {
        case Kind::kJulianNoLeap:
            return jan1 + (day - 1) + (is_leap_year(year) && day >= 60 ? 1 : 0);
        case Kind::kZeroBased:
            return jan1 + day;
        case Kind::kMonthWeekDay:
            break;
    }
    const int64_t first = days_from_civil(year, month, 1);
    int64_t result = first + floor_mod(day - weekday_from_days(first), 7) + 7 * int64_t{week - 1};
    while (result >= first + days_in_month(year, month)) result -= 7;  // week 5 = "last"
    return result;
}

int64_t PosixTz::dst_start_in(int64_t year) const {
    return dst->start.day_in(year) * kSecondsPerDay + dst->start.time - std_offset;
}

int64_t PosixTz::dst_end_in(int64_t year) const {
    return dst->end.day_in(year) * kSecondsPerDay + dst->end.time - dst->offset;
}

PosixTz::State PosixTz::state_at(int64_t t) const {
    if (!dst) return {std_offset, false};
    // The changes of the years around t, in order; the last one at or before t decides. At
    // equal instants the start of daylight time sorts last, so "0/0,J365/25" (daylight time
    // all year, RFC 8536 3.3.1) stays in daylight time across the new year.
    struct Change {
        int64_t at;
        bool to_dst;
    };
    std::array<Change, 8> changes{};
    const int64_t year = civil_from_days(floor_div(t, kSecondsPerDay)).year;
    size_t n = 0;
    for (int64_t y = year - 2; y <= year + 1; ++y) {
        changes[n++] = {dst_start_in(y), true};
        changes[n++] = {dst_end_in(y), false};
    }
    std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
        return a.at != b.at ? a.at < b.at : (!a.to_dst && b.to_dst);
    });
    State state{std_offset, false};
    for (const Change& c : changes) {
        if (c.at > t) break;
        state = c.to_dst ? State{dst->offset, true} : State{std_offset, false};
    }
    return state;
}

std::optional<PosixTz> parse_posix_tz(std::string_view text) {
    Reader r(text);
    PosixTz tz;
    int32_t west = 0;
    // POSIX offsets are hours west of UTC: "CET-1" is one hour east.
    if (!r.abbreviation(tz.std_abbreviation) || !r.hms(24, west)) return std::nullopt;
    tz.std_offset = -west;
    if (r.at_end()) return tz;
    PosixTz::Dst dst;
    if (!r.abbreviation(dst.abbreviation)) return std::nullopt;
    dst.offset = tz.std_offset + 3600;
    if (!r.peek_is(',')) {
        if (!r.hms(24, west)) return std::nullopt;
        dst.offset = -west;
    }
    // A footer with daylight time always carries its rule; POSIX's implementation-defined
    // default rule is not something a TZif file may rely on, so it is refused.
    if (!r.accept(',') || !r.date(dst.start) || !r.accept(',') || !r.date(dst.end) || !r.at_end())
        return std::nullopt;
    tz.dst = std::move(dst);
    return tz;
}

}  // namespace artistsaid::schedule::detail
