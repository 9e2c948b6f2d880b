#include "engine/queue/lua_script.hpp"

#include <openssl/sha.h>

namespace artistsaid::queue {

LuaScript::LuaScript(std::string name, std::string source)
    : name_(std::move(name)), source_(std::move(source)) {
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest);
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char b : digest) {
        sha_.push_back(kHex[b >> 4]);
        sha_.push_back(kHex[b & 0xf]);
    }
}

std::vector<RedisReply> LuaScript::run_pipelined(
    RedisConnection& conn, const std::vector<std::string>& keys,
    const std::vector<std::vector<std::string>>& args) const {
    auto send_all = [&] {
        for (const auto& a : args) {
            std::vector<std::string> argv;
            argv.reserve(3 + keys.size() + a.size());
            argv.emplace_back("EVALSHA");
            argv.push_back(sha_);
            argv.push_back(std::to_string(keys.size()));
            argv.insert(argv.end(), keys.begin(), keys.end());
            argv.insert(argv.end(), a.begin(), a.end());
            conn.append(argv);
        }
        std::vector<RedisReply> replies;
        replies.reserve(args.size());
        for (size_t i = 0; i < args.size(); ++i) replies.push_back(conn.read_reply());
        return replies;
    };
    auto replies = send_all();
    bool noscript = !replies.empty() && replies[0].view().is_error() &&
                    replies[0].view().str().rfind("NOSCRIPT", 0) == 0;
    if (noscript) {
        // Scripts are loaded or not for the whole pipeline: none of these calls ran.
        check_reply(conn.command({"SCRIPT", "LOAD", source_}), "loading script " + name_);
        replies = send_all();
    }
    return replies;
}

RedisReply LuaScript::run(RedisConnection& conn, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args) const {
    std::vector<std::string> argv;
    argv.reserve(3 + keys.size() + args.size());
    argv.emplace_back("EVALSHA");
    argv.push_back(sha_);
    argv.push_back(std::to_string(keys.size()));
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    RedisReply reply = conn.command(argv);
    if (reply.view().is_error() && reply.view().str().rfind("NOSCRIPT", 0) == 0) {
        check_reply(conn.command({"SCRIPT", "LOAD", source_}), "loading script " + name_);
        reply = conn.command(argv);
    }
    return reply;
}

}  // namespace artistsaid::queue
