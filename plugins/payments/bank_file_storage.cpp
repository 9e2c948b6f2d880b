#include "plugins/payments/bank_file_storage.hpp"

#include "engine/core/error.hpp"

namespace artistsaid::payments {
namespace {

constexpr std::size_t kMaxBankFileBytes = 64u * 1024 * 1024;

}  // namespace

BankFileStorage::BankFileStorage(std::unique_ptr<plugins::StorageBackend> backend)
    : backend_(std::move(backend)) {
    if (!backend_) throw Error(ErrorCode::kInternal, "BankFileStorage needs a storage backend");
}

std::string BankFileStorage::backend() const { return backend_->name(); }

gateways::StoredBankFile BankFileStorage::put(const std::string& key, const std::string& content,
                                              std::chrono::system_clock::time_point deadline) const {
    plugins::check_storage_key(key);
    auto stored = backend_->put(key, content, "application/xml", deadline);
    return {stored.key, stored.size, stored.sha256};
}

std::optional<std::string> BankFileStorage::get(const std::string& key,
                                                std::chrono::system_clock::time_point deadline) const {
    auto object = backend_->get(key, kMaxBankFileBytes, deadline);
    if (!object) return std::nullopt;
    return std::move(object->content);
}

void BankFileStorage::remove(const std::string& key,
                             std::chrono::system_clock::time_point deadline) const {
    backend_->remove(key, deadline);
}

}  // namespace artistsaid::payments
