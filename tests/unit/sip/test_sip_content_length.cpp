// Unit tests of core/sip/sip_content_length.cpp and of its use by the datagram
// parser and the stream framer: one rule, no overflow, the same answer on
// every transport.
#include "sip/sip_framing.h"
#include "sip/sip_msg.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using namespace ser::sip;
using namespace std::literals;

namespace {

ClenStatus clen(std::string_view v, uint64_t max, uint64_t* out = nullptr)
{
    uint64_t n = 12345;
    ClenStatus s = parse_content_length(v, max, n);
    if (out)
        *out = n;
    return s;
}

std::string request(std::string_view clen_value, std::string_view body)
{
    return "OPTIONS sip:x@example.com SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
           "From: <sip:a@example.com>;tag=1\r\n"
           "To: <sip:x@example.com>\r\n"
           "Call-ID: c1\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Content-Length:" + std::string(clen_value) + "\r\n\r\n" + std::string(body);
}

const std::string k2pow63 = "9223372036854775808";
const std::string k2pow64plus5 = "18446744073709551621";
const std::string k20digits = "99999999999999999999";
const std::string k100digits = "1" + std::string(99, '0');

}  // namespace

class SipContentLengthTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SipContentLengthTest);
    CPPUNIT_TEST(testValid);
    CPPUNIT_TEST(testMalformed);
    CPPUNIT_TEST(testNeverWraps);
    CPPUNIT_TEST(testSameAnswerDatagramAndStream);
    CPPUNIT_TEST(testBodyEnd);
    CPPUNIT_TEST_SUITE_END();

public:
    void testValid()
    {
        uint64_t n = 0;
        CPPUNIT_ASSERT(clen("5", 100, &n) == ClenStatus::Ok && n == 5);
        CPPUNIT_ASSERT(clen("0", 100, &n) == ClenStatus::Ok && n == 0);
        CPPUNIT_ASSERT(clen(" \t 5 \t", 100, &n) == ClenStatus::Ok && n == 5);
        CPPUNIT_ASSERT(clen("000000000000000000000000000005", 100, &n) == ClenStatus::Ok && n == 5);
        CPPUNIT_ASSERT(clen(std::string(99, '0') + "5", 100, &n) == ClenStatus::Ok && n == 5);
        CPPUNIT_ASSERT(clen("100", 100, &n) == ClenStatus::Ok && n == 100);   // the limit itself
        CPPUNIT_ASSERT(clen("18446744073709551615", UINT64_MAX, &n) == ClenStatus::Ok && n == UINT64_MAX);
    }

    void testMalformed()
    {
        for (std::string_view v : {""sv, " "sv, "+5"sv, "-5"sv, "5 5"sv, "0x5"sv, "5a"sv, "five"sv, "5,5"sv, "5;x"sv})
            CPPUNIT_ASSERT_MESSAGE(std::string(v), clen(v, 100) == ClenStatus::Malformed);
        // Malformed wins over too large: a sign is never a size.
        CPPUNIT_ASSERT(clen("-" + k100digits, 100) == ClenStatus::Malformed);
    }

    void testNeverWraps()
    {
        uint64_t n = 7;
        for (const std::string& v : {k2pow63, k2pow64plus5, k20digits, k100digits, "101"s, "18446744073709551616"s}) {
            CPPUNIT_ASSERT_MESSAGE(v, clen(v, 100, &n) == ClenStatus::TooLarge);
            CPPUNIT_ASSERT_EQUAL(uint64_t{12345}, n);   // out untouched
        }
        CPPUNIT_ASSERT(clen("18446744073709551616", UINT64_MAX) == ClenStatus::TooLarge);
        CPPUNIT_ASSERT(clen(k2pow64plus5, UINT64_MAX) == ClenStatus::TooLarge);
    }

    // The datagram parser and the stream framer give the same verdict for
    // each value: good, bad, or over the transport's limit.
    void testSameAnswerDatagramAndStream()
    {
        const size_t max = 4096;
        struct Case {
            std::string value;
            ClenStatus want;
        };
        for (const Case& c : {Case{"5", ClenStatus::Ok}, Case{"  5  ", ClenStatus::Ok},
                              Case{"0000000000000000000000000000005", ClenStatus::Ok},
                              Case{k2pow63, ClenStatus::TooLarge}, Case{k2pow64plus5, ClenStatus::TooLarge},
                              Case{k20digits, ClenStatus::TooLarge}, Case{k100digits, ClenStatus::TooLarge},
                              Case{"5000", ClenStatus::TooLarge}, Case{"+5", ClenStatus::Malformed},
                              Case{"-5", ClenStatus::Malformed}, Case{"5 5", ClenStatus::Malformed},
                              Case{"", ClenStatus::Malformed}}) {
            std::string m = request(" " + c.value, "hello");
            SipMsg msg;
            ParseResult pr = parse_message(m, msg, max);
            Frame f = next_frame(m, max);
            switch (c.want) {
            case ClenStatus::Ok:
                CPPUNIT_ASSERT_MESSAGE(c.value + ": " + pr.error, pr.ok);
                CPPUNIT_ASSERT_EQUAL("hello"s, std::string(msg.body));
                CPPUNIT_ASSERT_MESSAGE(c.value, f.status == FrameStatus::Message && f.length == m.size());
                break;
            case ClenStatus::TooLarge:
                CPPUNIT_ASSERT_MESSAGE(c.value, !pr.ok);
                CPPUNIT_ASSERT_EQUAL("Content-Length over the maximum message size"s, pr.error);
                CPPUNIT_ASSERT_MESSAGE(c.value, f.status == FrameStatus::Error);
                CPPUNIT_ASSERT_EQUAL("message larger than tcp_max_msg_size"s, f.error);
                break;
            case ClenStatus::Malformed:
                CPPUNIT_ASSERT_MESSAGE(c.value, !pr.ok);
                CPPUNIT_ASSERT_EQUAL("bad Content-Length"s, pr.error);
                CPPUNIT_ASSERT_MESSAGE(c.value, f.status == FrameStatus::Error);
                CPPUNIT_ASSERT_EQUAL("bad Content-Length on stream"s, f.error);
                break;
            }
        }
    }

    // A datagram longer than its Content-Length: the message ends where the
    // body ends, and the rest is no part of it (RFC 3261 §18.3).
    void testBodyEnd()
    {
        std::string first = request(" 0", "");
        std::string smuggled = "BYE sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2\r\n"
                               "From: <sip:a@example.com>;tag=1\r\nTo: <sip:x@example.com>\r\nCall-ID: c2\r\n"
                               "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
        std::string dgram = first + smuggled;
        SipMsg msg;
        CPPUNIT_ASSERT(parse_message(dgram, msg).ok);
        CPPUNIT_ASSERT(msg.body.empty());
        CPPUNIT_ASSERT_EQUAL(first.size(), msg.body_end());
        // Without Content-Length (allowed on UDP) the body runs to the end.
        std::string no_clen = first.substr(0, first.find("Content-Length")) + "\r\nv=0\r\n";
        CPPUNIT_ASSERT(parse_message(no_clen, msg).ok);
        CPPUNIT_ASSERT_EQUAL(no_clen.size(), msg.body_end());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SipContentLengthTest);
