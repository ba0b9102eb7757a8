// Unit tests of core/sip/sip_uri.cpp: SIP/SIPS/tel URIs, IPv6 hosts, parameters
// and headers, escapes, rejections, the name-addr helpers and scan_host (the
// host scanner URIs and Via sent-by share).
#include "sip/sip_msg.h"
#include "sip/sip_uri.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>

using namespace ser::sip;
using namespace std::literals;

class SipUriTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SipUriTest);
    CPPUNIT_TEST(testSimple);
    CPPUNIT_TEST(testFull);
    CPPUNIT_TEST(testParams);
    CPPUNIT_TEST(testUserForms);
    CPPUNIT_TEST(testTel);
    CPPUNIT_TEST(testRejects);
    CPPUNIT_TEST(testPrefixesNeverOverread);
    CPPUNIT_TEST(testStripNameAddr);
    CPPUNIT_TEST(testUriParam);
    CPPUNIT_TEST(testScanHost);
    CPPUNIT_TEST_SUITE_END();

public:
    void testSimple()
    {
        SipUri u;
        CPPUNIT_ASSERT(parse_uri("sip:alice@atlanta.example.com", u));
        CPPUNIT_ASSERT_EQUAL("sip"sv, u.scheme);
        CPPUNIT_ASSERT_EQUAL("alice"sv, u.user);
        CPPUNIT_ASSERT(u.password.empty());
        CPPUNIT_ASSERT_EQUAL("atlanta.example.com"sv, u.host);
        CPPUNIT_ASSERT_EQUAL(uint16_t{0}, u.port);
        CPPUNIT_ASSERT(u.params.empty() && u.headers.empty() && !u.lr);

        CPPUNIT_ASSERT(parse_uri("SIP:Bob@Example.COM:5060", u));
        CPPUNIT_ASSERT_EQUAL("SIP"sv, u.scheme);
        CPPUNIT_ASSERT_EQUAL("Example.COM"sv, u.host);
        CPPUNIT_ASSERT_EQUAL(uint16_t{5060}, u.port);

        CPPUNIT_ASSERT(parse_uri("sip:192.0.2.1", u));
        CPPUNIT_ASSERT(u.user.empty());
        CPPUNIT_ASSERT_EQUAL("192.0.2.1"sv, u.host);
    }

    void testFull()
    {
        SipUri u;
        CPPUNIT_ASSERT(parse_uri("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr;"
                                 "maddr=239.255.255.1?subject=project%20x&priority=urgent",
                                 u));
        CPPUNIT_ASSERT_EQUAL("sips"sv, u.scheme);
        CPPUNIT_ASSERT_EQUAL("alice"sv, u.user);
        CPPUNIT_ASSERT_EQUAL("secret"sv, u.password);
        CPPUNIT_ASSERT_EQUAL("[2001:db8::1]"sv, u.host);
        CPPUNIT_ASSERT_EQUAL(uint16_t{5061}, u.port);
        CPPUNIT_ASSERT_EQUAL("transport=tcp;lr;maddr=239.255.255.1"sv, u.params);
        CPPUNIT_ASSERT_EQUAL("subject=project%20x&priority=urgent"sv, u.headers);
        CPPUNIT_ASSERT_EQUAL("tcp"sv, u.transport);
        CPPUNIT_ASSERT_EQUAL("239.255.255.1"sv, u.maddr);
        CPPUNIT_ASSERT(u.lr);

        CPPUNIT_ASSERT(parse_uri("sip:[::1]", u));
        CPPUNIT_ASSERT_EQUAL("[::1]"sv, u.host);
        CPPUNIT_ASSERT(parse_uri("sip:h?x=1", u));
        CPPUNIT_ASSERT_EQUAL("x=1"sv, u.headers);
        CPPUNIT_ASSERT(u.params.empty());
    }

    void testParams()
    {
        SipUri u;
        CPPUNIT_ASSERT(parse_uri("sip:proxy.example.com;lr", u));
        CPPUNIT_ASSERT(u.lr);
        CPPUNIT_ASSERT(u.transport.empty());
        CPPUNIT_ASSERT(parse_uri("sip:p.example.com:5080;LR=on;Transport=TLS", u));
        CPPUNIT_ASSERT(u.lr);
        CPPUNIT_ASSERT_EQUAL("TLS"sv, u.transport);
        CPPUNIT_ASSERT(parse_uri("sip:p.example.com;lrx", u));
        CPPUNIT_ASSERT(!u.lr);
    }

    void testUserForms()
    {
        SipUri u;
        CPPUNIT_ASSERT(parse_uri("sip:%61lice@example.com", u));
        CPPUNIT_ASSERT_EQUAL("%61lice"sv, u.user);
        CPPUNIT_ASSERT(parse_uri("sip:+1-212-555-1212;npdi@gw.example.com;user=phone", u));
        CPPUNIT_ASSERT_EQUAL("+1-212-555-1212;npdi"sv, u.user);
        CPPUNIT_ASSERT_EQUAL("gw.example.com"sv, u.host);
        CPPUNIT_ASSERT_EQUAL("user=phone"sv, u.params);
        CPPUNIT_ASSERT(parse_uri("sip:user:@example.com", u));  // empty password
        CPPUNIT_ASSERT(u.password.empty());
        CPPUNIT_ASSERT(parse_uri("sip:a@under_score.example.com:1", u));
        CPPUNIT_ASSERT_EQUAL(uint16_t{1}, u.port);
        CPPUNIT_ASSERT(parse_uri("sip:a@h:65535", u));
        CPPUNIT_ASSERT_EQUAL(uint16_t{65535}, u.port);
    }

    void testTel()
    {
        SipUri u;
        CPPUNIT_ASSERT(parse_uri("tel:+1-201-555-0123;phone-context=example.com", u));
        CPPUNIT_ASSERT_EQUAL("tel"sv, u.scheme);
        CPPUNIT_ASSERT_EQUAL("+1-201-555-0123"sv, u.user);
        CPPUNIT_ASSERT(u.host.empty());
        CPPUNIT_ASSERT_EQUAL("phone-context=example.com"sv, u.params);
        CPPUNIT_ASSERT(!parse_uri("tel:", u));
    }

    void testRejects()
    {
        static const char* const kBad[] = {
            "",
            "sip:",
            "sip",
            ":host",
            "sip:@host",
            "sip:user@",
            "sip:user@:5060",
            "sip:host:",
            "sip:host:0",
            "sip:host:65536",
            "sip:host:50x0",
            "sip:host:1234567",
            "http://example.com",
            "mailto:a@b",
            "sip:a b@host",
            "sip:host\t",
            "sip:[::1",
            "sip:[]",
            "sip:[zz::1]",
            "sip:%6lice@host",
            "sip:host%",
            "sip:ho/st",
            "sip:host;lr\x7f",
        };
        SipUri u;
        for (const char* s : kBad)
            CPPUNIT_ASSERT_MESSAGE(std::string("accepted ") + s, !parse_uri(s, u));
        CPPUNIT_ASSERT(!parse_uri("sip:a\0b@host"sv, u));
        CPPUNIT_ASSERT(!parse_uri("sip:h\xc3\xa9", u));
    }

    void testPrefixesNeverOverread()
    {
        std::string full = "sips:u:p@[2001:db8::1]:5061;transport=tls;lr?h=v";
        for (size_t n = 0; n <= full.size(); ++n) {
            auto p = std::make_unique<char[]>(n);
            if (n > 0)
                std::memcpy(p.get(), full.data(), n);
            SipUri u;
            bool ok = parse_uri(std::string_view(p.get(), n), u);
            if (n == full.size())
                CPPUNIT_ASSERT(ok);
            if (ok)
                CPPUNIT_ASSERT(!u.host.empty());
        }
    }

    void testStripNameAddr()
    {
        CPPUNIT_ASSERT_EQUAL("sip:alice@a.com"sv, strip_name_addr("\"Alice\" <sip:alice@a.com>;tag=1"));
        CPPUNIT_ASSERT_EQUAL("sip:a@b"sv, strip_name_addr("sip:a@b;tag=2"));
        CPPUNIT_ASSERT_EQUAL("sip:x@y"sv, strip_name_addr("  <sip:x@y>  "));
        CPPUNIT_ASSERT_EQUAL("sip:c@d"sv, strip_name_addr("\"A<B>\" <sip:c@d>"));
        CPPUNIT_ASSERT_EQUAL("sips:bob@b.com:5061;transport=tls"sv,
                             strip_name_addr("Bob <sips:bob@b.com:5061;transport=tls>;x=1"));
        CPPUNIT_ASSERT_EQUAL("sip:p1;lr"sv, strip_name_addr("<sip:p1;lr>, <sip:p2;lr>"));
        CPPUNIT_ASSERT_EQUAL("sip:u@h"sv, strip_name_addr("sip:u@h"));
        CPPUNIT_ASSERT(strip_name_addr("<sip:x@y").empty());
        CPPUNIT_ASSERT(strip_name_addr("\"unterminated <sip:x@y>").empty());
        CPPUNIT_ASSERT(strip_name_addr("Alice sip:a@b").empty());
        CPPUNIT_ASSERT(strip_name_addr("\"Alice\" sip:a@b").empty());
        CPPUNIT_ASSERT(strip_name_addr("").empty());
    }

    void testUriParam()
    {
        std::string_view params = "transport=udp;lr;maddr=1.2.3.4;ttl=";
        CPPUNIT_ASSERT_EQUAL("udp"sv, uri_param(params, "TRANSPORT"));
        CPPUNIT_ASSERT_EQUAL("1.2.3.4"sv, uri_param(params, "maddr"));
        std::string_view lr = uri_param(params, "lr");
        CPPUNIT_ASSERT(lr.data() != nullptr && lr.empty());
        std::string_view ttl = uri_param(params, "ttl");
        CPPUNIT_ASSERT(ttl.data() != nullptr && ttl.empty());
        CPPUNIT_ASSERT(uri_param(params, "user").data() == nullptr);
        CPPUNIT_ASSERT(uri_param({}, "lr").data() == nullptr);
        CPPUNIT_ASSERT(uri_param("lr", "lr").data() != nullptr);
    }

    void testScanHost()
    {
        CPPUNIT_ASSERT_EQUAL(size_t{11}, scan_host("example.com:5060", 0));
        CPPUNIT_ASSERT_EQUAL(size_t{12}, scan_host("x@a-b_c.d.e9;lr", 2));
        CPPUNIT_ASSERT_EQUAL(size_t{13}, scan_host("[2001:db8::1]:5060", 0));
        CPPUNIT_ASSERT_EQUAL(size_t{18}, scan_host("[::ffff:192.0.2.1]", 0));
        for (std::string_view bad : {"[]", "[::1", "[::g]", ":5060", "", "%41"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(bad), size_t{0}, scan_host(bad, 0));
        CPPUNIT_ASSERT_EQUAL(size_t{3}, scan_host("ab [::1", 3));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SipUriTest);
