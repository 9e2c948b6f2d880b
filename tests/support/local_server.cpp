#include "tests/support/local_server.hpp"

#include <doctest/doctest.h>

#include <regex>

#include "tests/support/test_env.hpp"

namespace artistsaid::test {

std::string server_script(const std::string& name) {
    return source_dir() + "/tests/support/servers/" + name;
}

LocalServer::LocalServer(const std::string& script, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env) {
    std::vector<std::string> argv{"-u", server_script(script)};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<ChildProcess>("/usr/bin/python3", argv, env);
    static const std::regex listening("LISTENING (\\d+)");
    bool up = eventually(
        [&] {
            std::smatch m;
            std::string out = process_->output();
            if (!std::regex_search(out, m, listening)) return false;
            port_ = std::stoi(m[1]);
            return true;
        },
        std::chrono::seconds(20));
    if (!up) FAIL("test server " << script << " did not start: " << process_->output());
}

std::string LocalServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

}  // namespace artistsaid::test
