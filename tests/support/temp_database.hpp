// A throw-away PostgreSQL database for one test: created empty on construction,
// dropped (with any open connections terminated) on destruction.
#pragma once

#include <string>

namespace artistsaid::test {

class TempDatabase {
public:
    TempDatabase();
    ~TempDatabase();
    TempDatabase(const TempDatabase&) = delete;
    TempDatabase& operator=(const TempDatabase&) = delete;

    /// A libpq URL for the new database.
    const std::string& url() const noexcept { return url_; }
    const std::string& name() const noexcept { return name_; }

private:
    std::string admin_url_;
    std::string name_;
    std::string url_;
};

}  // namespace artistsaid::test
