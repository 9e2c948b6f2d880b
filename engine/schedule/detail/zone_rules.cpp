#include "engine/schedule/detail/zone_rules.hpp"

#include <algorithm>
#include <limits>

#include "engine/core/error.hpp"
#include "engine/schedule/detail/civil.hpp"

namespace artistsaid::schedule::detail {
namespace {

// Footer rules are evaluated on instants clamped to about ±34,800 years, which keeps every
// intermediate value far inside int64_t; TimeZone only asks about years 0001-9999 anyway.
constexpr int64_t kClamp = int64_t{1} << 40;

// Transition times beyond ±2^62 s are refused, so `at - 1` and `at + 1` never overflow.
constexpr int64_t kTimeLimit = int64_t{1} << 62;

int64_t clamp(int64_t t) { return std::clamp(t, -kClamp, kClamp); }

int64_t year_of(int64_t t) { return civil_from_days(floor_div(t, kSecondsPerDay)).year; }

[[noreturn]] void bad_file(std::string_view name, const std::string& why) {
    throw InputError("time zone '" + std::string(name) + "': not a usable TZif file (" + why + ")");
}

// Big-endian reads over the file; `need` fails the whole parse when the data ends early.
class ByteReader {
public:
    ByteReader(std::string_view name, std::string_view data) : name_(name), data_(data) {}

    void need(uint64_t n) const {
        if (n > data_.size() - pos_) bad_file(name_, "truncated");
    }
    std::string_view take(uint64_t n) {
        need(n);
        std::string_view out = data_.substr(pos_, n);
        pos_ += n;
        return out;
    }
    uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
    uint32_t u32() {
        std::string_view b = take(4);
        uint32_t v = 0;
        for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
        return v;
    }
    int64_t i64() {
        std::string_view b = take(8);
        uint64_t v = 0;
        for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
        return static_cast<int64_t>(v);  // two's complement, as RFC 8536 stores it
    }
    int64_t i32() { return static_cast<int32_t>(u32()); }
    std::string_view rest() { return take(data_.size() - pos_); }

private:
    std::string_view name_;
    std::string_view data_;
    size_t pos_ = 0;
};

struct Header {
    char version = 0;
    uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

