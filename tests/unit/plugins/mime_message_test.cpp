#include "plugins/email/mime_message.hpp"

#include <doctest/doctest.h>

#include "engine/core/error.hpp"
#include "plugins/common/encoding.hpp"

using namespace artistsaid;
using namespace artistsaid::plugins;

TEST_CASE("Mime.EncodedWordsAreShortAndSplitOnCharacterBoundaries") {
    CHECK(encode_header_text("Plain subject") == "Plain subject");
    std::string text = "Ünïcödé " + std::string(40, 'x') + " ✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓";
    std::string encoded = encode_header_text(text);
    std::string decoded;
    std::size_t start = 0;
    while (start < encoded.size()) {
        auto end = encoded.find("\r\n ", start);
        std::string word = encoded.substr(start, end == std::string::npos ? std::string::npos : end - start);
        CHECK(word.size() <= 75);
        REQUIRE(word.rfind("=?UTF-8?B?", 0) == 0);
        auto part = base64_decode(word.substr(10, word.size() - 12));
        REQUIRE(part);
        CHECK(is_valid_utf8(*part));  // no character cut in half
        decoded += *part;
        if (end == std::string::npos) break;
        start = end + 3;
    }
    CHECK(decoded == text);
}

TEST_CASE("Mime.AddressesQuoteOrEncodeNames") {
    CHECK(format_address({"a@example.org", ""}) == "a@example.org");
    CHECK(format_address({"a@example.org", "Ann Lee"}) == "Ann Lee <a@example.org>");
    CHECK(format_address({"a@example.org", "Lee, Ann \"AL\""}) == "\"Lee, Ann \\\"AL\\\"\" <a@example.org>");
    CHECK(format_address({"a@example.org", "Zoë"}) == "=?UTF-8?B?Wm/Dqw==?= <a@example.org>");
}

TEST_CASE("Mime.RendersHeadersAndRefusesInjection") {
    MimeMessage m;
    m.from = {"billing@artistsaid.example", "Billing"};
    m.to = {{"zoe@example.org", ""}};
    m.subject = "Receipt";
    m.text = "Thanks";
    m.html = "<p>Thanks</p>";
    m.message_id = "abc@artistsaid.example";
    m.date = std::chrono::system_clock::from_time_t(784111777);
    std::string out = m.render();
    CHECK(out.find("Date: Sun, 06 Nov 1994 08:49:37 +0000\r\n") != std::string::npos);
    CHECK(out.find("Message-ID: <abc@artistsaid.example>\r\n") != std::string::npos);
    CHECK(out.find("Content-Type: multipart/alternative; boundary=") != std::string::npos);
    CHECK(out.find("List-Unsubscribe") == std::string::npos);
    // every line ends in CRLF
    for (std::size_t p = out.find('\n'); p != std::string::npos; p = out.find('\n', p + 1)) CHECK(out[p - 1] == '\r');
    m.subject = "x\r\nBcc: evil@example.org";
    CHECK_THROWS_AS(m.render(), InputError);
    m.subject = "ok";
    m.to = {{"evil@example.org>\r\nBcc: x@y.z", ""}};
    CHECK_THROWS_AS(m.render(), InputError);
    for (std::string bad : {"plain", "a@", "@b.c", "a b@c.d", "a@nodot"})
        CHECK_THROWS_AS(check_mail_address(bad, "to"), InputError);
    check_mail_address("first.last+tag@mail.example.co.uk", "to");
}
