#include "gateways/bank/bank_file_writer.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "engine/core/error.hpp"
#include "tests/support/test_env.hpp"

using namespace artistsaid;
using namespace artistsaid::gateways;

namespace {

struct TempDir {
    TempDir() : path(std::filesystem::temp_directory_path() / test::unique_name("bankfiles")) {
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::filesystem::path path;
};

}  // namespace

TEST_CASE("Gateways.Bank.FileWriter.WritesOnceAndRefusesOtherContent") {
    TempDir dir;
    BankFileWriter writer(dir.path);
    auto path = writer.write("pain001-batch-7.xml", "<Document/>");
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str() == "<Document/>");
    CHECK(writer.write("pain001-batch-7.xml", "<Document/>") == path);  // a retry: no-op
    CHECK_THROWS_AS(writer.write("pain001-batch-7.xml", "<Other/>"), WorkError);
    // Nothing but the one file is left in the directory (no temporary files).
    int files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path)) ++files;
    CHECK(files == 1);
}

TEST_CASE("Gateways.Bank.FileWriter.RefusesBadNamesAndDirectories") {
    TempDir dir;
    BankFileWriter writer(dir.path);
    for (const char* name : {"../x.xml", ".hidden", "a/b.xml", "", "x y.xml"}) {
        CAPTURE(name);
        CHECK_THROWS_AS(writer.write(name, "x"), InputError);
    }
    CHECK_THROWS_AS(BankFileWriter(dir.path / "missing"), InputError);
}
