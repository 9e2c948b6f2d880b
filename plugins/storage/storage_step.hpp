// `storage.put`, `storage.get`, `storage.delete`, `storage.presign`: one StepPlugin class,
// registered once per operation, over the configured StorageBackend.
//
// Settings: ARTISTSAID_STORAGE_BACKEND local (default) | s3;
//   local: ARTISTSAID_STORAGE_DIR;
//   s3:    ARTISTSAID_S3_ENDPOINT, ARTISTSAID_S3_BUCKET, ARTISTSAID_S3_REGION (us-east-1),
//          ARTISTSAID_S3_CA_FILE, secrets S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY.
// Puts are idempotent by nature (the same key gets the same bytes on a retry).
// Thread-safety: run() may be called concurrently.
#pragma once

#include <memory>

#include "engine/runtime/step_plugin.hpp"
#include "plugins/common/plugin_environment.hpp"
#include "plugins/storage/storage_backend.hpp"

namespace artistsaid::plugins {

class StorageStep final : public runtime::StepPlugin {
public:
    enum class Operation { kPut, kGet, kDelete, kPresign };
    StorageStep(Operation operation, PluginEnvironment environment);
    const workflow::StepTypeDescriptor& descriptor() const override;
    runtime::StepResult run(const runtime::StepCall& call) override;

private:
    Operation operation_;
    PluginEnvironment env_;
};

/// The backend the environment configures (InputError if the configuration is incomplete).
std::unique_ptr<StorageBackend> make_storage_backend(const PluginEnvironment& env);

}  // namespace artistsaid::plugins
