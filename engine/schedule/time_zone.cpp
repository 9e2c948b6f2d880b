#include "engine/schedule/time_zone.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>

#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/schedule/detail/civil.hpp"
#include "engine/schedule/detail/zone_rules.hpp"

namespace artistsaid::schedule {

using std::chrono::seconds;
using std::chrono::sys_seconds;

struct detail::ZoneData {
    std::string name;
    detail::ZoneRules rules;
};

namespace {

constexpr std::string_view kDefaultZoneinfo = "/usr/share/zoneinfo";
// Zone files are a few kilobytes; anything this large is not one.
constexpr std::uintmax_t kMaxZoneFileBytes = 1 << 20;
// Files in the zoneinfo directory that are TZif but not zone names.
constexpr std::string_view kNotZones[] = {"localtime", "posixrules"};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

// A name that stays inside the zoneinfo directory: relative, no empty component, no
// component starting with '.' (so no "..", no hidden files), no backslash or NUL.
bool is_contained_path(std::string_view name) {
    if (name.empty() || name.size() > 255) return false;
    size_t start = 0;
    while (true) {
        const size_t end = name.find('/', start);
        const std::string_view part =
            name.substr(start, end == std::string_view::npos ? end : end - start);
        if (part.empty() || part.front() == '.') return false;
        if (part.find_first_of(std::string_view("\\\0", 2)) != std::string_view::npos) return false;
        if (end == std::string_view::npos) return true;
        start = end + 1;
    }
}

// IANA names use letters, digits and "/._+-" only ("America/Port-au-Prince", "Etc/GMT+5").
bool is_zone_name(std::string_view name) {
    if (!is_contained_path(name)) return false;
    for (char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '+' || c == '-' ||
                        c == '.';
        if (!ok) return false;
    }
    return std::find(std::begin(kNotZones), std::end(kNotZones), name) == std::end(kNotZones);
}

// The whole file if it is a regular file starting with the TZif magic; nullopt otherwise.
std::optional<std::string> read_tzif_file(const std::filesystem::path& path, bool header_only) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    auto size = std::filesystem::file_size(path, ec);
    if (ec || size < 4 || size > kMaxZoneFileBytes) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    std::string data(header_only ? 4 : size, '\0');
    if (!in.read(data.data(), static_cast<std::streamsize>(data.size()))) return std::nullopt;
    if (data.compare(0, 4, "TZif") != 0) return std::nullopt;
    return data;
}

std::vector<std::string> zone_names_in(const std::string& dir) {
    namespace fs = std::filesystem;
    std::vector<std::string> names = {"UTC"};
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::string rel = it->path().lexically_relative(dir).generic_string();
        if (it.depth() == 0 && (rel == "posix" || rel == "right")) {
            it.disable_recursion_pending();  // copies of the same zones (right/: leap seconds)
            continue;
        }
        if (is_zone_name(rel) && read_tzif_file(it->path(), true)) names.push_back(rel);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

std::optional<std::string> suggest_zone(std::string_view name,
                                        const std::vector<std::string>& names) {
    for (const auto& n : names)
        if (equal_ignoring_case(n, name)) return n;
    // "Berlin", "new york": the city without its region.
    if (name.find('/') == std::string_view::npos) {
        std::string city(name);
        std::replace(city.begin(), city.end(), ' ', '_');
        for (const auto& n : names) {
            size_t slash = n.rfind('/');
            if (slash != std::string::npos &&
                equal_ignoring_case(std::string_view(n).substr(slash + 1), city))
                return n;
        }
    }
    return closest_match(name, names);
}

[[noreturn]] void unknown_zone(std::string_view name, const std::string& dir) {
    std::string message = "unknown time zone '" + std::string(name) + "'";
    if (auto s = suggest_zone(name, zone_names_in(dir))) {
        message += " (did you mean '" + *s + "'?)";
    } else {
        message += ": no such zone in " + dir + "; expected an IANA name such as Europe/Berlin";
    }
    throw InputError(message, ErrorCode::kNotFound);
}

struct Cache {
    std::mutex mutex;
    std::map<std::string, std::shared_ptr<const detail::ZoneData>, std::less<>> zones;
};

Cache& cache() {
    static Cache instance;
    return instance;
}

sys_seconds to_sys(int64_t t) { return sys_seconds{seconds{t}}; }

}  // namespace

bool LocalDateTime::is_valid() const noexcept {
    return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
           day <= detail::days_in_month(year, month) && hour >= 0 && hour <= 23 && minute >= 0 &&
           minute <= 59 && second >= 0 && second <= 59;
}

int LocalDateTime::weekday() const noexcept {
    return detail::weekday_from_days(detail::days_from_civil(year, month, day));
}

std::string LocalDateTime::to_string() const {
    char buffer[96];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hour,
                  minute, second);
    return buffer;
}

