// A test server written in Python (tests/support/servers/*.py) run on 127.0.0.1 as a child
// process: started on construction, its port read from the "LISTENING <port>" line it
// prints, killed on destruction. Used for the HTTP, SMTP, S3 and Twilio test servers.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace artistsaid::test {

class LocalServer {
public:
    /// `script` is a file name under tests/support/servers/. Fails the test if the server
    /// does not report its port within 20 s.
    LocalServer(const std::string& script, const std::vector<std::string>& args = {},
                const std::map<std::string, std::string>& env = {});

    int port() const noexcept { return port_; }
    /// "http://127.0.0.1:<port>"
    std::string base_url() const;
    /// Everything the server printed so far (its own record of what it received).
    std::string output() const { return process_->output(); }

private:
    std::unique_ptr<ChildProcess> process_;
    int port_ = 0;
};

/// The path of a file under tests/support/servers/.
std::string server_script(const std::string& name);

}  // namespace artistsaid::test
