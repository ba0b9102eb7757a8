// Unit tests of core/sip/sip_parser.cpp: valid requests and responses (compact
// forms, folding, multi-value Via, IPv6), every rejection reason, truncation
// at every length and random mutations (run under ASan: each input sits in an
// allocation of exactly its size, so any over-read is caught).
#include "sip/sip_msg.h"

#include "../test_util.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace ser::sip;
using namespace std::literals;

namespace {

using ser::test::crlf;

// A copy of s in a heap block of exactly s.size() bytes.
struct Exact {
    explicit Exact(std::string_view s) : p(std::make_unique<char[]>(s.size())), n(s.size())
    {
        if (n > 0)
            std::memcpy(p.get(), s.data(), n);
    }
    std::string_view view() const { return {p.get(), n}; }
    std::unique_ptr<char[]> p;
    size_t n;
};

const std::string kInvite = crlf(
    "INVITE sip:bob@biloxi.example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\n"
    "Max-Forwards: 70\n"
    "To: Bob <sip:bob@biloxi.example.com>\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\n"
    "CSeq: 314159 INVITE\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\n"
    "Content-Type: application/sdp\n"
    "Content-Length: 5\n"
    "\n"
    "v=0\n");

// A minimal valid request whose header `name` line is replaced by `line`
// (or dropped when line is empty); used to produce one defect at a time.
std::string variant(std::string_view name, std::string_view line)
{
    static const char* const kLines[] = {
        "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1",
        "From: <sip:a@example.com>;tag=1",
        "To: <sip:b@example.com>",
        "Call-ID: c1@a.example.com",
        "CSeq: 1 INVITE",
        "Max-Forwards: 70",
        "Content-Length: 0",
    };
    std::string r = "INVITE sip:b@example.com SIP/2.0\r\n";
    bool replaced = false;
    for (const char* l : kLines) {
        std::string_view sv(l);
        if (!replaced && sv.starts_with(name) && sv[name.size()] == ':') {
            replaced = true;
            if (!line.empty())
                r.append(line).append("\r\n");
        } else {
            r.append(sv).append("\r\n");
        }
    }
    if (!replaced && !line.empty())
        r.append(line).append("\r\n");
    return r + "\r\n";
}

}  // namespace

class SipParserTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SipParserTest);
    CPPUNIT_TEST(testInvite);
    CPPUNIT_TEST(testResponseWithManyVias);
    CPPUNIT_TEST(testCompactFormsAndCase);
    CPPUNIT_TEST(testFoldedHeaders);
    CPPUNIT_TEST(testViaVariants);
    CPPUNIT_TEST(testLfOnlyAndLeadingCrlf);
    CPPUNIT_TEST(testDatagramBody);
    CPPUNIT_TEST(testUnusualButValid);
    CPPUNIT_TEST(testHeaderHelpers);
    CPPUNIT_TEST(testRejectsHeaders);
    CPPUNIT_TEST(testRejectsStartLine);
    CPPUNIT_TEST(testRejectsVia);
    CPPUNIT_TEST(testLimits);
    CPPUNIT_TEST(testTruncatedAtEveryLength);
    CPPUNIT_TEST(testRandomMutations);
    CPPUNIT_TEST(testReuseResetsFields);
    CPPUNIT_TEST_SUITE_END();

