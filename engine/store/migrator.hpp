// Schema migrations over numbered SQL files (`migrations/0001_core.sql`, …).
//
// Each file is applied in its own transaction and recorded in `schema_migrations` with a
// SHA-256 checksum of its content. `up` applies what is pending, in order; run twice it
// does nothing. A file that was applied and then edited is refused (kMigrationChanged,
// exit 2) before anything is applied. Concurrent `up`s are serialised by a PostgreSQL
// advisory lock, so two operators (or two deploy hooks) can run it at once safely.
// Thread-safety: one Migrator per thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace artistsaid::store {

struct MigrationFile {
    int version = 0;            // 1 for 0001_core.sql
    std::string name;           // "0001_core.sql"
    std::filesystem::path path;
    std::string sql;
    std::string checksum;       // hex SHA-256 of `sql`
};

struct MigrationStatus {
    int version = 0;
    std::string name;
    bool applied = false;
    std::optional<std::string> applied_at;  // ISO 8601, UTC
    bool changed = false;   // applied, but the file's checksum differs now
    bool missing = false;   // applied, but the file is gone
};

class Migrator {
public:
    Migrator(std::string database_url, std::filesystem::path directory,
             std::chrono::seconds connect_timeout = std::chrono::seconds(5));

    /// Reads and checks the directory: names `NNNN_snake_name.sql`, no duplicate versions.
    std::vector<MigrationFile> files() const;

    /// Every known migration (files and applied rows), in version order.
    std::vector<MigrationStatus> status() const;

    /// Applies pending migrations in order; returns those applied (empty: up to date).
    std::vector<MigrationFile> up() const;

    /// Creates the next numbered empty file for `name` (snake_case) and returns its path.
    static std::filesystem::path create(const std::filesystem::path& directory,
                                        const std::string& name);

private:
    std::string database_url_;
    std::filesystem::path directory_;
    std::chrono::seconds connect_timeout_;
};

}  // namespace artistsaid::store
