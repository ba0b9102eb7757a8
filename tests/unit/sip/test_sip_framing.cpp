// Unit tests of core/sip/sip_framing.cpp: whole, split and back-to-back messages,
// RFC 5626 ping/pong, Content-Length forms and errors, and the size cap.
#include "sip/sip_framing.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>

using namespace ser::sip;
using namespace std::literals;

namespace {

constexpr size_t kMax = 65536;

std::string message(std::string_view cl_line, std::string_view body)
{
    std::string s =
        "INVITE sip:bob@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/TCP a.example.com;branch=z9hG4bK1\r\n"
        "From: <sip:a@example.com>;tag=1\r\n"
        "To: <sip:bob@example.com>\r\n"
        "Call-ID: c1\r\n"
        "CSeq: 1 INVITE\r\n";
    if (!cl_line.empty())
        s.append(cl_line).append("\r\n");
    s.append("\r\n").append(body);
    return s;
}

std::string with_body(std::string_view body)
{
    return message("Content-Length: " + std::to_string(body.size()), body);
}

bool is(const Frame& f, FrameStatus st, size_t len)
{
    return f.status == st && f.length == len;
}

}  // namespace

class SipFramingTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SipFramingTest);
    CPPUNIT_TEST(testWholeMessage);
    CPPUNIT_TEST(testBackToBack);
    CPPUNIT_TEST(testEveryPrefixNeedsMore);
    CPPUNIT_TEST(testBodySplitAcrossReads);
    CPPUNIT_TEST(testPingPong);
    CPPUNIT_TEST(testContentLengthForms);
    CPPUNIT_TEST(testContentLengthErrors);
    CPPUNIT_TEST(testSizeCap);
    CPPUNIT_TEST_SUITE_END();

