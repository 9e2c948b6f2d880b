// A PostgreSQL database of a benchmark's own, on the server of the configured URL: created
// and migrated on construction, dropped (WITH FORCE) on destruction. Not thread-safe.
#pragma once

#include <filesystem>
#include <string>

namespace artistsaid::bench {

class BenchDatabase {
public:
    /// `stem` starts the database's name (e.g. "aa_bench_"); `what` names the benchmark in
    /// errors ("bench workflow").
    BenchDatabase(const std::string& admin_url, const std::filesystem::path& migrations,
                  const std::string& stem, const std::string& what);
    ~BenchDatabase();
    BenchDatabase(const BenchDatabase&) = delete;
    BenchDatabase& operator=(const BenchDatabase&) = delete;
    const std::string& url() const { return url_; }

private:
    std::string admin_url_, name_, url_;
};

/// A field of /proc/PID/status in KiB (VmRSS, VmHWM); -1 when absent.
long proc_status_kib(long pid, const std::string& field);

}  // namespace artistsaid::bench
