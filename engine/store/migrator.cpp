#include "engine/store/migrator.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::store {
namespace {

// Any fixed 64-bit number works; it only has to be the same for every migrator.
constexpr long long kMigrationLockKey = 0x41724d6967724c6bLL;  // "ArMigrLk"

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("cannot read migration file " + path.string());
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

struct AppliedRow {
    std::string name;
    std::string checksum;
    std::string applied_at;
};

void ensure_table(pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now(),"
        " duration_ms integer NOT NULL)");
}

std::map<int, AppliedRow> read_applied(pqxx::connection& conn) {
    std::map<int, AppliedRow> applied;
    pqxx::read_transaction tx(conn);
    auto exists = tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (!exists[0].as<bool>()) return applied;
    auto rows = tx.exec(
        "SELECT version, name, checksum, "
        "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "FROM schema_migrations ORDER BY version");
    for (const auto& row : rows) {
        applied[row[0].as<int>()] =
            AppliedRow{row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>()};
    }
    return applied;
}

// Refuses to go on when an applied migration's file was edited afterwards: the database
// no longer matches what the files describe, and applying more would hide that.
void check_unchanged(const std::vector<MigrationFile>& files,
                     const std::map<int, AppliedRow>& applied) {
    for (const auto& file : files) {
        auto it = applied.find(file.version);
        if (it == applied.end()) continue;
        if (it->second.checksum != file.checksum) {
            throw InputError(
                "migration " + file.name + " was applied on " + it->second.applied_at +
                    " and its file has changed since (checksum " +
                    it->second.checksum.substr(0, 12) + "… recorded, " +
                    file.checksum.substr(0, 12) +
                    "… now). Released migrations must never be edited: restore the file and "
                    "put the change in a new migration (artistsaid migrate new NAME)",
                ErrorCode::kMigrationChanged);
        }
    }
}

}  // namespace

Migrator::Migrator(std::string database_url, std::filesystem::path directory,
                   std::chrono::seconds connect_timeout)
    : database_url_(std::move(database_url)),
      directory_(std::move(directory)),
      connect_timeout_(connect_timeout) {}

std::vector<MigrationFile> Migrator::files() const {
    if (!std::filesystem::is_directory(directory_))
        throw InputError("migrations directory " + directory_.string() + " does not exist");
    static const std::regex kName(R"(^(\d{4})_([a-z0-9_]+)\.sql$)");
    std::vector<MigrationFile> out;
    std::map<int, std::string> seen;
    for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
        if (!entry.is_regular_file()) continue;
        std::string name = entry.path().filename().string();
        if (entry.path().extension() != ".sql") continue;  // README.md and the like
        std::smatch match;
        if (!std::regex_match(name, match, kName))
            throw InputError("migration file " + name +
                             " is misnamed: expected NNNN_snake_case_name.sql");
        int version = std::stoi(match[1].str());
        if (version == 0) throw InputError("migration " + name + ": versions start at 0001");
        if (auto [it, fresh] = seen.emplace(version, name); !fresh)
            throw InputError("migrations " + it->second + " and " + name +
                             " have the same number " + match[1].str());
        MigrationFile file;
        file.version = version;
        file.name = name;
        file.path = entry.path();
        file.sql = read_file(entry.path());
        file.checksum = sha256_hex(file.sql);
        out.push_back(std::move(file));
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.version < b.version; });
    return out;
}

std::vector<MigrationStatus> Migrator::status() const {
    auto on_disk = files();
    auto conn = connect(database_url_, connect_timeout_);
    std::map<int, AppliedRow> applied;
    try {
        applied = read_applied(*conn);
    } catch (const std::exception&) {
        throw_from_pqxx("reading schema_migrations");
    }
    std::map<int, MigrationStatus> merged;
    for (const auto& f : on_disk) {
        MigrationStatus s;
        s.version = f.version;
        s.name = f.name;
        if (auto it = applied.find(f.version); it != applied.end()) {
            s.applied = true;
            s.applied_at = it->second.applied_at;
            s.changed = it->second.checksum != f.checksum;
        }
        merged[f.version] = std::move(s);
    }
    for (const auto& [version, row] : applied) {
        if (merged.count(version)) continue;
        MigrationStatus s;
        s.version = version;
        s.name = row.name;
        s.applied = true;
        s.applied_at = row.applied_at;
        s.missing = true;
        merged[version] = std::move(s);
    }
    std::vector<MigrationStatus> out;
    for (auto& [version, s] : merged) out.push_back(std::move(s));
    return out;
}

std::vector<MigrationFile> Migrator::up() const {
    auto on_disk = files();
    auto conn = connect(database_url_, connect_timeout_);
    std::vector<MigrationFile> done;
    try {
        pqxx::nontransaction(*conn).exec("SELECT pg_advisory_lock(" +
                                          std::to_string(kMigrationLockKey) + ")");
    } catch (const std::exception&) {
        throw_from_pqxx("waiting for the migration lock");
    }
    // The session lock is released when the connection closes, also on errors below.
    std::map<int, AppliedRow> applied;
    try {
        ensure_table(*conn);
        applied = read_applied(*conn);
    } catch (const std::exception&) {
        throw_from_pqxx("reading schema_migrations");
    }
    check_unchanged(on_disk, applied);
    for (const auto& file : on_disk) {
        if (applied.count(file.version)) continue;
        auto started = std::chrono::steady_clock::now();
        try {
            pqxx::work tx(*conn, "migrate");
            tx.exec(file.sql);
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
            tx.exec_params0(
                "INSERT INTO schema_migrations (version, name, checksum, duration_ms) "
                "VALUES ($1, $2, $3, $4)",
                file.version, file.name, file.checksum, static_cast<int>(ms));
            tx.commit();
        } catch (const std::exception&) {
            throw_from_pqxx("applying migration " + file.name +
                            " (rolled back; earlier migrations stay applied)");
        }
        done.push_back(file);
    }
    return done;
}

std::filesystem::path Migrator::create(const std::filesystem::path& directory,
                                       const std::string& name) {
    static const std::regex kSnake(R"(^[a-z][a-z0-9_]{0,62}$)");
    if (!std::regex_match(name, kSnake))
        throw InputError("migration name '" + name +
                         "' must be snake_case: lower-case letters, digits and '_', "
                         "starting with a letter");
    Migrator reader("", directory);
    auto existing = reader.files();
    int next = existing.empty() ? 1 : existing.back().version + 1;
    if (next > 9999) throw InputError("migration numbers are exhausted (9999)");
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%04d", next);
    auto path = directory / (std::string(prefix) + "_" + name + ".sql");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError("cannot create " + path.string());
    out << "-- " << path.filename().string()
        << ": describe the change here.\n"
           "-- Applied in one transaction by `artistsaid migrate up`; never edit once released.\n";
    return path;
}

}  // namespace artistsaid::store