public:
    void testWholeMessage()
    {
        std::string m = with_body("v=0\r\n");
        Frame f = next_frame(m, kMax);
        CPPUNIT_ASSERT(is(f, FrameStatus::Message, m.size()));
        CPPUNIT_ASSERT(f.error.empty());
        std::string empty_body = with_body("");
        CPPUNIT_ASSERT(is(next_frame(empty_body, kMax), FrameStatus::Message, empty_body.size()));
        CPPUNIT_ASSERT(is(next_frame("", kMax), FrameStatus::NeedMore, 0));
    }

    void testBackToBack()
    {
        std::string a = with_body("first");
        std::string b = with_body("second body");
        std::string stream = a + b + "\r\n\r\n" + a.substr(0, 10);
        std::string_view rest = stream;
        Frame f = next_frame(rest, kMax);
        CPPUNIT_ASSERT(is(f, FrameStatus::Message, a.size()));
        rest.remove_prefix(f.length);
        f = next_frame(rest, kMax);
        CPPUNIT_ASSERT(is(f, FrameStatus::Message, b.size()));
        CPPUNIT_ASSERT_EQUAL(std::string_view(b), rest.substr(0, f.length));
        rest.remove_prefix(f.length);
        f = next_frame(rest, kMax);
        CPPUNIT_ASSERT(is(f, FrameStatus::Ping, 4));
        rest.remove_prefix(f.length);
        CPPUNIT_ASSERT(next_frame(rest, kMax).status == FrameStatus::NeedMore);
    }

    void testEveryPrefixNeedsMore()
    {
        std::string m = with_body("0123456789");
        for (size_t n = 1; n < m.size(); ++n) {
            auto p = std::make_unique<char[]>(n);
            std::memcpy(p.get(), m.data(), n);
            Frame f = next_frame(std::string_view(p.get(), n), kMax);
            CPPUNIT_ASSERT_MESSAGE("prefix " + std::to_string(n), f.status == FrameStatus::NeedMore);
        }
        auto p = std::make_unique<char[]>(m.size());
        std::memcpy(p.get(), m.data(), m.size());
        CPPUNIT_ASSERT(is(next_frame(std::string_view(p.get(), m.size()), kMax),
                          FrameStatus::Message, m.size()));
    }

    void testBodySplitAcrossReads()
    {
        std::string m = with_body("abcdefghij");
        std::string buf = m.substr(0, m.size() - 7);  // headers and 3 body bytes
        CPPUNIT_ASSERT(next_frame(buf, kMax).status == FrameStatus::NeedMore);
        buf += m.substr(m.size() - 7, 4);
        CPPUNIT_ASSERT(next_frame(buf, kMax).status == FrameStatus::NeedMore);
        buf += m.substr(m.size() - 3) + "OPTIONS";
        CPPUNIT_ASSERT(is(next_frame(buf, kMax), FrameStatus::Message, m.size()));
    }

    void testPingPong()
    {
        CPPUNIT_ASSERT(is(next_frame("\r\n\r\n", kMax), FrameStatus::Ping, 4));
        std::string ping_then_msg = "\r\n\r\n" + with_body("x");
        CPPUNIT_ASSERT(is(next_frame(ping_then_msg, kMax), FrameStatus::Ping, 4));
        std::string pong_then_msg = "\r\n" + with_body("x");
        CPPUNIT_ASSERT(is(next_frame(pong_then_msg, kMax), FrameStatus::Pong, 2));
        // Alone, a CRLF may be half of a ping: wait, but hint its length.
        CPPUNIT_ASSERT(is(next_frame("\r\n", kMax), FrameStatus::NeedMore, 2));
        CPPUNIT_ASSERT(is(next_frame("\r\n\r", kMax), FrameStatus::NeedMore, 2));
        CPPUNIT_ASSERT(is(next_frame("\r", kMax), FrameStatus::NeedMore, 0));
        CPPUNIT_ASSERT(is(next_frame("\r\n\r\n\r\n", kMax), FrameStatus::Ping, 4));
    }

    void testContentLengthForms()
    {
        std::string compact = message("l: 3", "abc");
        CPPUNIT_ASSERT(is(next_frame(compact, kMax), FrameStatus::Message, compact.size()));
        std::string lower = message("content-LENGTH :  3  ", "abc");
        CPPUNIT_ASSERT(is(next_frame(lower, kMax), FrameStatus::Message, lower.size()));
        std::string folded = message("Content-Length:\r\n 3", "abc");
        CPPUNIT_ASSERT(is(next_frame(folded, kMax), FrameStatus::Message, folded.size()));
        std::string same_twice = message("Content-Length: 3\r\nl: 3", "abc");
        CPPUNIT_ASSERT(is(next_frame(same_twice, kMax), FrameStatus::Message, same_twice.size()));
        // A Content-Length text inside the body is not a header.
        std::string in_body = message("l: 20", "Content-Length: 99\r\n");
        CPPUNIT_ASSERT(is(next_frame(in_body, kMax), FrameStatus::Message, in_body.size()));
        std::string lf_only = "OPTIONS sip:a SIP/2.0\nVia: SIP/2.0/TCP h\nl: 2\n\nhi";
        CPPUNIT_ASSERT(is(next_frame(lf_only, kMax), FrameStatus::Message, lf_only.size()));
    }

    void testContentLengthErrors()
    {
        Frame f = next_frame(message("", ""), kMax);
        CPPUNIT_ASSERT(f.status == FrameStatus::Error);
        CPPUNIT_ASSERT_EQUAL("missing Content-Length on stream"s, f.error);
        f = next_frame(message("X-Content-Length: 0", ""), kMax);
        CPPUNIT_ASSERT_EQUAL("missing Content-Length on stream"s, f.error);
        f = next_frame(message("Content-Length: abc", ""), kMax);
        CPPUNIT_ASSERT(f.status == FrameStatus::Error);
        CPPUNIT_ASSERT_EQUAL("bad Content-Length on stream"s, f.error);
        f = next_frame(message("Content-Length: -1", ""), kMax);
        CPPUNIT_ASSERT_EQUAL("bad Content-Length on stream"s, f.error);
        f = next_frame(message("Content-Length:", ""), kMax);
        CPPUNIT_ASSERT_EQUAL("bad Content-Length on stream"s, f.error);
        f = next_frame(message("Content-Length: 1\r\nl: 2", "ab"), kMax);
        CPPUNIT_ASSERT_EQUAL("conflicting Content-Length on stream"s, f.error);
    }

    void testSizeCap()
    {
        std::string m = with_body(std::string(100, 'x'));
        CPPUNIT_ASSERT(is(next_frame(m, m.size()), FrameStatus::Message, m.size()));
        Frame f = next_frame(m, m.size() - 1);
        CPPUNIT_ASSERT(f.status == FrameStatus::Error);
        CPPUNIT_ASSERT_EQUAL("message larger than tcp_max_msg_size"s, f.error);
        // Declared too big: rejected before the body arrives.
        std::string head = message("Content-Length: 100000", "");
        f = next_frame(head, kMax);
        CPPUNIT_ASSERT_EQUAL("message larger than tcp_max_msg_size"s, f.error);
        f = next_frame(message("Content-Length: 99999999999999999999999999", ""), kMax);
        CPPUNIT_ASSERT_EQUAL("message larger than tcp_max_msg_size"s, f.error);
        // No end of headers within the cap.
        std::string endless = "INVITE sip:a SIP/2.0\r\n" + std::string(200, 'X');
        CPPUNIT_ASSERT(next_frame(endless, 1000).status == FrameStatus::NeedMore);
        f = next_frame(endless, 100);
        CPPUNIT_ASSERT(f.status == FrameStatus::Error);
        CPPUNIT_ASSERT_EQUAL("message larger than tcp_max_msg_size"s, f.error);
        // A complete header block that alone exceeds the cap.
        std::string hdr_only = message("l: 0", "");
        CPPUNIT_ASSERT(next_frame(hdr_only, hdr_only.size() - 1).status == FrameStatus::Error);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SipFramingTest);
