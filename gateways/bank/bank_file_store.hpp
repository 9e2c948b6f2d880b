// BankFileStore: where the bank gateway's generated files (pain.001) are kept.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace artistsaid::gateways {

/// What a put stored: the key, the size and the SHA-256 (hex) of the bytes.
struct StoredBankFile {
    std::string key;
    std::size_t size = 0;
    std::string sha256;
};

/// The small interface BankTransferBatcher writes through, so the gateway does not depend on
/// the storage plugin (plugins/payments/bank_file_storage.hpp adapts the configured storage
/// backend, local or S3). Keys are relative paths ("bank/pain001/2026-12-01/EUR/x.xml").
/// put() replaces what was under the key, so putting the same bytes again is a no-op in
/// effect: a run retried after a crash puts its file again and finishes.
/// Thread-safety: implementations may be called from many threads.
class BankFileStore {
public:
    virtual ~BankFileStore() = default;
    /// "local" or "s3": recorded with the file.
    virtual std::string backend() const = 0;
    /// Throws WorkError/UnavailableError when the backend refuses or cannot be reached.
    virtual StoredBankFile put(const std::string& key, const std::string& content,
                               std::chrono::system_clock::time_point deadline) const = 0;
    /// The bytes under `key`, nullopt if there is no such object (checked against the
    /// SHA-256 the backend kept).
    virtual std::optional<std::string> get(const std::string& key,
                                           std::chrono::system_clock::time_point deadline) const = 0;
    /// Removes the object (no error when there was none).
    virtual void remove(const std::string& key,
                        std::chrono::system_clock::time_point deadline) const = 0;
};

}  // namespace artistsaid::gateways