public:
    void testInvite()
    {
        SipMsg m;
        ParseResult r = parse_message(kInvite, m);
        CPPUNIT_ASSERT_MESSAGE(r.error, r.ok);
        CPPUNIT_ASSERT(m.is_request);
        CPPUNIT_ASSERT_EQUAL("INVITE"sv, m.method);
        CPPUNIT_ASSERT_EQUAL("sip:bob@biloxi.example.com"sv, m.uri);
        CPPUNIT_ASSERT_EQUAL("SIP/2.0"sv, m.version);
        CPPUNIT_ASSERT_EQUAL(size_t{9}, m.headers.size());
        CPPUNIT_ASSERT_EQUAL(size_t{1}, m.vias.size());
        const Via& v = m.vias[0];
        CPPUNIT_ASSERT_EQUAL("UDP"sv, v.transport);
        CPPUNIT_ASSERT_EQUAL("pc33.atlanta.example.com"sv, v.host);
        CPPUNIT_ASSERT_EQUAL(uint16_t{0}, v.port);
        CPPUNIT_ASSERT_EQUAL("z9hG4bK776asdhds"sv, v.branch);
        CPPUNIT_ASSERT(!v.has_rport);
        CPPUNIT_ASSERT_EQUAL(size_t{0}, v.header_index);
        CPPUNIT_ASSERT_EQUAL("SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds"sv,
                             std::string_view(kInvite).substr(v.start, v.end - v.start));
        CPPUNIT_ASSERT_EQUAL(70, m.max_forwards);
        CPPUNIT_ASSERT_EQUAL("1928301774"sv, m.from_tag);
        CPPUNIT_ASSERT(m.to_tag.empty());
        CPPUNIT_ASSERT_EQUAL("a84b4c76e66710@pc33.atlanta.example.com"sv, m.call_id);
        CPPUNIT_ASSERT_EQUAL(uint32_t{314159}, m.cseq_num);
        CPPUNIT_ASSERT_EQUAL("INVITE"sv, m.cseq_method);
        CPPUNIT_ASSERT_EQUAL(5L, m.content_length);
        CPPUNIT_ASSERT_EQUAL("v=0\r\n"sv, m.body);
        CPPUNIT_ASSERT_EQUAL(kInvite.size() - 5, m.headers_end);
        const Header* ct = m.find(HdrType::ContentType);
        CPPUNIT_ASSERT(ct != nullptr);
        CPPUNIT_ASSERT_EQUAL("application/sdp"sv, ct->value);
        CPPUNIT_ASSERT(m.find(HdrType::Route) == nullptr);
        // start..end of a header is its whole line including CRLF.
        const Header& h0 = m.headers[0];
        CPPUNIT_ASSERT_EQUAL(kInvite.find("Via:"), h0.start);
        CPPUNIT_ASSERT_EQUAL(kInvite.find("Max-Forwards:"), h0.end);
        CPPUNIT_ASSERT_EQUAL("Via"sv, h0.name);
    }

    void testResponseWithManyVias()
    {
        std::string s = crlf(
            "SIP/2.0 200 OK\n"
            "Via: SIP/2.0/UDP proxy.example.com:5070;branch=z9hG4bKp1, SIP/2.0/TCP "
            "edge.example.com;branch=z9hG4bKe1;received=192.0.2.4;rport=6000\n"
            "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\n"
            "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"
            "Call-ID: a84b4c76e66710\n"
            "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKu1;rport\n"
            "CSeq: 314159 INVITE\n"
            "Content-Length: 0\n"
            "\n");
        SipMsg m;
        ParseResult r = parse_message(s, m);
        CPPUNIT_ASSERT_MESSAGE(r.error, r.ok);
        CPPUNIT_ASSERT(!m.is_request);
        CPPUNIT_ASSERT_EQUAL(200, m.status);
        CPPUNIT_ASSERT_EQUAL("OK"sv, m.reason);
        CPPUNIT_ASSERT_EQUAL(size_t{3}, m.vias.size());
        CPPUNIT_ASSERT_EQUAL(uint16_t{5070}, m.vias[0].port);
        CPPUNIT_ASSERT_EQUAL("z9hG4bKe1"sv, m.vias[1].branch);
        CPPUNIT_ASSERT_EQUAL("192.0.2.4"sv, m.vias[1].received);
        CPPUNIT_ASSERT(m.vias[1].has_rport);
        CPPUNIT_ASSERT_EQUAL("6000"sv, m.vias[1].rport);
        CPPUNIT_ASSERT_EQUAL(size_t{0}, m.vias[1].header_index);
        CPPUNIT_ASSERT(m.vias[2].has_rport);
        CPPUNIT_ASSERT(m.vias[2].rport.empty());
        CPPUNIT_ASSERT_EQUAL(size_t{4}, m.vias[2].header_index);
        CPPUNIT_ASSERT_EQUAL("a6c85cf"sv, m.to_tag);
        CPPUNIT_ASSERT_EQUAL(0L, m.content_length);
        CPPUNIT_ASSERT(m.body.empty());
        CPPUNIT_ASSERT_EQUAL(-1, m.max_forwards);
        // The second via-parm's extent starts after ", ".
        CPPUNIT_ASSERT_EQUAL(s.find("SIP/2.0/TCP"), m.vias[1].start);
    }

    void testCompactFormsAndCase()
    {
        std::string s = crlf(
            "OPTIONS sip:carol@chicago.example.com SIP/2.0\n"
            "v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877\n"
            "mAX-fORWARDS  :  10\n"
            "t: <sip:carol@chicago.example.com>\n"
            "f: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"
            "i: a84b4c76e66710\n"
            "cSeQ: 63104 OPTIONS\n"
            "m: <sip:alice@pc33.atlanta.example.com>\n"
            "c: text/plain\n"
            "l: 2\n"
            "\n"
            "hi");
        SipMsg m;
        ParseResult r = parse_message(s, m);
        CPPUNIT_ASSERT_MESSAGE(r.error, r.ok);
        CPPUNIT_ASSERT_EQUAL("OPTIONS"sv, m.method);
        CPPUNIT_ASSERT_EQUAL(10, m.max_forwards);
        CPPUNIT_ASSERT_EQUAL("a84b4c76e66710"sv, m.call_id);
        CPPUNIT_ASSERT_EQUAL("OPTIONS"sv, m.cseq_method);
        CPPUNIT_ASSERT_EQUAL("hi"sv, m.body);
        CPPUNIT_ASSERT(m.find(HdrType::Contact) != nullptr);
        CPPUNIT_ASSERT_EQUAL("text/plain"sv, m.find(HdrType::ContentType)->value);
        CPPUNIT_ASSERT(HdrType::Via == m.headers[0].type);
        CPPUNIT_ASSERT_EQUAL("v"sv, m.headers[0].name);
    }

    void testFoldedHeaders()
    {
        std::string s = crlf(
            "REGISTER sip:registrar.biloxi.example.com SIP/2.0\n"
            "Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060\n"
            " ;branch=z9hG4bKnashds7\n"
            "\t;rport\n"
            "Max-Forwards: 70\n"
            "To: Bob\n"
            "   <sip:bob@biloxi.example.com>\n"
            "From: Bob <sip:bob@biloxi.example.com>;tag=456248\n"
            "Call-ID: 843817637684230@998sdasdh09\n"
            "CSeq:\n"
            " 1826\n"
            "  REGISTER\n"
            "Subject: I know you're there,\n"
            "         pick up the phone\n"
            "Contact: <sip:bob@192.0.2.4>\n"
            "Expires: 7200\n"
            "Content-Length: 0\n"
            "\n");
        SipMsg m;
        ParseResult r = parse_message(s, m);
        CPPUNIT_ASSERT_MESSAGE(r.error, r.ok);
        CPPUNIT_ASSERT_EQUAL(size_t{10}, m.headers.size());
        CPPUNIT_ASSERT_EQUAL("z9hG4bKnashds7"sv, m.vias[0].branch);
        CPPUNIT_ASSERT(m.vias[0].has_rport);
        CPPUNIT_ASSERT_EQUAL(uint16_t{5060}, m.vias[0].port);
        CPPUNIT_ASSERT_EQUAL(uint32_t{1826}, m.cseq_num);
        CPPUNIT_ASSERT_EQUAL("REGISTER"sv, m.cseq_method);
        // The Via header spans its continuation lines.
        CPPUNIT_ASSERT_EQUAL(s.find("Max-Forwards"), m.headers[0].end);
        const Header& subj = m.headers[6];
        CPPUNIT_ASSERT_EQUAL("Subject"sv, subj.name);
        CPPUNIT_ASSERT_EQUAL("I know you're there,\r\n         pick up the phone"sv, subj.value);
    }

    void testViaVariants()
    {
        std::string s = variant(
            "Via",
            "Via  :  SIP / 2.0 / udp  a.example.com : 5062 ; branch = z9hG4bK1 ;x=\"q;,\" , "
            "SIP/2.0/TCP [2001:db8::9:1]:5070;branch=z9hG4bKx;received=[2001:db8::9:255];"
            "rport=5071,SIP/2.0/TLS [::1];ttl=3");
        SipMsg m;
        ParseResult r = parse_message(s, m);
        CPPUNIT_ASSERT_MESSAGE(r.error, r.ok);
        CPPUNIT_ASSERT_EQUAL(size_t{3}, m.vias.size());
        CPPUNIT_ASSERT_EQUAL("udp"sv, m.vias[0].transport);
        CPPUNIT_ASSERT_EQUAL("a.example.com"sv, m.vias[0].host);
        CPPUNIT_ASSERT_EQUAL(uint16_t{5062}, m.vias[0].port);
        CPPUNIT_ASSERT_EQUAL("z9hG4bK1"sv, m.vias[0].branch);
        std::string_view first = std::string_view(s).substr(m.vias[0].start,
                                                            m.vias[0].end - m.vias[0].start);
        CPPUNIT_ASSERT_EQUAL(
            "SIP / 2.0 / udp  a.example.com : 5062 ; branch = z9hG4bK1 ;x=\"q;,\""sv, first);
        CPPUNIT_ASSERT_EQUAL("[2001:db8::9:1]"sv, m.vias[1].host);
        CPPUNIT_ASSERT_EQUAL(uint16_t{5070}, m.vias[1].port);
        CPPUNIT_ASSERT_EQUAL("[2001:db8::9:255]"sv, m.vias[1].received);
        CPPUNIT_ASSERT_EQUAL("5071"sv, m.vias[1].rport);
        CPPUNIT_ASSERT_EQUAL("TLS"sv, m.vias[2].transport);
        CPPUNIT_ASSERT_EQUAL("[::1]"sv, m.vias[2].host);
        CPPUNIT_ASSERT_EQUAL(uint16_t{0}, m.vias[2].port);
        CPPUNIT_ASSERT(m.vias[2].branch.empty());
    }

    void testLfOnlyAndLeadingCrlf()
    {
        std::string s =
            "MESSAGE sip:user2@example.com SIP/2.0\n"
            "Via: SIP/2.0/TCP user1pc.example.com;branch=z9hG4bK776sgdkse\n"
            "From: sip:user1@example.com;tag=49583\n"
            "To: sip:user2@example.com\n"
            "Call-ID: asd88asd77a@1.2.3.4\n"
            "CSeq: 1 MESSAGE\n"
            "Content-Length: 5\n"
            "\n"
            "hello";
        SipMsg m;
        ParseResult r = parse_message(s, m);
        CPPUNIT_ASSERT_MESSAGE(r.error, r.ok);
        CPPUNIT_ASSERT_EQUAL("hello"sv, m.body);
        CPPUNIT_ASSERT_EQUAL(s.size() - 5, m.headers_end);
        CPPUNIT_ASSERT_EQUAL("49583"sv, m.from_tag);
        CPPUNIT_ASSERT_EQUAL("Via"sv, m.headers[0].name);

        std::string lead = "\r\n\r\n" + kInvite;
        CPPUNIT_ASSERT(parse_message(lead, m).ok);
        CPPUNIT_ASSERT_EQUAL(size_t{4} + kInvite.find("Via:"), m.headers[0].start);
    }

    void testDatagramBody()
    {
        SipMsg m;
        std::string nocl = variant("Content-Length", "") + "abcdef";
        CPPUNIT_ASSERT(parse_message(nocl, m).ok);
        CPPUNIT_ASSERT_EQUAL(-1L, m.content_length);
        CPPUNIT_ASSERT_EQUAL("abcdef"sv, m.body);

        std::string cl3 = variant("Content-Length", "Content-Length: 3") + "abcdef";
        CPPUNIT_ASSERT(parse_message(cl3, m).ok);
        CPPUNIT_ASSERT_EQUAL("abc"sv, m.body);  // RFC 3261 §18.3: extra bytes dropped

        std::string cl0 = variant("Content-Length", "Content-Length: 0") + "junk";
        CPPUNIT_ASSERT(parse_message(cl0, m).ok);
        CPPUNIT_ASSERT(m.body.empty());

        std::string dup = variant("Content-Length", "Content-Length: 3\r\nl: 3") + "abc";
        CPPUNIT_ASSERT(parse_message(dup, m).ok);  // equal duplicates agree
    }

    void testUnusualButValid()
    {
        SipMsg m;
        std::string s = crlf(
            "NEWMETHOD sip:%61lice@example.com;transport=TCP SIP/2.0\n"
            "Via: SIP/2.0/UDP [::1]:5060;branch=z9hG4bK-x\n"
            "From: \"Bob <sip:x;tag=no>\" <sip:bob@example.com;tag=notthis>;tag=yes\n"
            "To: sip:alice@example.com\n"
            "Call-ID: 0ha0isndaksdj@10.0.0.1\n"
            "CSeq: 8 NEWMETHOD\n"
            "X-Empty:\n"
            "Content-Length: 0\n"
            "\n");
        ParseResult r = parse_message(s, m);
        CPPUNIT_ASSERT_MESSAGE(r.error, r.ok);
        CPPUNIT_ASSERT_EQUAL("sip:%61lice@example.com;transport=TCP"sv, m.uri);
        CPPUNIT_ASSERT_EQUAL("yes"sv, m.from_tag);
        CPPUNIT_ASSERT(m.headers[5].value.empty());

        std::string lower = variant("", "");
        lower.replace(lower.find("SIP/2.0\r\n"), 7, "sip/2.0");
        CPPUNIT_ASSERT(parse_message(lower, m).ok);  // version is case-insensitive

        std::string noreason = crlf(
            "SIP/2.0 486\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\nFrom: <sip:a@h>;tag=1\n"
            "To: <sip:b@h>\nCall-ID: x\nCSeq: 2 BYE\n\n");
        CPPUNIT_ASSERT(parse_message(noreason, m).ok);
        CPPUNIT_ASSERT_EQUAL(486, m.status);
        CPPUNIT_ASSERT(m.reason.empty());

        // A quoted-pair may escape NUL (RFC 3261 §25.1; RFC 4475 §3.1.1.2).
        std::string nul = variant("To", "To: \"NUL:\\\0 \\\"\" <sip:b@h>"s);
        r = parse_message(nul, m);
        CPPUNIT_ASSERT_MESSAGE(r.error, r.ok);
    }

    void testHeaderHelpers()
    {
        CPPUNIT_ASSERT_EQUAL("yes"sv, header_param("\"A;tag=x\" <sip:a@b;tag=no>;tag=yes", "tag"));
        CPPUNIT_ASSERT_EQUAL("abc"sv, header_param("sip:carol@example.com;tag=abc", "TAG"));
        CPPUNIT_ASSERT(header_param("<sip:a@b;tag=x>", "tag").data() == nullptr);
        CPPUNIT_ASSERT_EQUAL("77"sv, header_param("<sip:a@b> ; tag = 77 ;foo", "tag"));
        std::string_view flag = header_param("<sip:a@b> ; tag = 77 ;foo", "foo");
        CPPUNIT_ASSERT(flag.data() != nullptr && flag.empty());
        CPPUNIT_ASSERT_EQUAL("a;b"sv, header_param("<sip:a@b>;x=\"a;b\";y=1", "x"));
        CPPUNIT_ASSERT_EQUAL("1"sv, header_param("<sip:a@b>;x=\"a;b\";y=1", "y"));
        CPPUNIT_ASSERT(header_param("<sip:a@b;tag=1", "tag").data() == nullptr);
        CPPUNIT_ASSERT(header_param("<sip:a@b>, <sip:c@d>;tag=1", "tag").data() == nullptr);

        CPPUNIT_ASSERT(iequals("Call-ID", "call-id"));
        CPPUNIT_ASSERT(!iequals("Call-ID", "call-id2"));
        CPPUNIT_ASSERT(!iequals("a", "b"));
        CPPUNIT_ASSERT(HdrType::RecordRoute == header_type("RECORD-route"));
        CPPUNIT_ASSERT(HdrType::ContentLength == header_type("L"));
        CPPUNIT_ASSERT(HdrType::Other == header_type("k"));

        std::string_view route = "<sip:p1.example.com;lr>, \"A,B\" <sip:p2;lr>,<sip:p3?h=a,b>";
        std::vector<std::string_view> items;
        size_t pos = 0;
        std::string_view item;
        while (next_value(route, pos, item))
            items.push_back(item);
        CPPUNIT_ASSERT_EQUAL(size_t{3}, items.size());
        CPPUNIT_ASSERT_EQUAL("<sip:p1.example.com;lr>"sv, items[0]);
        CPPUNIT_ASSERT_EQUAL("\"A,B\" <sip:p2;lr>"sv, items[1]);
        CPPUNIT_ASSERT_EQUAL("<sip:p3?h=a,b>"sv, items[2]);
    }

    // Expects parse failure of s with exactly the reason `why`.
    static void expect_error(const std::string& s, std::string_view why)
    {
        SipMsg m;
        ParseResult r = parse_message(s, m);
        CPPUNIT_ASSERT_MESSAGE("accepted: " + s, !r.ok);
        CPPUNIT_ASSERT_EQUAL(std::string(why), r.error);
    }

    void testRejectsHeaders()
    {
        SipMsg m;
        CPPUNIT_ASSERT(parse_message(variant("", ""), m).ok);  // the base itself is valid
        expect_error(variant("Via", ""), "missing Via");
        expect_error(variant("From", ""), "missing From");
        expect_error(variant("To", ""), "missing To");
        expect_error(variant("Call-ID", ""), "missing Call-ID");
        expect_error(variant("CSeq", ""), "missing CSeq");
        expect_error(variant("CSeq", "CSeq: 1 OPTIONS"), "CSeq method does not match request method");
        expect_error(variant("CSeq", "CSeq: 1 invite"), "CSeq method does not match request method");
        expect_error(variant("CSeq", "CSeq: abc INVITE"), "bad CSeq");
        expect_error(variant("CSeq", "CSeq: 2147483648 INVITE"), "bad CSeq");
        expect_error(variant("CSeq", "CSeq: -1 INVITE"), "bad CSeq");
        expect_error(variant("CSeq", "CSeq: 1INVITE"), "bad CSeq");
        expect_error(variant("CSeq", "CSeq: 1 INVITE x"), "bad CSeq");
        expect_error(variant("Content-Length", "Content-Length: abc"), "bad Content-Length");
        expect_error(variant("Content-Length", "Content-Length: -1"), "bad Content-Length");
        // Too large is its own reason (and never wraps to a small value).
        expect_error(variant("Content-Length", "Content-Length: 99999999999999999999999"),
                     "Content-Length over the maximum message size");
        expect_error(variant("Content-Length", "Content-Length: 0\r\nl: 1") + "x",
                     "conflicting Content-Length headers");
        expect_error(variant("Content-Length", "Content-Length: 10") + "short",
                     "body shorter than Content-Length");
        expect_error(variant("Max-Forwards", "Max-Forwards: ten"), "bad Max-Forwards");
        expect_error(variant("Max-Forwards", "Max-Forwards: 256"), "bad Max-Forwards");
        expect_error(variant("Max-Forwards", "Max-Forwards: 70\r\nMax-Forwards: 69"),
                     "multiple Max-Forwards headers");
        expect_error(variant("Call-ID", "Call-ID: a b"), "bad Call-ID");
        expect_error(variant("Call-ID", "Call-ID:"), "bad Call-ID");
        expect_error(variant("Call-ID", "Call-ID: x\r\ni: y"), "multiple Call-ID headers");
        expect_error(variant("From", "From: Alice"), "bad From header");
        expect_error(variant("From", "From: <sip:a@example.com;tag=1"), "bad From header");
        expect_error(variant("To", "To: <sip:b@x>\r\nt: <sip:b@x>"), "multiple To headers");
        expect_error(variant("", "Subject: a\0b"s), "NUL byte in header");
        expect_error(variant("", "Subject: \"a\0b\""s), "NUL byte in header");   // not escaped
        expect_error(variant("", "Subject: a\\\0b"s), "NUL byte in header");     // not in quotes
        expect_error(variant("", "Subject: a\rb"), "bare CR in header");
        expect_error(variant("", "Subject hello"), "header without colon");
        expect_error(variant("", "NoColonHere"), "header without colon");
        expect_error(variant("", "Bad@Name: x"), "bad header name");
        expect_error(variant("", ": novalue"), "bad header name");
        std::string cont = variant("", "");
        cont.insert(cont.find("\r\n") + 2, " folded-first\r\n");
        expect_error(cont, "continuation line without header");
        std::string noend = variant("", "");
        noend.resize(noend.size() - 2);
        expect_error(noend, "missing end of headers");
        expect_error("", "empty message");
        expect_error("\r\n\r\n", "empty message");
    }

    void testRejectsStartLine()
    {
        auto with_first = [](std::string_view first) {
            std::string s = variant("", "");
            return std::string(first) + s.substr(s.find("\r\n"));
        };
        expect_error(with_first("INVITE sip:b@example.com SIP/3.0"), "bad SIP version");
        expect_error(with_first("INVITE sip:b@example.com SIP/2.0 "), "whitespace after SIP version");
        expect_error(with_first("INVITE <sip:b@example.com> SIP/2.0"), "bad Request-URI");
        expect_error(with_first("INVITE sip:b@example.com?Route=%3Csip:x%3E SIP/2.0"), "headers in Request-URI");
        expect_error(with_first("INV@TE sip:b@example.com SIP/2.0"), "invalid method");
        expect_error(with_first("INVITE  sip:b@example.com SIP/2.0"), "bad Request-URI");
        expect_error(with_first("INVITE b@example.com SIP/2.0"), "bad Request-URI");
        expect_error(with_first("INVITE sip:b@example.com"), "bad request line");
        expect_error(with_first("INVITE"), "bad request line");
        expect_error(with_first(" INVITE sip:b@example.com SIP/2.0"), "bad request line");
        expect_error(with_first("SIP/2.0 099 Too Low"), "bad status code");
        expect_error(with_first("SIP/2.0 700 Too High"), "bad status code");
        expect_error(with_first("SIP/2.0 20 OK"), "bad status code");
        expect_error(with_first("SIP/2.0 2000 OK"), "bad status code");
        expect_error(with_first("SIP/2.0 2x0 OK"), "bad status code");
        expect_error(with_first("SIP/2.1 200 OK"), "bad SIP version");
        expect_error(with_first("SIP/2.0"), "bad status line");
        // A response does not need CSeq to match anything.
        SipMsg m;
        std::string ringing = with_first("SIP/2.0 180 Ringing");
        CPPUNIT_ASSERT(parse_message(ringing, m).ok);
        CPPUNIT_ASSERT_EQUAL("Ringing"sv, m.reason);
    }

    void testRejectsVia()
    {
        expect_error(variant("Via", "Via: SIP/2.0/UDP"), "bad Via header");
        expect_error(variant("Via", "Via:"), "bad Via header");
        expect_error(variant("Via", "Via: SIP/2.0/UDP host,"), "bad Via header");
        expect_error(variant("Via", "Via: SIP/2.0/UDP host junk"), "bad Via header");
        expect_error(variant("Via", "Via: SIP/2.0/UDP host:99999"), "bad Via port");
        expect_error(variant("Via", "Via: SIP/2.0/UDP host:0"), "bad Via port");
        expect_error(variant("Via", "Via: SIP/2.0/UDP host:"), "bad Via port");
        expect_error(variant("Via", "Via: SIP/3.0/UDP host"), "bad Via version");
        expect_error(variant("Via", "Via: HTTP/2.0/UDP host"), "bad Via protocol");
        expect_error(variant("Via", "Via: SIP/2.0 host"), "bad Via protocol");
        expect_error(variant("Via", "Via: SIP/2.0/"), "bad Via transport");
        expect_error(variant("Via", "Via: SIP/2.0/UDP [::1"), "bad Via host");
        expect_error(variant("Via", "Via: SIP/2.0/UDP [fe80::zz]"), "bad Via host");
        expect_error(variant("Via", "Via: SIP/2.0/UDP host;branch="), "bad Via parameter");
        expect_error(variant("Via", "Via: SIP/2.0/UDP host;=x"), "bad Via parameter");
        expect_error(variant("Via", "Via: SIP/2.0/UDP host;x=\"open"), "bad Via parameter");
    }

    void testLimits()
    {
        std::string extra;
        for (int i = 0; i < 249; ++i)  // 7 base headers + 249 = 256
            extra += "X-H: " + std::to_string(i) + "\r\n";
        std::string ok = variant("", extra.substr(0, extra.size() - 2));
        SipMsg m;
        CPPUNIT_ASSERT(parse_message(ok, m).ok);
        CPPUNIT_ASSERT_EQUAL(kMaxHeaders, m.headers.size());
        expect_error(variant("", extra + "X-H: last"), "too many headers");

        std::string vias = "Via: SIP/2.0/UDP h0;branch=z9hG4bK0";
        for (int i = 1; i < 64; ++i)
            vias += (i % 2 ? ", " : "\r\nVia: ") + ("SIP/2.0/UDP h" + std::to_string(i));
        std::string max_vias = variant("Via", vias);
        CPPUNIT_ASSERT(parse_message(max_vias, m).ok);
        CPPUNIT_ASSERT_EQUAL(kMaxVias, m.vias.size());
        expect_error(variant("Via", vias + ",SIP/2.0/UDP one-more"), "too many Via values");
    }

    void testTruncatedAtEveryLength()
    {
        const std::string samples[] = {
            kInvite,
            variant("Via", "Via: SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKq;rport,"
                           "SIP/2.0/UDP x\r\n ;received=1.2.3.4"),
            "SIP/2.0 404 Not Found\nv: SIP/2.0/UDP h;branch=z9hG4bK3\nf: <sip:a@h>;tag=1\n"
            "t: <sip:b@h>;tag=2\ni: q\nCSeq: 3 INVITE\nl: 4\n\nbody",
        };
        for (const std::string& full : samples) {
            SipMsg m;
            ParseResult r = parse_message(Exact(full).view(), m);
            CPPUNIT_ASSERT_MESSAGE(r.error, r.ok);
            size_t hend = m.headers_end;
            long cl = m.content_length;
            for (size_t n = 0; n < full.size(); ++n) {
                Exact cut(std::string_view(full).substr(0, n));
                ParseResult rc = parse_message(cut.view(), m);
                if (n < hend || cl > 0) {
                    CPPUNIT_ASSERT_MESSAGE("prefix " + std::to_string(n), !rc.ok);
                    if (n >= hend)
                        CPPUNIT_ASSERT_EQUAL("body shorter than Content-Length"s, rc.error);
                }
            }
        }
    }

    void testRandomMutations()
    {
        static const char kChars[] = {'\0', '\r', '\n', ':', ';', ',', '[', ']', '"', ' ',
                                      '\t', '<', '>', '=', '9', 'a', '/', '\\', '\x80'};
        uint32_t seed = 12345;
        auto rnd = [&seed](uint32_t n) {
            seed = seed * 1103515245u + 12345u;
            return (seed >> 8) % n;
        };
        size_t accepted = 0;
        for (int round = 0; round < 3000; ++round) {
            std::string s = round % 2 ? kInvite : variant("", "Route: <sip:p;lr>");
            int edits = 1 + static_cast<int>(rnd(4));
            for (int e = 0; e < edits; ++e) {
                size_t at = rnd(static_cast<uint32_t>(s.size()));
                char c = kChars[rnd(sizeof kChars)];
                switch (rnd(3)) {
                case 0: s[at] = c; break;
                case 1: s.insert(at, 1, c); break;
                default: s.erase(at, 1 + rnd(8)); break;
                }
            }
            Exact ex(s);
            SipMsg m;
            if (!parse_message(ex.view(), m).ok)
                continue;
            ++accepted;
            CPPUNIT_ASSERT(m.headers_end <= s.size());
            CPPUNIT_ASSERT(m.body.data() + m.body.size() <= ex.p.get() + s.size());
            CPPUNIT_ASSERT(!m.vias.empty() && m.vias.size() <= kMaxVias);
            for (const Via& v : m.vias)
                CPPUNIT_ASSERT(v.start < v.end && v.end <= m.headers_end);
        }
        CPPUNIT_ASSERT(accepted > 0);  // some mutations are harmless (e.g. in the body)
    }

    void testReuseResetsFields()
    {
        SipMsg m;
        CPPUNIT_ASSERT(parse_message(kInvite, m).ok);
        std::string second = variant("Content-Length", "");
        CPPUNIT_ASSERT(parse_message(second, m).ok);
        CPPUNIT_ASSERT_EQUAL(-1L, m.content_length);
        CPPUNIT_ASSERT_EQUAL(size_t{6}, m.headers.size());
        CPPUNIT_ASSERT_EQUAL("1"sv, m.from_tag);
        CPPUNIT_ASSERT(!parse_message("garbage", m).ok);
        CPPUNIT_ASSERT(parse_message(kInvite, m).ok);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, m.vias.size());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SipParserTest);
