// Unit tests of the stateless proxy (core/proxy/proxy.cpp, proxy_via.cpp,
// proxy_reply.cpp) over a FakeSender that records what was sent where:
// forwarding with our Via (branch, received/rport/i=, Max-Forwards),
// destinations, loose routing, response routing, local replies, malformed
// input and loop detection, and what each counts in the statistics.
#include "cfg/cfg_check.h"
#include "log.h"
#include "proxy/proxy.h"
#include "shm/shm.h"
#include "shm/stats.h"
#include "sip/sip_framing.h"
#include "sip/sip_msg.h"

#include "../test_util.h"
#include "proxy_harness.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace ser;
using namespace std::literals;

namespace {

using ser::test::addr;
using ser::test::crlf;
using ser::test::FakeSender;
using ser::test::Harness;
using ser::test::Sent;

const char* const kInvite =
    "INVITE sip:bob@10.0.0.3 SIP/2.0\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKclient1\n"
    "Max-Forwards: 70\n"
    "From: Alice <sip:alice@example.org>;tag=f1\n"
    "To: Bob <sip:bob@example.com>\n"
    "Call-ID: call-1@example.org\n"
    "CSeq: 7 INVITE\n"
    "Contact: <sip:alice@10.0.0.1:5062>\n"
    "Content-Length: 0\n"
    "\n";

// kInvite with the first occurrence of `from` replaced by `to`.
std::string edit(std::string_view from, std::string_view to, std::string m = kInvite)
{
    size_t p = m.find(from);
    CPPUNIT_ASSERT_MESSAGE(std::string(from), p != std::string::npos);
    m.replace(p, from.size(), to);
    return m;
}

// The value of branch= in the first Via line of msg.
std::string top_branch(const std::string& msg)
{
    size_t v = msg.find("\r\nVia: ");
    size_t b = msg.find("branch=", v);
    size_t e = msg.find_first_of(";,\r", b);
    return msg.substr(b + 7, e - b - 7);
}

bool has(const std::string& s, std::string_view part)
{
    return s.find(part) != std::string::npos;
}


}  // namespace

