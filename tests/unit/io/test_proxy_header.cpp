// The PROXY protocol header parser (core/io/proxy_header.cpp): v1 TCP4,
// TCP6 and UNKNOWN; v2 PROXY and LOCAL over IPv4 and IPv6 with TLVs; every
// header cut at every byte boundary is NeedMore up to its last byte and Done
// at it; what follows the header is not taken; oversized headers, a wrong
// signature, bad fields and bad lengths are errors, and garbage is one at
// its first byte.
#include "io/proxy_header.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

namespace ser {
namespace {

using S = ProxyHeader::Status;

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

// A v2 header: signature, version/command, family/transport, length, body.
std::string v2(unsigned char ver_cmd, unsigned char fam, const std::string& body)
{
    std::string h = kSig;
    h += static_cast<char>(ver_cmd);
    h += static_cast<char>(fam);
    h += static_cast<char>(body.size() >> 8);
    h += static_cast<char>(body.size() & 0xff);
    return h + body;
}

std::string bytes(std::initializer_list<int> b)
{
    std::string s;
    for (int x : b)
        s += static_cast<char>(x);
    return s;
}

// 192.0.2.7:5555 -> 198.51.100.1:5060
const std::string kInet = bytes({192, 0, 2, 7, 198, 51, 100, 1, 0x15, 0xb3, 0x13, 0xc4});

std::string inet6_block()
{
    std::string b(16, '\0');
    b[0] = 0x20; b[1] = 0x01; b[2] = 0x0d; b[3] = static_cast<char>(0xb8); b[15] = 9;   // 2001:db8::9
    std::string d(16, '\0');
    d[15] = 1;                                                                          // ::1
    return b + d + bytes({0xc3, 0x50, 0x13, 0xc5});                                     // 50000 -> 5061
}

// A TLV: type, 16-bit length, value.
std::string tlv(int type, const std::string& v)
{
    return bytes({type, static_cast<int>(v.size() >> 8), static_cast<int>(v.size() & 0xff)}) + v;
}

class ProxyHeaderTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ProxyHeaderTest);
    CPPUNIT_TEST(v1_tcp4);
    CPPUNIT_TEST(v1_tcp6);
    CPPUNIT_TEST(v1_unknown);
    CPPUNIT_TEST(v1_errors);
    CPPUNIT_TEST(v1_oversized);
    CPPUNIT_TEST(v2_proxy_inet_with_tlvs);
    CPPUNIT_TEST(v2_proxy_inet6);
    CPPUNIT_TEST(v2_local);
    CPPUNIT_TEST(v2_unspec_and_unix);
    CPPUNIT_TEST(v2_errors);
    CPPUNIT_TEST(every_split);
    CPPUNIT_TEST(garbage_at_first_byte);
    CPPUNIT_TEST_SUITE_END();

public:
    void v1_tcp4()
    {
        std::string h = "PROXY TCP4 192.0.2.7 198.51.100.1 5555 5060\r\n";
        ProxyHeader r = parse_proxy_header(h + "OPTIONS sip:x SIP/2.0\r\n");
        CPPUNIT_ASSERT(r.status == S::Done);
        CPPUNIT_ASSERT_EQUAL(h.size(), r.length);
        CPPUNIT_ASSERT_EQUAL(1, r.version);
        CPPUNIT_ASSERT(r.has_addr);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.7:5555"), r.src.str());
        CPPUNIT_ASSERT_EQUAL(std::string("198.51.100.1:5060"), r.dst.str());
        r = parse_proxy_header("PROXY TCP4 10.0.0.1 10.0.0.2 0 65535\r\n");
        CPPUNIT_ASSERT(r.status == S::Done);
        CPPUNIT_ASSERT_EQUAL(uint16_t(0), r.src.port());
        CPPUNIT_ASSERT_EQUAL(uint16_t(65535), r.dst.port());
    }

