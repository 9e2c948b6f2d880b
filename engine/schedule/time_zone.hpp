// TimeZone: an IANA time zone ("Europe/Berlin") read from the system's tzdata, and the
// conversions a schedule needs between instants and wall-clock times — in integers, without
// the process-wide TZ variable and localtime() (neither is thread-safe). libstdc++ 12 has no
// C++20 tzdb, so the TZif files are read here (RFC 8536, versions 1-4, including the footer's
// POSIX TZ rule for instants after the file's last transition).
#pragma once

#include <chrono>
#include <compare>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace artistsaid::schedule {

namespace detail {
struct ZoneData;  // a name and its ZoneRules; defined in time_zone.cpp
}

/// A date and time on a wall clock, without a zone (what a cron expression matches).
/// Fields are plain integers; is_valid() says whether they name a real calendar time.
struct LocalDateTime {
    int year = 1970;  // 1-9999
    int month = 1;    // 1-12
    int day = 1;      // 1-31, within the month
    int hour = 0;     // 0-23
    int minute = 0;   // 0-59
    int second = 0;   // 0-59

    bool is_valid() const noexcept;
    /// 0 = Sunday … 6 = Saturday. Requires is_valid().
    int weekday() const noexcept;
    /// "2026-03-29T02:30:00".
    std::string to_string() const;

    friend auto operator<=>(const LocalDateTime&, const LocalDateTime&) = default;
};

/// How one wall-clock time maps to instants in one zone.
struct LocalMapping {
    enum class Kind {
        kUnique,       // shown by exactly one instant
        kNonexistent,  // skipped by a forward change (spring forward)
        kAmbiguous,    // shown twice by a backward change (fall back)
    };
    Kind kind = Kind::kUnique;
    /// kUnique: the instant. kNonexistent: the first instant after the gap (the instant of
    /// the change, e.g. 03:00 CEST for 02:30 on the night Berlin springs forward).
    /// kAmbiguous: the earlier of the two instants.
    std::chrono::sys_seconds first;
    /// kAmbiguous: the later instant; otherwise equal to `first`.
    std::chrono::sys_seconds second;
};

/// An IANA time zone. A cheap, copyable handle to immutable rules: any number of threads
/// may use one TimeZone (or copies of it) at once. load() is thread-safe and caches every
/// zone it has read for the life of the process (keyed by directory and name; a few hundred
/// zones at most), so a zone's file is read once.
///
/// Conversions are exact integer arithmetic over instants from kMinInstant to kMaxInstant
/// (years 0001-9999 on every wall clock); outside that range they throw InputError.
class TimeZone {
public:
    static constexpr std::chrono::sys_seconds kMinInstant{
        std::chrono::sys_days{std::chrono::year{1} / 1 / 3}};
    static constexpr std::chrono::sys_seconds kMaxInstant{
        std::chrono::sys_days{std::chrono::year{9999} / 12 / 30} - std::chrono::seconds{1}};

    /// The zone `name` from $TZDIR (default /usr/share/zoneinfo). "UTC" is built in and so
    /// works without tzdata. Throws InputError: kInvalidInput for a malformed name ("..",
    /// an absolute path, a hidden file) or an unusable file, kNotFound for an unknown zone,
    /// with a did-you-mean suggestion ("Europe/Berln", "berlin", "New York").
    static TimeZone load(std::string_view name);

    /// Coordinated Universal Time; needs no files.
    static TimeZone utc();

    /// A zone from the bytes of a TZif file (tzdata shipped elsewhere; tests). Not cached.
    static TimeZone from_tzif(std::string name, std::string_view data);

    /// Every zone name under $TZDIR, sorted (without the posix/ and right/ copies).
    static std::vector<std::string> available_names();

    /// $TZDIR if set and not empty, else /usr/share/zoneinfo.
    static std::string zoneinfo_directory();

    const std::string& name() const noexcept;

    /// Seconds east of UTC in effect at `t` (3600 for CET, 7200 for CEST).
    std::chrono::seconds offset_at(std::chrono::sys_seconds t) const;
    /// "CET", "CEST", "+1030", "UTC".
    std::string abbreviation_at(std::chrono::sys_seconds t) const;
    bool is_dst_at(std::chrono::sys_seconds t) const;

    LocalDateTime to_local(std::chrono::sys_seconds t) const;
    /// Throws InputError if `local` is not a valid date-time (see LocalDateTime::is_valid).
    LocalMapping from_local(const LocalDateTime& local) const;

private:
    explicit TimeZone(std::shared_ptr<const detail::ZoneData> data) : data_(std::move(data)) {}
    static void check_range(std::chrono::sys_seconds t);

    std::shared_ptr<const detail::ZoneData> data_;
};

}  // namespace artistsaid::schedule
