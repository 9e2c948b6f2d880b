#include "gateways/bank/bank_file_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"

namespace artistsaid::gateways {
namespace {

// Owns a file descriptor.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_;
};

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

BankFileWriter::BankFileWriter(std::filesystem::path directory) : directory_(std::move(directory)) {
    std::error_code ec;
    if (!std::filesystem::is_directory(directory_, ec)) {
        throw InputError("bank files: " + directory_.string() + " is not a directory");
    }
}

std::filesystem::path BankFileWriter::write(std::string_view name, std::string_view content) const {
    bool ok = !name.empty() && name.front() != '.' && name.size() <= 200;
    for (char c : name) {
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-');
    }
    if (!ok) throw InputError("bank files: '" + std::string(name) + "' is not a valid file name");
    auto target = directory_ / std::string(name);
    auto same_as_existing = [&] {
        if (read_file(target) == content) return true;
        throw WorkError("bank files: " + target.string() + " exists with other content",
                        ErrorCode::kConflict);
    };
    std::error_code ec;
    if (std::filesystem::exists(target, ec) && same_as_existing()) return target;

    auto temp = directory_ / ("." + std::string(name) + "." + new_id() + ".tmp");
    {
        FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
        if (fd.get() < 0) {
            throw WorkError("bank files: cannot create " + temp.string() + ": " + std::strerror(errno));
        }
        std::size_t written = 0;
        while (written < content.size()) {
            auto n = ::write(fd.get(), content.data() + written, content.size() - written);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                std::string why = std::strerror(errno);
                ::unlink(temp.c_str());
                throw WorkError("bank files: writing " + temp.string() + ": " + why);
            }
            written += static_cast<std::size_t>(n);
        }
        if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
            std::string why = std::strerror(errno);
            ::unlink(temp.c_str());
            throw WorkError("bank files: flushing " + temp.string() + ": " + why);
        }
    }
    // link() refuses an existing name, so two writers of one name cannot overwrite each other.
    int linked = ::link(temp.c_str(), target.c_str());
    int link_errno = errno;
    ::unlink(temp.c_str());
    if (linked != 0) {
        if (link_errno == EEXIST && same_as_existing()) return target;
        throw WorkError("bank files: cannot create " + target.string() + ": " +
                        std::strerror(link_errno));
    }
    FileDescriptor dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
    return target;
}

}  // namespace artistsaid::gateways