    void v1_tcp6()
    {
        ProxyHeader r = parse_proxy_header("PROXY TCP6 ::1 2001:db8::1 40000 5061\r\n");
        CPPUNIT_ASSERT(r.status == S::Done);
        CPPUNIT_ASSERT(r.has_addr);
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:40000"), r.src.str());
        CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::1]:5061"), r.dst.str());
    }

    void v1_unknown()
    {
        for (std::string h : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
            ProxyHeader r = parse_proxy_header(h + "rest");
            CPPUNIT_ASSERT(r.status == S::Done);
            CPPUNIT_ASSERT_EQUAL(h.size(), r.length);
            CPPUNIT_ASSERT(!r.has_addr);
        }
    }

    void v1_errors()
    {
        for (const char* h : {
                 "PROXY TCP4 192.0.2.7 198.51.100.1 5555\r\n",          // a field missing
                 "PROXY TCP4 192.0.2.7 198.51.100.1 5555 5060 x\r\n",   // one too many
                 "PROXY TCP4 ::1 ::1 5555 5060\r\n",                    // family mismatch
                 "PROXY TCP6 192.0.2.7 198.51.100.1 5555 5060\r\n",
                 "PROXY TCP4 192.0.2.7 198.51.100.1 65536 5060\r\n",    // port out of range
                 "PROXY TCP4 192.0.2.7 198.51.100.1 05555 5060\r\n",    // leading zero
                 "PROXY TCP4 192.0.2.7 198.51.100.1 -1 5060\r\n",
                 "PROXY TCP4 192.0.2.7  198.51.100.1 5555 5060\r\n",    // two spaces
                 "PROXY TCP4 192.0.2.256 198.51.100.1 5555 5060\r\n",
                 "PROXY UDP4 192.0.2.7 198.51.100.1 5555 5060\r\n",
                 "PROXY TCP4 [::1] [::1] 1 2\r\n",
                 "PROXY TCP4 192.0.2.7 198.51.100.1 5555 5060\n",       // LF alone
                 "PROXY TCP4 192.0.2.7 198.51.100.1 5555 5060\rX",
                 "PROXY\r\n",
                 "PROXY \r\n",
             }) {
            ProxyHeader r = parse_proxy_header(h);
            CPPUNIT_ASSERT_MESSAGE(h, r.status == S::Error);
            CPPUNIT_ASSERT(r.error != nullptr);
        }
    }

    void v1_oversized()
    {
        // 107 bytes with the CRLF is the limit: the UNKNOWN form may fill it.
        std::string head = "PROXY UNKNOWN ";
        std::string fits = head + std::string(kProxyV1Max - head.size() - 2, 'x') + "\r\n";
        CPPUNIT_ASSERT_EQUAL(kProxyV1Max, fits.size());
        CPPUNIT_ASSERT(parse_proxy_header(fits).status == S::Done);
        std::string over = head + std::string(kProxyV1Max - head.size() - 1, 'x') + "\r\n";
        CPPUNIT_ASSERT(parse_proxy_header(over).status == S::Error);
        // Without any CRLF: refused once 107 bytes are in, not before.
        std::string none = head + std::string(200, 'x');
        CPPUNIT_ASSERT(parse_proxy_header(none.substr(0, kProxyV1Max - 1)).status == S::NeedMore);
        CPPUNIT_ASSERT(parse_proxy_header(none.substr(0, kProxyV1Max)).status == S::Error);
    }

    void v2_proxy_inet_with_tlvs()
    {
        std::string tlvs = tlv(0x01, "sip") + tlv(0x04, "") + tlv(0x20, std::string(5, 'c'));
        std::string h = v2(0x21, 0x11, kInet + tlvs);
        ProxyHeader r = parse_proxy_header(h + "\x16\x03\x01");   // a TLS record follows
        CPPUNIT_ASSERT(r.status == S::Done);
        CPPUNIT_ASSERT_EQUAL(h.size(), r.length);
        CPPUNIT_ASSERT_EQUAL(2, r.version);
        CPPUNIT_ASSERT(r.has_addr);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.7:5555"), r.src.str());
        CPPUNIT_ASSERT_EQUAL(std::string("198.51.100.1:5060"), r.dst.str());
    }

    void v2_proxy_inet6()
    {
        std::string h = v2(0x21, 0x21, inet6_block() + tlv(0x05, "unique-id"));
        ProxyHeader r = parse_proxy_header(h);
        CPPUNIT_ASSERT(r.status == S::Done);
        CPPUNIT_ASSERT(r.has_addr);
        CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::9]:50000"), r.src.str());
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5061"), r.dst.str());
    }

    void v2_local()
    {
        // A health check: whatever the block says, the real peer stands.
        for (unsigned char fam : {0x00, 0x11, 0x21}) {
            std::string body = fam == 0x00 ? std::string() : fam == 0x11 ? kInet : inet6_block();
            ProxyHeader r = parse_proxy_header(v2(0x20, fam, body + tlv(0x03, "abcd")));
            CPPUNIT_ASSERT(r.status == S::Done);
            CPPUNIT_ASSERT(!r.has_addr);
        }
    }

    void v2_unspec_and_unix()
    {
        ProxyHeader r = parse_proxy_header(v2(0x21, 0x00, ""));
        CPPUNIT_ASSERT(r.status == S::Done);
        CPPUNIT_ASSERT(!r.has_addr);
        r = parse_proxy_header(v2(0x21, 0x31, std::string(216, 'u')));
        CPPUNIT_ASSERT(r.status == S::Done);
        CPPUNIT_ASSERT_EQUAL(kProxyV2Max, r.length);
        CPPUNIT_ASSERT(!r.has_addr);
    }

    void v2_errors()
    {
        auto err = [](const std::string& h) { return parse_proxy_header(h).status == S::Error; };
        CPPUNIT_ASSERT(err(v2(0x11, 0x11, kInet)));                       // version 1 in a v2 header
        CPPUNIT_ASSERT(err(v2(0x31, 0x11, kInet)));                       // version 3
        CPPUNIT_ASSERT(err(v2(0x22, 0x11, kInet)));                       // command 2
        CPPUNIT_ASSERT(err(v2(0x21, 0x41, kInet)));                       // family 4
        CPPUNIT_ASSERT(err(v2(0x21, 0x13, kInet)));                       // transport 3
        CPPUNIT_ASSERT(err(v2(0x21, 0x12, kInet)));                       // a datagram relay on a stream
        CPPUNIT_ASSERT(err(v2(0x21, 0x11, kInet.substr(0, 11))));         // block too short for IPv4
        CPPUNIT_ASSERT(err(v2(0x21, 0x21, kInet + std::string(20, 0))));  // 32 bytes: too short for IPv6
        CPPUNIT_ASSERT(err(v2(0x21, 0x11, kInet + bytes({0x01, 0x00}))));            // TLV header cut
        CPPUNIT_ASSERT(err(v2(0x21, 0x11, kInet + bytes({0x01, 0x00, 0x05, 'a'}))));  // TLV past the end
        // Longer than 16 + 216 is refused as soon as the length is known.
        std::string big = v2(0x21, 0x11, kInet + tlv(0x20, std::string(202, 'x')));
        CPPUNIT_ASSERT_EQUAL(kProxyV2Max + 1, big.size());
        CPPUNIT_ASSERT(err(big.substr(0, 16)));
        CPPUNIT_ASSERT(err(big));
        std::string top = v2(0x21, 0x11, kInet + tlv(0x20, std::string(201, 'x')));
        CPPUNIT_ASSERT(parse_proxy_header(top).status == S::Done);
        // A signature wrong in its last byte.
        std::string bad = v2(0x21, 0x11, kInet);
        bad[11] = 'X';
        CPPUNIT_ASSERT(err(bad));
        CPPUNIT_ASSERT(err(bad.substr(0, 12)));
    }

    void every_split()
    {
        const std::string headers[] = {
            "PROXY TCP4 192.0.2.7 198.51.100.1 5555 5060\r\n",
            "PROXY TCP6 ::1 ::1 40000 5061\r\n",
            "PROXY UNKNOWN\r\n",
            v2(0x21, 0x11, kInet + tlv(0x01, "h2")),
            v2(0x21, 0x21, inet6_block()),
            v2(0x20, 0x00, ""),
        };
        for (const std::string& h : headers) {
            std::string stream = h + "INVITE";
            for (size_t cut = 0; cut < h.size(); cut++)
                CPPUNIT_ASSERT_MESSAGE(h + " cut at " + std::to_string(cut),
                                       parse_proxy_header(stream.substr(0, cut)).status == S::NeedMore);
            for (size_t cut = h.size(); cut <= stream.size(); cut++) {
                ProxyHeader r = parse_proxy_header(stream.substr(0, cut));
                CPPUNIT_ASSERT(r.status == S::Done);
                CPPUNIT_ASSERT_EQUAL(h.size(), r.length);
            }
        }
    }

    void garbage_at_first_byte()
    {
        for (const char* g : {"O", "OPTIONS sip:x SIP/2.0\r\n", "\x16\x03\x01", "\r\r", "PROXX", "\r\n\r\n\r"}) {
            ProxyHeader r = parse_proxy_header(g);
            CPPUNIT_ASSERT_MESSAGE(g, r.status == S::Error);
        }
        CPPUNIT_ASSERT(parse_proxy_header("").status == S::NeedMore);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyHeaderTest);

}  // namespace
}  // namespace ser
