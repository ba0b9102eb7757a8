// log() text expansion: message and TLS facts by name, unknown names kept.
#include "route/route_engine.h"
#include "route/route_program.h"

#include <cppunit/extensions/HelperMacros.h>

namespace ser {

class RouteLogTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RouteLogTest);
    CPPUNIT_TEST(expandsMessageFacts);
    CPPUNIT_TEST(expandsTlsFacts);
    CPPUNIT_TEST_SUITE_END();

    static constexpr std::string_view kMsg =
        "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK-1\r\n"
        "From: <sip:a@b>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: cid-42\r\nCSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n";

public:
    void expandsMessageFacts()
    {
        RecvInfo ri;
        ri.proto = Proto::Udp;
        ri.src = *SockAddr::from_numeric("192.0.2.7", 5070);
        MsgContext ctx(kMsg, ri);
        CPPUNIT_ASSERT(ctx.parse().ok);
        CPPUNIT_ASSERT_EQUAL(std::string("OPTIONS sip:bob@example.com from 192.0.2.7:5070 over udp, cid-42, $nope"),
                             expand_log_text("$rm $ru from $si:$sp over $pr, $ci, $nope", ctx));
        CPPUNIT_ASSERT_EQUAL(std::string("tls=, verified=0"), expand_log_text("tls=$tls_version, verified=$tls_verified", ctx));
    }

    void expandsTlsFacts()
    {
        RecvInfo ri;
        ri.proto = Proto::Tls;
        ri.src = *SockAddr::from_numeric("::1", 40000);
        TlsFacts t;
        t.version = "TLSv1.3";
        t.cipher = "TLS_AES_128_GCM_SHA256";
        t.peer_cn = "alice";
        t.verified = true;
        MsgContext ctx(kMsg, ri, &t);
        CPPUNIT_ASSERT(ctx.parse().ok);
        CPPUNIT_ASSERT_EQUAL(std::string("alice TLSv1.3 TLS_AES_128_GCM_SHA256 1 ::1"),
                             expand_log_text("$tls_peer_cn $tls_version $tls_cipher $tls_verified $si", ctx));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RouteLogTest);

}  // namespace ser
