// BankFileWriter: puts a generated bank file (pain.001) into a directory, atomically and once.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace artistsaid::gateways {

/// Writes files into one directory (until the storage plugin takes over: the interface is
/// just name + content). A file appears whole or not at all (written to a temporary file,
/// fsynced, renamed). Writing the same name again with the same content is a no-op, so a
/// retried payout step does not produce a second file; other content under an existing name
/// is refused.
///
/// Thread-safety: safe from many threads and processes (rename is atomic; the no-clobber
/// check uses link(), which fails if the name exists).
class BankFileWriter {
public:
    /// Throws InputError if `directory` does not exist or is not a directory.
    explicit BankFileWriter(std::filesystem::path directory);

    /// Returns the final path. `name` is [A-Za-z0-9._-]+, not starting with '.'.
    /// Throws InputError for a bad name, WorkError(kConflict) if the name holds other
    /// content, WorkError on an I/O failure (nothing is left behind).
    std::filesystem::path write(std::string_view name, std::string_view content) const;

private:
    std::filesystem::path directory_;
};

}  // namespace artistsaid::gateways
