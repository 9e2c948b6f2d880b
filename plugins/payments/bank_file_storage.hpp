// BankFileStorage: the bank gateway's files (gateways/bank/bank_file_store.hpp) kept in the
// storage plugin's configured backend (local filesystem or S3), like invoices and documents.
#pragma once

#include <memory>

#include "gateways/bank/bank_file_store.hpp"
#include "plugins/storage/storage_backend.hpp"

namespace artistsaid::payments {

/// Puts pain.001 files as `application/xml` objects; get() refuses objects over 64 MiB and
/// checks the SHA-256 the backend kept.
/// Thread-safety: as the backend (every member may be called concurrently).
class BankFileStorage final : public gateways::BankFileStore {
public:
    explicit BankFileStorage(std::unique_ptr<plugins::StorageBackend> backend);

    std::string backend() const override;
    gateways::StoredBankFile put(const std::string& key, const std::string& content,
                                 std::chrono::system_clock::time_point deadline) const override;
    std::optional<std::string> get(const std::string& key,
                                   std::chrono::system_clock::time_point deadline) const override;
    void remove(const std::string& key, std::chrono::system_clock::time_point deadline) const override;

private:
    std::unique_ptr<plugins::StorageBackend> backend_;
};

}  // namespace artistsaid::payments