TimeZone TimeZone::utc() {
    static const auto data = std::make_shared<const detail::ZoneData>(
        detail::ZoneData{"UTC", detail::ZoneRules::fixed(0, "UTC")});
    return TimeZone(data);
}

std::string TimeZone::zoneinfo_directory() {
    const char* env = std::getenv("TZDIR");
    std::string dir = (env != nullptr && *env != '\0') ? env : std::string(kDefaultZoneinfo);
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir;
}

std::vector<std::string> TimeZone::available_names() { return zone_names_in(zoneinfo_directory()); }

TimeZone TimeZone::load(std::string_view name) {
    // The workflow default; always available, even on a machine without tzdata.
    if (name == "UTC") return utc();
    if (!is_contained_path(name) ||
        std::find(std::begin(kNotZones), std::end(kNotZones), name) != std::end(kNotZones))
        throw InputError("invalid time zone name '" + std::string(name) +
                         "': expected an IANA name such as Europe/Berlin or UTC");
    const std::string dir = zoneinfo_directory();
    // "New York": no such file can exist, but a suggestion still helps.
    if (!is_zone_name(name)) unknown_zone(name, dir);
    const std::string key = dir + '\n' + std::string(name);
    Cache& c = cache();
    {
        std::lock_guard lock(c.mutex);
        if (auto it = c.zones.find(key); it != c.zones.end()) return TimeZone(it->second);
    }
    // Read and parse outside the lock; if two threads race, the first to insert wins and
    // both return the same rules.
    auto bytes = read_tzif_file(std::filesystem::path(dir) / std::string(name), false);
    if (!bytes) unknown_zone(name, dir);
    auto data = std::make_shared<const detail::ZoneData>(
        detail::ZoneData{std::string(name), detail::parse_tzif(name, *bytes)});
    std::lock_guard lock(c.mutex);
    return TimeZone(c.zones.try_emplace(key, std::move(data)).first->second);
}

TimeZone TimeZone::from_tzif(std::string name, std::string_view data) {
    detail::ZoneRules rules = detail::parse_tzif(name, data);
    return TimeZone(std::make_shared<const detail::ZoneData>(
        detail::ZoneData{std::move(name), std::move(rules)}));
}

const std::string& TimeZone::name() const noexcept { return data_->name; }

void TimeZone::check_range(sys_seconds t) {
    if (t < kMinInstant || t > kMaxInstant)
        throw InputError("instant " + std::to_string(t.time_since_epoch().count()) +
                         " s is outside the supported range (0001-01-03 to 9999-12-29 UTC)");
}

seconds TimeZone::offset_at(sys_seconds t) const {
    check_range(t);
    return seconds{data_->rules.period_at(t.time_since_epoch().count()).offset};
}

std::string TimeZone::abbreviation_at(sys_seconds t) const {
    check_range(t);
    return std::string(data_->rules.period_at(t.time_since_epoch().count()).abbreviation);
}

bool TimeZone::is_dst_at(sys_seconds t) const {
    check_range(t);
    return data_->rules.period_at(t.time_since_epoch().count()).is_dst;
}

LocalDateTime TimeZone::to_local(sys_seconds t) const {
    check_range(t);
    const int64_t utc = t.time_since_epoch().count();
    const int64_t local = utc + data_->rules.period_at(utc).offset;
    const int64_t days = detail::floor_div(local, detail::kSecondsPerDay);
    const int64_t second_of_day = local - days * detail::kSecondsPerDay;
    const detail::CivilDate date = detail::civil_from_days(days);
    return {static_cast<int>(date.year),
            date.month,
            date.day,
            static_cast<int>(second_of_day / 3600),
            static_cast<int>(second_of_day / 60 % 60),
            static_cast<int>(second_of_day % 60)};
}

LocalMapping TimeZone::from_local(const LocalDateTime& local) const {
    if (!local.is_valid())
        throw InputError("invalid local date-time " + local.to_string() + " in time zone '" +
                         name() + "'");
    const int64_t seconds_local =
        detail::days_from_civil(local.year, local.month, local.day) * detail::kSecondsPerDay +
        int64_t{local.hour} * 3600 + int64_t{local.minute} * 60 + local.second;
    const detail::LocalResolution r = data_->rules.resolve_local(seconds_local);
    using Kind = LocalMapping::Kind;
    const Kind kind = r.kind == detail::LocalResolution::Kind::kUnique        ? Kind::kUnique
                      : r.kind == detail::LocalResolution::Kind::kNonexistent ? Kind::kNonexistent
                                                                              : Kind::kAmbiguous;
    return {kind, to_sys(r.first), to_sys(r.second)};
}

}  // namespace artistsaid::schedule