    uint64_t block_size(int time_size) const {
        return uint64_t{timecnt} * time_size + timecnt + uint64_t{typecnt} * 6 + charcnt +
               uint64_t{leapcnt} * (time_size + 4) + isstdcnt + isutcnt;
    }
};

Header read_header(std::string_view name, ByteReader& in) {
    if (in.take(4) != "TZif") bad_file(name, "no TZif magic");
    Header h;
    h.version = static_cast<char>(in.u8());
    if (h.version != 0 && h.version != '2' && h.version != '3' && h.version != '4')
        bad_file(name, "unknown version");
    in.take(15);
    h.isutcnt = in.u32();
    h.isstdcnt = in.u32();
    h.leapcnt = in.u32();
    h.timecnt = in.u32();
    h.typecnt = in.u32();
    h.charcnt = in.u32();
    if (h.typecnt == 0 || h.charcnt == 0) bad_file(name, "no local time types");
    if ((h.isutcnt != 0 && h.isutcnt != h.typecnt) || (h.isstdcnt != 0 && h.isstdcnt != h.typecnt))
        bad_file(name, "inconsistent counts");
    // Our instants are POSIX seconds; a file with leap seconds counts differently.
    if (h.leapcnt != 0) bad_file(name, "leap-second zones (right/...) are not supported");
    return h;
}

}  // namespace

ZoneRules::ZoneRules(std::vector<int64_t> times, std::vector<uint8_t> type_indexes,
                     std::vector<LocalTimeType> types, std::optional<PosixTz> footer)
    : times_(std::move(times)),
      type_indexes_(std::move(type_indexes)),
      types_(std::move(types)),
      footer_(std::move(footer)) {}

ZoneRules ZoneRules::fixed(int32_t offset, std::string abbreviation) {
    return ZoneRules({}, {}, {LocalTimeType{offset, false, std::move(abbreviation)}}, std::nullopt);
}

ZonePeriod ZoneRules::period_at(int64_t t) const {
    // RFC 8536: the first type before the first transition, the footer from the last one on.
    if (footer_ && (times_.empty() || t >= times_.back())) {
        PosixTz::State s = footer_->state_at(clamp(t));
        return {s.offset, s.is_dst,
                s.is_dst ? footer_->dst->abbreviation : footer_->std_abbreviation};
    }
    const LocalTimeType* type = &types_.front();
    auto it = std::upper_bound(times_.begin(), times_.end(), t);
    if (it != times_.begin()) type = &types_[type_indexes_[it - times_.begin() - 1]];
    return {type->offset, type->is_dst, type->abbreviation};
}

std::vector<OffsetChange> ZoneRules::changes_between(int64_t from, int64_t to) const {
    std::vector<OffsetChange> out;
    auto add = [&](int64_t at) {
        int32_t before = period_at(at - 1).offset;
        int32_t after = period_at(at).offset;
        if (before != after) out.push_back({at, before, after});
    };
    for (auto it = std::lower_bound(times_.begin(), times_.end(), from);
         it != times_.end() && *it <= to; ++it)
        add(*it);
    if (footer_ && footer_->dst) {
        int64_t lower = clamp(times_.empty() ? from : std::max(from, times_.back() + 1));
        int64_t upper = clamp(to);
        std::vector<int64_t> ats;
        for (int64_t y = year_of(lower) - 1; lower <= upper && y <= year_of(upper) + 1; ++y) {
            for (int64_t at : {footer_->dst_start_in(y), footer_->dst_end_in(y)})
                if (at >= lower && at <= upper) ats.push_back(at);
        }
        std::sort(ats.begin(), ats.end());
        ats.erase(std::unique(ats.begin(), ats.end()), ats.end());
        for (int64_t at : ats) add(at);
    }
    return out;
}

LocalResolution ZoneRules::resolve_local(int64_t local) const {
    // Any instant that shows `local` lies within kMaxOffset of it. Walk the stretches of
    // constant offset there and keep each instant whose own stretch shows `local`.
    const int64_t lo = local - kMaxOffset - 1;
    const int64_t hi = local + kMaxOffset + 1;
    std::vector<OffsetChange> changes = changes_between(lo, hi);
    std::vector<int64_t> found;
    int64_t start = lo;
    int32_t offset = period_at(lo).offset;
    auto consider = [&](int64_t end) {
        int64_t u = local - offset;
        if (u >= start && u < end) found.push_back(u);
    };
    for (const OffsetChange& c : changes) {
        consider(c.at);
        start = c.at;
        offset = c.after;
    }
    consider(hi + 1);
    if (found.size() == 1) return {LocalResolution::Kind::kUnique, found[0], found[0]};
    if (found.size() > 1) return {LocalResolution::Kind::kAmbiguous, found.front(), found.back()};
    // Not shown by any instant: it lies in the gap a forward change leaves on the wall
    // clock; the first instant after the gap is the change itself.
    for (const OffsetChange& c : changes) {
        if (local >= c.at + c.before && local < c.at + c.after)
            return {LocalResolution::Kind::kNonexistent, c.at, c.at};
    }
    throw Error(ErrorCode::kInternal, "time zone rules: local time in no stretch and no gap");
}

ZoneRules parse_tzif(std::string_view name, std::string_view data) {
    ByteReader in(name, data);
    Header h = read_header(name, in);
    int time_size = 4;
    if (h.version != 0) {
        // Skip the 32-bit data; the 64-bit copy after the second header is the full one.
        in.take(h.block_size(4));
        h = read_header(name, in);
        time_size = 8;
    }
    in.need(h.block_size(time_size));

    std::vector<int64_t> times(h.timecnt);
    for (auto& t : times) {
        t = time_size == 8 ? in.i64() : in.i32();
        // RFC 8536 suggests nothing before -2^59; anything near the int64_t ends is damage.
        if (t < -kTimeLimit || t > kTimeLimit) bad_file(name, "transition time out of range");
    }
    for (size_t i = 1; i < times.size(); ++i)
        if (times[i] <= times[i - 1]) bad_file(name, "transition times out of order");
    std::vector<uint8_t> indexes(h.timecnt);
    for (auto& i : indexes) {
        i = in.u8();
        if (i >= h.typecnt) bad_file(name, "transition to an unknown type");
    }
    struct RawType {
        int64_t offset;
        uint8_t is_dst;
        uint8_t abbreviation;
    };
    std::vector<RawType> raw(h.typecnt);
    for (auto& r : raw) {
        r.offset = in.i32();
        r.is_dst = in.u8();
        r.abbreviation = in.u8();
    }
    std::string_view chars = in.take(h.charcnt);
    std::vector<LocalTimeType> types;
    for (const RawType& r : raw) {
        if (r.offset < -kMaxOffset || r.offset > kMaxOffset) bad_file(name, "offset out of range");
        if (r.is_dst > 1 || r.abbreviation >= chars.size()) bad_file(name, "bad local time type");
        size_t end = chars.find('\0', r.abbreviation);
        if (end == std::string_view::npos) bad_file(name, "unterminated abbreviation");
        types.push_back({static_cast<int32_t>(r.offset), r.is_dst == 1,
                         std::string(chars.substr(r.abbreviation, end - r.abbreviation))});
    }
    in.take(uint64_t{h.isstdcnt} + h.isutcnt);  // only matter for POSIX-style "posixrules"

    std::optional<PosixTz> footer;
    if (time_size == 8) {
        std::string_view rest = in.rest();
        if (rest.size() < 2 || rest.front() != '\n' || rest.back() != '\n' ||
            rest.substr(1, rest.size() - 2).find('\n') != std::string_view::npos)
            bad_file(name, "missing footer");
        std::string_view tz = rest.substr(1, rest.size() - 2);
        if (!tz.empty()) {
            footer = parse_posix_tz(tz);
            if (!footer) bad_file(name, "unsupported TZ string '" + std::string(tz) + "'");
        }
    }
    return ZoneRules(std::move(times), std::move(indexes), std::move(types), std::move(footer));
}

}  // namespace artistsaid::schedule::detail