// Outside the anonymous namespace so the runner can select it by name.
class ProxyTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ProxyTest);
    CPPUNIT_TEST(testForwardAddsVia);
    CPPUNIT_TEST(testLeadingCrlfNotForwarded);
    CPPUNIT_TEST(testBranchDeterministic);
    CPPUNIT_TEST(testBranchWithoutCookie);
    CPPUNIT_TEST(testReceivedRport);
    CPPUNIT_TEST(testStreamAlias);
    CPPUNIT_TEST(testMaxForwards);
    CPPUNIT_TEST(testForwardToRequestUri);
    CPPUNIT_TEST(testForwardSips);
    CPPUNIT_TEST(testLooseRouteForward);
    CPPUNIT_TEST(testStrictRouteForward);
    CPPUNIT_TEST(testRecordRouteForward);
    CPPUNIT_TEST(testRewriteThenForward);
    CPPUNIT_TEST(testRawSend);
    CPPUNIT_TEST(testResponseRouting);
    CPPUNIT_TEST(testResponseMultiValueVia);
    CPPUNIT_TEST(testResponseOverStream);
    CPPUNIT_TEST(testResponseNotOurs);
    CPPUNIT_TEST(testLocalReply);
    CPPUNIT_TEST(testLocalReplyTargets);
    CPPUNIT_TEST(testBadRequest);
    CPPUNIT_TEST(testGarbage);
    CPPUNIT_TEST(testLoopDetection);
    CPPUNIT_TEST(testNoListenerAndSendFailure);
    CPPUNIT_TEST(testMyself);
    CPPUNIT_TEST(testExpandedWildcardListener);
    CPPUNIT_TEST(testStats);
    CPPUNIT_TEST(testNoSmuggling);
    CPPUNIT_TEST(testContentLengthOverLimit);
    CPPUNIT_TEST(testStreamGetsContentLength);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { log::init(-3, true, "LOG_DAEMON"); }
    void tearDown() override { log::init(2, true, "LOG_DAEMON"); }

    void testForwardAddsVia()
    {
        Harness h("route { forward(10.0.0.2, 5070); }");
        const auto& s = h.feed(kInvite);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, s.size());
        CPPUNIT_ASSERT(s[0].t.proto == Proto::Udp);
        CPPUNIT_ASSERT_EQUAL("10.0.0.2:5070"s, s[0].t.dst.str());
        CPPUNIT_ASSERT_EQUAL(0u, s[0].t.conn_id);
        const std::string& m = h.out();
        CPPUNIT_ASSERT(m.starts_with("INVITE sip:bob@10.0.0.3 SIP/2.0\r\n"
                                     "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK"));
        // The sender's Via follows, untouched: its host is the source address.
        CPPUNIT_ASSERT(has(m, "\r\nVia: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKclient1\r\nMax-Forwards: 69\r\n"));
        CPPUNIT_ASSERT_EQUAL(size_t{23}, top_branch(m).size());  // z9hG4bK + 16 hex digits
        sip::SipMsg parsed;
        CPPUNIT_ASSERT(sip::parse_message(m, parsed).ok);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, parsed.vias.size());
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h.stats()[Stat::RequestsForwarded]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h.stats()[Stat::RequestsIn]);
    }

    // RFC 3261 §7.5: CRLFs before the start line are ignored, and they are
    // not sent on either: on a stream a bare LF there is no frame at all and
    // the next hop closes the connection (found by tests/fuzz/udp_proxy).
    void testLeadingCrlfNotForwarded()
    {
        Harness h("route { forward(10.0.0.2, 5070); }");
        const auto& u = h.feed_raw("\r\n\n" + crlf(kInvite));
        CPPUNIT_ASSERT_EQUAL(size_t{1}, u.size());
        CPPUNIT_ASSERT(u[0].data.starts_with("INVITE sip:bob@10.0.0.3 SIP/2.0\r\n"));
        Harness t("route { forward_tcp(10.0.0.2, 5070); }");
        const auto& s = t.feed_raw("\n\n\r\n" + crlf(kInvite));
        CPPUNIT_ASSERT_EQUAL(size_t{1}, s.size());
        CPPUNIT_ASSERT(s[0].data.starts_with("INVITE sip:bob@10.0.0.3 SIP/2.0\r\n"));
        sip::Frame f = sip::next_frame(s[0].data, 65535);
        CPPUNIT_ASSERT(f.status == sip::FrameStatus::Message);
        CPPUNIT_ASSERT_EQUAL(s[0].data.size(), f.length);
    }

    void testBranchDeterministic()
    {
        Harness h("route { forward(10.0.0.2); }");
        std::string first = h.feed(kInvite).at(0).data;
        std::string again = h.feed(kInvite).at(0).data;
        CPPUNIT_ASSERT_EQUAL(first, again);  // a retransmission leaves identical
        std::string cancel = edit("INVITE sip", "CANCEL sip", edit("7 INVITE", "7 CANCEL"));
        CPPUNIT_ASSERT_EQUAL(top_branch(first), top_branch(h.feed(cancel).at(0).data));
        std::string ack = edit("INVITE sip", "ACK sip", edit("7 INVITE", "7 ACK"));
        CPPUNIT_ASSERT_EQUAL(top_branch(first), top_branch(h.feed(ack).at(0).data));
        std::string other = edit("z9hG4bKclient1", "z9hG4bKclient2");
        CPPUNIT_ASSERT(top_branch(first) != top_branch(h.feed(other).at(0).data));
        // Two forwards of one request (stateless forking) get two branches.
        Harness f("route { forward(10.0.0.2); forward(10.0.0.4); }");
        const auto& s = f.feed(kInvite);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, s.size());
        CPPUNIT_ASSERT(top_branch(s[0].data) != top_branch(s[1].data));
        CPPUNIT_ASSERT_EQUAL(top_branch(first), top_branch(s[0].data));
    }

    void testBranchWithoutCookie()
    {
        Harness h("route { forward(10.0.0.2); }");
        std::string old = edit("branch=z9hG4bKclient1", "branch=1234");
        std::string first = h.feed(old).at(0).data;
        CPPUNIT_ASSERT_EQUAL(first, h.feed(old).at(0).data);
        std::string cancel = edit("INVITE sip", "CANCEL sip", edit("7 INVITE", "7 CANCEL", old));
        CPPUNIT_ASSERT_EQUAL(top_branch(first), top_branch(h.feed(cancel).at(0).data));
        std::string next = edit("CSeq: 7", "CSeq: 8", old);
        CPPUNIT_ASSERT(top_branch(first) != top_branch(h.feed(next).at(0).data));
        CPPUNIT_ASSERT(top_branch(first).starts_with("z9hG4bK"));
    }

    void testReceivedRport()
    {
        Harness h("route { forward(10.0.0.2); }");
        h.ri.src = addr("10.0.0.1", 40000);
        // Behind a NAT: the Via names a private address.
        std::string nat = edit("10.0.0.1:5062;branch", "192.168.1.10:5060;branch");
        CPPUNIT_ASSERT(has(h.feed(nat).at(0).data,
                           "\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKclient1;received=10.0.0.1\r\n"));
        // rport asked: filled in, and received added even for a matching host (RFC 3581).
        std::string rport = edit("5062;branch=z9hG4bKclient1", "5062;rport;branch=z9hG4bKclient1");
        CPPUNIT_ASSERT(has(h.feed(rport).at(0).data,
                           "\r\nVia: SIP/2.0/UDP 10.0.0.1:5062;rport=40000;branch=z9hG4bKclient1;received=10.0.0.1\r\n"));
        // A stale received is replaced; a host name always gets one.
        std::string stale = edit("z9hG4bKclient1", "z9hG4bKclient1;received=1.1.1.1", nat);
        CPPUNIT_ASSERT(has(h.feed(stale).at(0).data, "z9hG4bKclient1;received=10.0.0.1\r\n"));
        std::string name = edit("10.0.0.1:5062;branch", "pc.example.org;branch");
        CPPUNIT_ASSERT(has(h.feed(name).at(0).data, "pc.example.org;branch=z9hG4bKclient1;received=10.0.0.1\r\n"));
        // force_rport() adds rport even when not asked.
        Harness f("route { force_rport(); forward(10.0.0.2); }");
        f.ri.src = addr("10.0.0.1", 40000);
        CPPUNIT_ASSERT(has(f.feed(kInvite).at(0).data, "branch=z9hG4bKclient1;received=10.0.0.1;rport=40000\r\n"));
    }

    void testStreamAlias()
    {
        Harness h("route { forward(10.0.0.2); }");
        std::string tcp = edit("SIP/2.0/UDP 10.0.0.1:5062", "SIP/2.0/TCP 10.0.0.1:5062");
        const auto& s = h.feed(tcp, Proto::Tcp, 42);
        CPPUNIT_ASSERT(has(s.at(0).data, "\r\nVia: SIP/2.0/TCP 10.0.0.1:5062;branch=z9hG4bKclient1;i=2a\r\n"));
        // Outgoing proto is the forward's (udp here), with our UDP Via.
        CPPUNIT_ASSERT(has(s.at(0).data, "\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch="));
    }

    void testMaxForwards()
    {
        Harness h("route { forward(10.0.0.2); }");
        std::string zero = edit("Max-Forwards: 70", "Max-Forwards: 0");
        const auto& s = h.feed(zero);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, s.size());
        CPPUNIT_ASSERT(s[0].data.starts_with("SIP/2.0 483 Too Many Hops\r\n"));
        CPPUNIT_ASSERT_EQUAL("10.0.0.1:5062"s, s[0].t.dst.str());
        std::string none = edit("Max-Forwards: 70\n", "");
        CPPUNIT_ASSERT(has(h.feed(none).at(0).data, "\r\nContent-Length: 0\r\nMax-Forwards: 70\r\n\r\n"));
        // The script's processing counts: no second decrement.
        Harness m("route { mf_process_maxfwd_header(\"10\"); forward(10.0.0.2); }");
        std::string out = m.feed(kInvite).at(0).data;
        CPPUNIT_ASSERT(has(out, "\r\nMax-Forwards: 69\r\n"));
        // The script answered 483 itself: no second reply.
        Harness r("route { if (!mf_process_maxfwd_header(\"10\")) { sl_send_reply(\"483\", \"Hops\"); }; forward(10.0.0.2); }");
        const auto& rs = r.feed(zero);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, rs.size());
        CPPUNIT_ASSERT(rs[0].data.starts_with("SIP/2.0 483 Hops\r\n"));
    }

    void testForwardToRequestUri()
    {
        Harness h("route { forward(); }");
        const auto& s = h.feed(edit("sip:bob@10.0.0.3 ", "sip:bob@10.0.0.3:5080;transport=tcp "));
        CPPUNIT_ASSERT(s.at(0).t.proto == Proto::Tcp);
        CPPUNIT_ASSERT_EQUAL("10.0.0.3:5080"s, s[0].t.dst.str());
        CPPUNIT_ASSERT(has(s[0].data, "\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch="));
        const auto& d = h.feed(kInvite);
        CPPUNIT_ASSERT(d.at(0).t.proto == Proto::Udp);
        CPPUNIT_ASSERT_EQUAL("10.0.0.3:5060"s, d[0].t.dst.str());
        const auto& m = h.feed(edit("sip:bob@10.0.0.3 ", "sip:bob@example.invalid;maddr=10.0.0.9 "));
        CPPUNIT_ASSERT_EQUAL("10.0.0.9:5060"s, m.at(0).t.dst.str());
        // forward_tcp forces the proto; uri:host/uri:port take the URI's parts.
        Harness t("route { forward_tcp(uri:host, uri:port); }");
        const auto& ts = t.feed(edit("sip:bob@10.0.0.3 ", "sip:bob@10.0.0.3:5090 "));
        CPPUNIT_ASSERT(ts.at(0).t.proto == Proto::Tcp);
        CPPUNIT_ASSERT_EQUAL("10.0.0.3:5090"s, ts[0].t.dst.str());
        // An IPv6 Request-URI without an IPv6 listener: 503.
        const auto& v6 = h.feed(edit("sip:bob@10.0.0.3 ", "sip:bob@[2001:db8::5] "));
        CPPUNIT_ASSERT(v6.at(0).data.starts_with("SIP/2.0 503 "));
        // A tel: URI cannot be forwarded to.
        const auto& tel = h.feed(edit("sip:bob@10.0.0.3 ", "tel:+1234 "));
        CPPUNIT_ASSERT(tel.at(0).data.starts_with("SIP/2.0 416 "));
        // Nor over a transport SIP does not have (serial is the bridge's, not SIP's).
        const auto& ser = h.feed(edit("sip:bob@10.0.0.3 ", "sip:bob@10.0.0.3;transport=serial "));
        CPPUNIT_ASSERT(ser.at(0).data.starts_with("SIP/2.0 503 Unsupported Transport\r\n"));
    }

    void testForwardSips()
    {
        Harness h("route { forward(); }");
        const auto& s = h.feed(edit("sip:bob@10.0.0.3 ", "sips:bob@10.0.0.3 "));
        CPPUNIT_ASSERT(s.at(0).t.proto == Proto::Tls);
        CPPUNIT_ASSERT_EQUAL("10.0.0.3:5061"s, s[0].t.dst.str());
        CPPUNIT_ASSERT(has(s[0].data, "\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch="));
        CPPUNIT_ASSERT_EQUAL("10.0.0.3"s, s[0].t.host);
    }

    void testLooseRouteForward()
    {
        Harness h("route { if (loose_route()) { forward(); break; }; sl_send_reply(\"404\", \"No Route\"); }");
        std::string routed = edit("Max-Forwards", "Route: <sip:127.0.0.1:5060;lr>, <sip:10.0.0.9:5070;lr>\nMax-Forwards");
        const auto& s = h.feed(routed);
        CPPUNIT_ASSERT_EQUAL("10.0.0.9:5070"s, s.at(0).t.dst.str());
        CPPUNIT_ASSERT(has(s[0].data, "\r\nRoute: <sip:10.0.0.9:5070;lr>\r\n"));
        CPPUNIT_ASSERT(!has(s[0].data, "127.0.0.1:5060;lr"));
        CPPUNIT_ASSERT(s[0].data.starts_with("INVITE sip:bob@10.0.0.3 SIP/2.0\r\n"));
        // Only our Route: the Request-URI is next.
        const auto& r = h.feed(edit("Max-Forwards", "Route: <sip:127.0.0.1;lr>\nMax-Forwards"));
        CPPUNIT_ASSERT_EQUAL("10.0.0.3:5060"s, r.at(0).t.dst.str());
        CPPUNIT_ASSERT(!has(r[0].data, "Route:"));
        // No Route at all: the script's 404.
        CPPUNIT_ASSERT(h.feed(kInvite).at(0).data.starts_with("SIP/2.0 404 No Route\r\n"));
    }

    // RFC 3261 §16.6 step 6: the next hop is a strict router (no ;lr).
    void testStrictRouteForward()
    {
        Harness h("route { if (loose_route()) { forward(); break; }; sl_send_reply(\"404\", \"No Route\"); }");
        const auto& s = h.feed(edit("Max-Forwards", "Route: <sip:127.0.0.1:5060;lr>, <sip:10.0.0.9:5070>,\n"
                                                   " <sip:p3.example.com;lr>\nMax-Forwards"));
        CPPUNIT_ASSERT_EQUAL(size_t{1}, s.size());
        CPPUNIT_ASSERT_EQUAL("10.0.0.9:5070"s, s[0].t.dst.str());
        const std::string& m = s[0].data;
        // Its URI is the Request-URI; the old Request-URI is the last Route value.
        CPPUNIT_ASSERT(m.starts_with("INVITE sip:10.0.0.9:5070 SIP/2.0\r\n"));
        CPPUNIT_ASSERT_MESSAGE(m, has(m, "\r\nRoute: <sip:p3.example.com;lr>\r\n"));
        CPPUNIT_ASSERT(!has(m, "10.0.0.9:5070>") && !has(m, "127.0.0.1:5060;lr>"));
        size_t last = m.rfind("\r\nRoute: ");
        const std::string old_ruri = "\r\nRoute: <sip:bob@10.0.0.3>\r\n";
        CPPUNIT_ASSERT(last != std::string::npos && m.compare(last, old_ruri.size(), old_ruri) == 0);
        CPPUNIT_ASSERT(last > m.find("<sip:p3.example.com;lr>"));
        // The only Route, strict: it goes, and the Request-URI becomes the Route.
        const auto& r = h.feed(edit("Max-Forwards", "Route: <sip:10.0.0.9:5070;transport=udp>\nMax-Forwards"));
        CPPUNIT_ASSERT_EQUAL(size_t{1}, r.size());
        CPPUNIT_ASSERT(r[0].data.starts_with("INVITE sip:10.0.0.9:5070;transport=udp SIP/2.0\r\n"));
        CPPUNIT_ASSERT(!has(r[0].data, "Route: <sip:10.0.0.9"));
        CPPUNIT_ASSERT(has(r[0].data, "\r\nRoute: <sip:bob@10.0.0.3>\r\n"));
        sip::SipMsg parsed;
        CPPUNIT_ASSERT(sip::parse_message(r[0].data, parsed).ok);
    }

    void testRecordRouteForward()
    {
        Harness h("route { record_route(); forward(10.0.0.2); }");
        std::string m = h.feed(kInvite).at(0).data;
        CPPUNIT_ASSERT(has(m, "\r\nRecord-Route: <sip:127.0.0.1:5060;lr>\r\n"));
        // Record-Route above the Via rows, which stay together.
        CPPUNIT_ASSERT(has(m, "\r\nRecord-Route: <sip:127.0.0.1:5060;lr>\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch="));
        CPPUNIT_ASSERT(has(m, "\r\nVia: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKclient1\r\n"));
        size_t ours = m.find("\r\nVia: SIP/2.0/UDP 127.0.0.1");
        std::string_view theirs = "\r\nVia: SIP/2.0/UDP 10.0.0.1:5062";
        CPPUNIT_ASSERT(m.compare(m.find("\r\n", ours + 2), theirs.size(), theirs) == 0);
        h.ri.listener = &h.sender.ls_[1];
        std::string tcp = edit("SIP/2.0/UDP 10.0.0.1:5062", "SIP/2.0/TCP 10.0.0.1:5062");
        CPPUNIT_ASSERT(has(h.feed(tcp, Proto::Tcp, 7).at(0).data,
                           "\r\nRecord-Route: <sip:127.0.0.1:5060;transport=tcp;lr>\r\n"));
    }

    void testRewriteThenForward()
    {
        Harness h("route { rewritehostport(\"10.0.0.4:5090\"); forward(); }");
        const auto& s = h.feed(kInvite);
        CPPUNIT_ASSERT_EQUAL("10.0.0.4:5090"s, s.at(0).t.dst.str());
        CPPUNIT_ASSERT(s[0].data.starts_with("INVITE sip:bob@10.0.0.4:5090 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1"));
    }

    void testRawSend()
    {
        Harness h("route { send(10.0.0.2, 5070); }");
        const auto& s = h.feed(kInvite);
        CPPUNIT_ASSERT_EQUAL("10.0.0.2:5070"s, s.at(0).t.dst.str());
        CPPUNIT_ASSERT_EQUAL(crlf(kInvite), s[0].data);  // no Via, nothing changed
    }

    static std::string response(std::string_view vias, int code = 200)
    {
        return "SIP/2.0 " + std::to_string(code) + " OK\n" + std::string(vias) +
               "From: <sip:alice@example.org>;tag=f1\nTo: <sip:bob@example.com>;tag=t1\n"
               "Call-ID: call-1@example.org\nCSeq: 7 INVITE\nContent-Length: 0\n\n";
    }

    void testResponseRouting()
    {
        Harness h("route { drop; }");
        std::string r = response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours\n"
                                 "Via: SIP/2.0/UDP 192.168.1.10:5060;rport=40000;received=10.0.0.1;branch=z9hG4bKc\n");
        const auto& s = h.feed(r);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, s.size());
        CPPUNIT_ASSERT(s[0].t.proto == Proto::Udp);
        CPPUNIT_ASSERT_EQUAL("10.0.0.1:40000"s, s[0].t.dst.str());
        CPPUNIT_ASSERT(s[0].data.starts_with("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;rport=40000;"));
        CPPUNIT_ASSERT(!has(s[0].data, "z9hG4bKours"));
        // No received/rport: sent-by host and port; no port: 5060.
        std::string plain = response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours\n"
                                     "Via: SIP/2.0/UDP 10.0.0.7:5099;branch=z9hG4bKc\n");
        CPPUNIT_ASSERT_EQUAL("10.0.0.7:5099"s, h.feed(plain).at(0).t.dst.str());
        std::string noport = response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours\n"
                                      "Via: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bKc\n");
        CPPUNIT_ASSERT_EQUAL("10.0.0.7:5060"s, h.feed(noport).at(0).t.dst.str());
        // A host name without received= only comes from a forged response: no DNS, dropped.
        std::string named = response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours\n"
                                     "Via: SIP/2.0/UDP slow.example.invalid:5060;branch=z9hG4bKc\n");
        CPPUNIT_ASSERT(h.feed(named).empty());
        // A next Via over a transport SIP does not have: dropped.
        std::string serial = response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours\n"
                                      "Via: SIP/2.0/SERIAL 10.0.0.7:5060;branch=z9hG4bKc\n");
        CPPUNIT_ASSERT(h.feed(serial).empty());
    }

    void testResponseMultiValueVia()
    {
        Harness h("route { drop; }");
        std::string r = response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours, SIP/2.0/UDP 10.0.0.7:5099;branch=z9hG4bKc\n"
                                 "Via: SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKd\n");
        const auto& s = h.feed(r);
        CPPUNIT_ASSERT_EQUAL("10.0.0.7:5099"s, s.at(0).t.dst.str());
        CPPUNIT_ASSERT(s[0].data.starts_with("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.7:5099;branch=z9hG4bKc\r\n"
                                             "Via: SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKd\r\n"));
        sip::SipMsg parsed;
        CPPUNIT_ASSERT(sip::parse_message(s[0].data, parsed).ok);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, parsed.vias.size());
    }

    void testResponseOverStream()
    {
        Harness h("route { drop; }");
        std::string r = response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours\n"
                                 "Via: SIP/2.0/TCP 192.168.1.10:5060;received=10.0.0.1;rport=40001;branch=z9hG4bKc;i=2a\n");
        const auto& s = h.feed(r);
        CPPUNIT_ASSERT(s.at(0).t.proto == Proto::Tcp);
        CPPUNIT_ASSERT_EQUAL(42u, s[0].t.conn_id);
        CPPUNIT_ASSERT_EQUAL("10.0.0.1:40001"s, s[0].t.dst.str());
        std::string tls = response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours\n"
                                   "Via: SIP/2.0/TLS 10.0.0.5;branch=z9hG4bKc\n");
        const auto& t = h.feed(tls);
        CPPUNIT_ASSERT(t.at(0).t.proto == Proto::Tls);
        CPPUNIT_ASSERT_EQUAL(0u, t[0].t.conn_id);
        CPPUNIT_ASSERT_EQUAL("10.0.0.5:5061"s, t[0].t.dst.str());
    }

    void testResponseNotOurs()
    {
        Harness h("route { drop; }");
        CPPUNIT_ASSERT(h.feed(response("Via: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bKx\n"
                                       "Via: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bKc\n")).empty());
        // Ours by address but without the magic cookie.
        CPPUNIT_ASSERT(h.feed(response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=old1\n"
                                       "Via: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bKc\n")).empty());
        // Ours, but another port.
        CPPUNIT_ASSERT(h.feed(response("Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKours\n"
                                       "Via: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bKc\n")).empty());
        // Ours, but nobody below.
        CPPUNIT_ASSERT(h.feed(response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours\n")).empty());
        StatsSnapshot st = h.stats();
        CPPUNIT_ASSERT_EQUAL(uint64_t{4}, st.dropped());
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, st[DropReason::NotOurs]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, st[DropReason::NoRoute]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{4}, st[Stat::RepliesIn]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, st[Stat::RepliesForwarded]);
    }

    void testLocalReply()
    {
        Harness h("route { sl_send_reply(\"404\", \"Not Here\"); }");
        h.ri.src = addr("10.0.0.1", 40000);
        std::string req = edit("Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKclient1\n",
                               "Via: SIP/2.0/UDP 192.168.1.10:5062;branch=z9hG4bKclient1\n"
                               "Via: SIP/2.0/UDP 10.5.5.5;branch=z9hG4bKp1, SIP/2.0/TCP 10.6.6.6;branch=z9hG4bKp2\n");
        const auto& s = h.feed(req);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, s.size());
        const std::string& m = s[0].data;
        CPPUNIT_ASSERT(m.starts_with("SIP/2.0 404 Not Here\r\n"
                                     "Via: SIP/2.0/UDP 192.168.1.10:5062;branch=z9hG4bKclient1;received=10.0.0.1\r\n"
                                     "Via: SIP/2.0/UDP 10.5.5.5;branch=z9hG4bKp1, SIP/2.0/TCP 10.6.6.6;branch=z9hG4bKp2\r\n"
                                     "From: Alice <sip:alice@example.org>;tag=f1\r\n"
                                     "To: Bob <sip:bob@example.com>;tag="));
        CPPUNIT_ASSERT(has(m, "\r\nCall-ID: call-1@example.org\r\nCSeq: 7 INVITE\r\nServer: ser (" SER_VERSION ")\r\n"
                              "Content-Length: 0\r\n\r\n"));
        CPPUNIT_ASSERT(m.ends_with("\r\n\r\n"));
        sip::SipMsg parsed;
        CPPUNIT_ASSERT(sip::parse_message(m, parsed).ok);
        CPPUNIT_ASSERT_EQUAL(size_t{3}, parsed.vias.size());
        CPPUNIT_ASSERT(!parsed.to_tag.empty());
        // The tag is the same for a retransmission.
        std::string tag(parsed.to_tag);
        sip::SipMsg again;
        std::string m2 = h.feed(req).at(0).data;
        CPPUNIT_ASSERT(sip::parse_message(m2, again).ok);
        CPPUNIT_ASSERT_EQUAL(tag, std::string(again.to_tag));
        // No rport asked: to the source IP at the Via port.
        CPPUNIT_ASSERT_EQUAL("10.0.0.1:5062"s, s[0].t.dst.str());
        // A To tag already there stays alone; 100 gets none; no Server when disabled.
        Harness t("route { sl_send_reply(\"100\", \"Trying\"); }", "server_signature=no");
        std::string tr = t.feed(edit("To: Bob <sip:bob@example.com>", "To: Bob <sip:bob@example.com>;tag=x1")).at(0).data;
        CPPUNIT_ASSERT(has(tr, "\r\nTo: Bob <sip:bob@example.com>;tag=x1\r\n"));
        CPPUNIT_ASSERT(has(t.feed(kInvite).at(0).data, "\r\nTo: Bob <sip:bob@example.com>\r\n"));
        CPPUNIT_ASSERT(!has(tr, "Server:"));
    }

    void testLocalReplyTargets()
    {
        Harness h("route { sl_send_reply(\"200\", \"OK\"); }");
        h.ri.src = addr("10.0.0.1", 40000);
        std::string rport = edit("5062;branch", "5062;rport;branch");
        const auto& r = h.feed(rport);
        CPPUNIT_ASSERT_EQUAL("10.0.0.1:40000"s, r.at(0).t.dst.str());
        CPPUNIT_ASSERT(has(r[0].data, "Via: SIP/2.0/UDP 10.0.0.1:5062;rport=40000;branch=z9hG4bKclient1;received=10.0.0.1\r\n"));
        std::string tcp = edit("SIP/2.0/UDP 10.0.0.1:5062", "SIP/2.0/TCP 10.0.0.1:5062");
        const auto& t = h.feed(tcp, Proto::Tcp, 9);
        CPPUNIT_ASSERT(t.at(0).t.proto == Proto::Tcp);
        CPPUNIT_ASSERT_EQUAL(9u, t[0].t.conn_id);
        // Should connection 9 be gone: a new one to the Via's port (RFC 3261 §18.2.2).
        CPPUNIT_ASSERT_EQUAL("10.0.0.1:5062"s, t[0].t.dst.str());
        // Never a reply to an ACK.
        std::string ack = edit("INVITE sip", "ACK sip", edit("7 INVITE", "7 ACK"));
        CPPUNIT_ASSERT(h.feed(ack).empty());
    }

    void testBadRequest()
    {
        Harness h("route { forward(10.0.0.2); }");
        std::string bad = edit("Content-Length: 0", "Content-Length: abc");
        const auto& s = h.feed(bad);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, s.size());
        CPPUNIT_ASSERT(s[0].data.starts_with("SIP/2.0 400 Bad Request"));
        CPPUNIT_ASSERT_EQUAL("10.0.0.1:5062"s, s[0].t.dst.str());
        sip::SipMsg parsed;
        CPPUNIT_ASSERT(sip::parse_message(s[0].data, parsed).ok);
        CPPUNIT_ASSERT_EQUAL(400, parsed.status);
        CPPUNIT_ASSERT(!parsed.to_tag.empty());
        CPPUNIT_ASSERT_EQUAL("call-1@example.org"sv, parsed.call_id);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h.stats()[Stat::ParseErrors]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h.stats()[Stat::RepliedLocally]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, h.stats()[Stat::RequestsForwarded]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, h.stats()[Stat::RequestsIn]);   // a request only once it parses
        // Missing Call-ID: no reply possible; a broken Via: none either.
        CPPUNIT_ASSERT(h.feed(edit("Call-ID: call-1@example.org\n", "", bad)).empty());
        CPPUNIT_ASSERT(h.feed(edit("SIP/2.0/UDP 10.0.0.1:5062", "SIP/2.0/UDP 10.0.0.1:x", bad)).empty());
        // A malformed ACK or response: silence.
        CPPUNIT_ASSERT(h.feed(edit("INVITE sip", "ACK sip", edit("7 INVITE", "7 ACK", bad))).empty());
        CPPUNIT_ASSERT(h.feed(response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours\nContent-Length: x\n")).empty());
        CPPUNIT_ASSERT_EQUAL(uint64_t{5}, h.stats()[Stat::ParseErrors]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{4}, h.stats()[DropReason::Malformed]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{4}, h.stats().dropped());
    }

    void testGarbage()
    {
        Harness h("route { forward(10.0.0.2); }");
        CPPUNIT_ASSERT(h.feed("hello world\n\n").empty());
        CPPUNIT_ASSERT(h.feed(std::string("\x16\x03\x01\x00\xa5\x01\x00", 7)).empty());
        CPPUNIT_ASSERT(h.feed("").empty());
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, h.stats()[Stat::ParseErrors]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, h.stats()[DropReason::Malformed]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, h.stats().dropped());
    }

    void testLoopDetection()
    {
        Harness h("route { forward(127.0.0.1, 5060); }");
        const auto& s = h.feed(kInvite);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, s.size());
        CPPUNIT_ASSERT(s[0].data.starts_with("SIP/2.0 482 Loop Detected\r\n"));
        CPPUNIT_ASSERT_EQUAL("10.0.0.1:5062"s, s[0].t.dst.str());
        Harness u("route { forward(); }");
        CPPUNIT_ASSERT(u.feed(edit("sip:bob@10.0.0.3", "sip:bob@127.0.0.1")).at(0).data.starts_with("SIP/2.0 482 "));
        Harness t("route { forward_tcp(127.0.0.1, 5060); }");
        CPPUNIT_ASSERT(t.feed(kInvite).at(0).data.starts_with("SIP/2.0 482 "));
        // Another port on our address is not us.
        Harness o("route { forward(127.0.0.1, 5070); }");
        CPPUNIT_ASSERT(o.feed(kInvite).at(0).data.starts_with("INVITE "));
        // A dropped request is not answered, even after a failed forward.
        Harness d("route { forward(127.0.0.1, 5060); drop; }");
        CPPUNIT_ASSERT(d.feed(kInvite).empty());
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, d.stats()[DropReason::ScriptDrop]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, d.stats().dropped());
        // An ACK whose forward fails gets no reply: it had nowhere to go.
        std::string ack = edit("INVITE sip", "ACK sip", edit("7 INVITE", "7 ACK"));
        CPPUNIT_ASSERT(h.feed(ack).empty());
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h.stats()[DropReason::NoRoute]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h.stats()[Stat::RepliedLocally]);   // the 482 to the INVITE
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h.stats().dropped());
    }

    void testNoListenerAndSendFailure()
    {
        Harness h("route { forward_tls(10.0.0.2); }");
        h.sender.ls_.pop_back();  // no TLS listener
        const auto& s = h.feed(kInvite);
        CPPUNIT_ASSERT(s.at(0).data.starts_with("SIP/2.0 503 Service Unavailable\r\n"));
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h.stats()[Stat::RepliedLocally]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, h.stats().dropped());
        // Fail-over in the script: no automatic reply when the second try leaves.
        Harness f("route { if (!forward_tls(10.0.0.2)) { forward_udp(10.0.0.2); }; }");
        f.sender.ls_.pop_back();
        const auto& fs = f.feed(kInvite);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, fs.size());
        CPPUNIT_ASSERT(fs[0].data.starts_with("INVITE "));
        Harness e("route { forward(10.0.0.2); }");
        e.sender.ok = false;
        CPPUNIT_ASSERT(e.feed(kInvite).empty());
        CPPUNIT_ASSERT_EQUAL(2, e.sender.refused);  // the forward and the 503
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, e.stats()[DropReason::SendFailure]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, e.stats().dropped());
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, e.stats()[Stat::RequestsForwarded]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, e.stats()[Stat::RepliedLocally]);
    }

    void testMyself()
    {
        Harness h("route { if (uri == myself) { sl_send_reply(\"200\", \"me\"); break; }; sl_send_reply(\"404\", \"other\"); }",
                  "alias=proxy.example.com\nalias=\"sip.example.net:5070\"");
        auto code = [&](std::string_view uri) {
            return h.feed(edit("sip:bob@10.0.0.3", uri)).at(0).data.substr(8, 3);
        };
        CPPUNIT_ASSERT_EQUAL("200"s, code("sip:bob@127.0.0.1"));
        CPPUNIT_ASSERT_EQUAL("200"s, code("sip:bob@127.0.0.1:5060"));
        CPPUNIT_ASSERT_EQUAL("404"s, code("sip:bob@127.0.0.1:5070"));
        CPPUNIT_ASSERT_EQUAL("200"s, code("sip:bob@PROXY.example.com"));
        CPPUNIT_ASSERT_EQUAL("200"s, code("sip:bob@proxy.example.com:5999"));
        CPPUNIT_ASSERT_EQUAL("200"s, code("sip:bob@sip.example.net:5070"));
        CPPUNIT_ASSERT_EQUAL("404"s, code("sip:bob@sip.example.net:5071"));
        CPPUNIT_ASSERT_EQUAL("404"s, code("sip:bob@10.0.0.3"));
        CPPUNIT_ASSERT(h.proxy->is_my_addr(addr("127.0.0.1", 1)));
        CPPUNIT_ASSERT(!h.proxy->is_my_addr(addr("10.0.0.3", 1)));
        CPPUNIT_ASSERT(h.proxy->is_myself("[::ffff:127.0.0.2]", 0) == false);
    }

    // listen=udp:0.0.0.0:5080 reaches the proxy as start-up expands it
    // (Runtime::setup): one listener per local address, each of them myself.
    void testExpandedWildcardListener()
    {
        Harness h("route { if (uri == myself) { sl_send_reply(\"200\", \"me\"); break; }; forward(); }");
        FakeSender expanded;
        expanded.ls_.clear();
        for (const SockAddr& a : local_addresses(AF_INET, 5080))
            expanded.ls_.push_back(ListenAddr{Proto::Udp, a, a.str()});
        CPPUNIT_ASSERT(!expanded.ls_.empty());
        Proxy p(h.cfg, expanded, *h.counts->slot(0));
        for (const ListenAddr& l : expanded.ls_)
            CPPUNIT_ASSERT_MESSAGE(l.addr.str(), p.is_myself(l.addr.ip(), 5080));
        CPPUNIT_ASSERT(p.is_myself("127.0.0.1", 5080));  // loopback is a local interface
        CPPUNIT_ASSERT(!p.is_myself("127.0.0.1", 5060));
        CPPUNIT_ASSERT(!p.is_myself("0.0.0.0", 5080));
        std::string buf = crlf(edit("sip:bob@10.0.0.3", "sip:bob@127.0.0.1:5080"));
        p.on_message(buf, h.ri);
        CPPUNIT_ASSERT(expanded.sent.at(0).data.starts_with("SIP/2.0 200 me\r\n"));
    }

    void testStats()
    {
        Harness h("route { if (method == \"OPTIONS\") { sl_send_reply(\"200\", \"OK\"); break; }; "
                  "if (method == \"BYE\") { drop; }; forward(10.0.0.2); }");
        h.feed(kInvite);
        h.feed(edit("INVITE sip", "OPTIONS sip", edit("7 INVITE", "7 OPTIONS")));
        h.feed(edit("INVITE sip", "BYE sip", edit("7 INVITE", "7 BYE")));
        h.feed(response("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours\nVia: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bKc\n"));
        h.feed("junk\n\n");
        // A request the script neither forwards nor answers is dropped by it too.
        Harness n("route { if (method == \"BYE\") { forward(10.0.0.2); }; }");
        n.feed(kInvite);
        StatsSnapshot st = h.stats();
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, st[Stat::RequestsIn]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, st[Stat::RepliesIn]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, st[Stat::RequestsForwarded]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, st[Stat::RepliesForwarded]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, st[Stat::RepliedLocally]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, st.dropped());
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, st[DropReason::ScriptDrop]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, st[DropReason::Malformed]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, st[Stat::ParseErrors]);
        CPPUNIT_ASSERT_EQUAL(0, h.sender.refused);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, n.stats()[DropReason::ScriptDrop]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, n.stats()[Stat::RequestsForwarded]);
        // The proxy counts no transport: messages in and out are the workers'.
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, st.msgs_in(Proto::Udp) + st.msgs_out(Proto::Udp));
    }

    // A datagram with a second request after Content-Length: only the first
    // leaves, the rest is counted and never forwarded (RFC 3261 §18.3).
    void testNoSmuggling()
    {
        Harness h("route { forward_tcp(10.0.0.2, 5070); }");
        std::string bye = edit("INVITE sip", "BYE sip", edit("7 INVITE", "8 BYE", edit("call-1", "smuggled")));
        std::string both = std::string(kInvite) + bye;
        const auto& s = h.feed(both);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, s.size());
        CPPUNIT_ASSERT(!has(h.out(), "BYE"));
        CPPUNIT_ASSERT(!has(h.out(), "smuggled"));
        CPPUNIT_ASSERT(h.out().ends_with("Content-Length: 0\r\n\r\n"));
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h.stats().discarded_msgs(DiscardReason::AfterBody));
        CPPUNIT_ASSERT_EQUAL(uint64_t{crlf(bye).size()}, h.stats().discarded_bytes(DiscardReason::AfterBody));
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h.stats()[Stat::RequestsForwarded]);   // the INVITE left
        // A body within Content-Length stays; only what follows it goes.
        std::string with_body = edit("Content-Length: 0\n\n", "Content-Length: 3\n\nabcXYZ");
        h.feed(with_body);
        CPPUNIT_ASSERT(h.out().ends_with("\r\n\r\nabc"));
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, h.stats().discarded_msgs(DiscardReason::AfterBody));
        CPPUNIT_ASSERT_EQUAL(uint64_t{crlf(bye).size() + 3}, h.stats().discarded_bytes(DiscardReason::AfterBody));
    }

    // A datagram without Content-Length going onto a stream gets one (else
    // the next hop would read the next message as this one's body).
    void testStreamGetsContentLength()
    {
        std::string no_clen = edit("Content-Length: 0\n\n", "\nv=0\n");
        Harness tcp("route { forward_tcp(10.0.0.2, 5070); }");
        tcp.feed(no_clen);
        CPPUNIT_ASSERT(tcp.out().ends_with("\r\nContent-Length: 5\r\n\r\nv=0\r\n"));
        sip::SipMsg parsed;
        CPPUNIT_ASSERT(sip::parse_message(tcp.out(), parsed).ok);
        CPPUNIT_ASSERT_EQUAL(5L, parsed.content_length);
        Harness udp("route { forward(10.0.0.2, 5070); }");
        udp.feed(no_clen);
        CPPUNIT_ASSERT(!has(udp.out(), "Content-Length"));   // a datagram stays as it came
    }

    // Content-Length over the transport's limit: a 400 on UDP, never a wrap.
    void testContentLengthOverLimit()
    {
        Harness h("route { forward(10.0.0.2, 5070); }", "udp_max_msg_size=4096");
        for (const char* v : {"18446744073709551621", "9223372036854775808", "5000"}) {
            std::string m = edit("Content-Length: 0\n\n", std::string("Content-Length: ") + v + "\n\nhello");
            const auto& s = h.feed(m);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(v, size_t{1}, s.size());
            CPPUNIT_ASSERT_MESSAGE(v, h.out().starts_with("SIP/2.0 400 "));
            CPPUNIT_ASSERT_MESSAGE(v, has(h.out(), "Content-Length over the maximum message size"));
            CPPUNIT_ASSERT(s[0].t.dst.str() == "10.0.0.1:5062");   // back to the sender
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyTest);
