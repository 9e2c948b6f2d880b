// DemoServices: the demo's own PostgreSQL and Redis under a directory (default ./var/demo),
// kept between runs — started (or found running and reused) by `scripts/services.sh up DIR`
// and stopped by `scripts/services.sh down DIR`, the same tested shell library the test
// suite uses for its throw-away servers. The script's progress goes to our stderr.
#pragma once

#include <chrono>
#include <string>

namespace artistsaid::cli {

struct DemoServiceUrls {
    std::string database_url;
    std::string redis_url;
};

class DemoServices {
public:
    /// `script` is scripts/services.sh; `directory` where the servers keep their data.
    DemoServices(std::string script, std::string directory);

    /// Starts the servers, or reuses the ones running in the directory. UnavailableError
    /// (exit 3) if they cannot be started, with the script's exit status.
    DemoServiceUrls up(std::chrono::seconds timeout) const;
    /// Stops them; the data stays for the next up(). Returns the script's exit status.
    int down(std::chrono::seconds timeout) const;

private:
    std::string script_;
    std::string directory_;
};

}  // namespace artistsaid::cli
