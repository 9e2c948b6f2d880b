#include "engine/core/id.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <mutex>
#include <random>

namespace artistsaid {
namespace {

// Random bits for ids need not be cryptographic, but they must not repeat across
// processes started in the same millisecond, so the generator is seeded from OpenSSL.
class IdState {
public:
    IdState() {
        uint64_t seed = 0;
        if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
            seed = std::random_device{}() ^
                   static_cast<uint64_t>(
                       std::chrono::steady_clock::now().time_since_epoch().count());
        }
        rng_.seed(seed);
    }

    Uuid next() {
        uint64_t now_ms = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count());
        uint64_t random_b = 0;
        uint64_t ms = 0;
        uint16_t counter = 0;
        {
            std::lock_guard lock(mutex_);
            if (now_ms > last_ms_) {
                last_ms_ = now_ms;
                counter_ = static_cast<uint16_t>(rng_() & 0x1ff);  // leave room to count up
            } else if (++counter_ > 0xfff) {
                // 4096 ids in one millisecond: borrow the next millisecond, as RFC 9562 allows.
                ++last_ms_;
                counter_ = 0;
            }
            ms = last_ms_;
            counter = counter_;
            random_b = rng_();
        }
        std::array<uint8_t, 16> b{};
        for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
        b[6] = static_cast<uint8_t>(0x70 | ((counter >> 8) & 0x0f));
        b[7] = static_cast<uint8_t>(counter & 0xff);
        for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(random_b >> (56 - 8 * i));
        b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3f));  // RFC 9562 variant
        return Uuid(b);
    }

private:
    std::mutex mutex_;
    std::mt19937_64 rng_;
    uint64_t last_ms_ = 0;
    uint16_t counter_ = 0;
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

Uuid Uuid::v7() {
    static IdState state;
    return state.next();
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
    if (text.size() != 36) return std::nullopt;
    std::array<uint8_t, 16> b{};
    size_t byte = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') return std::nullopt;
            ++i;
            continue;
        }
        int hi = hex_value(text[i]);
        int lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        b[byte++] = static_cast<uint8_t>(hi << 4 | lo);
        i += 2;
    }
    return Uuid(b);
}

std::string Uuid::to_string() const {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(kHex[bytes_[i] >> 4]);
        out.push_back(kHex[bytes_[i] & 0xf]);
    }
    return out;
}

uint64_t Uuid::unix_ms() const {
    uint64_t ms = 0;
    for (int i = 0; i < 6; ++i) ms = ms << 8 | bytes_[i];
    return ms;
}

std::string new_id() { return Uuid::v7().to_string(); }

}  // namespace artistsaid
