#include "plugins/storage/sigv4_presigner.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "engine/core/error.hpp"
#include "plugins/sms/phone_number.hpp"
#include "plugins/storage/storage_backend.hpp"

using namespace artistsaid;
using namespace artistsaid::plugins;

TEST_CASE("SigV4.PresignMatchesAwsDocumentedExample") {
    // "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", the
    // example GET of examplebucket/test.txt at 20130524T000000Z for 86400 s.
    SigV4Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};
    std::tm tm{};
    tm.tm_year = 113;
    tm.tm_mon = 4;
    tm.tm_mday = 24;
    auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
    auto url = presign_sigv4("GET", "https://examplebucket.s3.amazonaws.com", "/test.txt", c, at,
                             std::chrono::seconds(86400));
    CHECK(url ==
          "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
          "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
          "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
          "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    CHECK_THROWS_AS(presign_sigv4("GET", "https://h", "/k", c, at, std::chrono::seconds(604801)), InputError);
}

TEST_CASE("PhoneNumber.E164") {
    for (std::string ok : {"+4915112345678", "+15005550006", "+442071838750", "+12"}) CHECK_MESSAGE(is_e164(ok), ok);
    for (std::string bad : {"", "+", "+0123", "4915112345678", "+49 151", "+49-151", "+1234567890123456", "+49151a"})
        CHECK_MESSAGE(!is_e164(bad), bad);
}

TEST_CASE("StorageKey.Rules") {
    check_storage_key("invoices/2024/INV-1.pdf");
    check_storage_key("galleries/zoë/photo 1.jpg");
    for (std::string bad : std::vector<std::string>{"", "/a", "a/", "a//b", "../a", "a/../b", "./a", ".hidden", "a\\b", "a\x01"})
        CHECK_THROWS_AS(check_storage_key(bad), InputError);
    CHECK_THROWS_AS(check_storage_key(std::string(1025, 'a')), InputError);
}
