// Unit tests of the route engine (core/route/route_engine.cpp, route_cond.cpp,
// route_actions.cpp): every condition operand and operator, every action,
// route(N)/break/drop/exit/return semantics and if/else chains. The proxy is
// replaced by a FakeHost that records forwards and replies.
#include "cfg/cfg_check.h"
#include "log.h"
#include "route/route_engine.h"

#include "../test_util.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace ser;
using namespace std::literals;

namespace {

using ser::test::crlf;

const char* const kInvite =
    "INVITE sip:bob@example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP 10.1.2.3:5070;branch=z9hG4bKabc\n"
    "Max-Forwards: 70\n"
    "From: <sip:alice@example.org>;tag=f1\n"
    "To: <sip:bob@example.com>\n"
    "Call-ID: call-1@example.org\n"
    "CSeq: 1 INVITE\n"
    "Contact: <sip:alice@10.1.2.3:5070>\n"
    "m: <sip:alice@10.1.2.3:5071>\n"
    "User-Agent: foophone 1.0\n"
    "Content-Length: 0\n"
    "\n";

// "INVITE ..." with the request line's URI replaced and extra header lines
// inserted after the Via.
std::string request(std::string_view method, std::string_view uri, std::string_view extra = "")
{
    std::string m = kInvite;
    m.replace(0, m.find(" SIP/2.0"), std::string(method) + " " + std::string(uri));
    m.replace(m.find("CSeq: 1 INVITE"), 14, "CSeq: 1 " + std::string(method));
    m.insert(m.find("Max-Forwards"), extra);
    return m;
}

class FakeHost : public RouteHost {
public:
    int forward(MsgContext& ctx, const FwdSpec& f) override
    {
        forwards.push_back(f);
        if (forward_result > 0)
            ctx.forwarded = true;
        else
            ctx.err_code = 478, ctx.err_reason = "Unresolvable destination";
        return forward_result;
    }
    int reply(MsgContext& ctx, int code, std::string_view reason) override
    {
        replies.emplace_back(code, std::string(reason));
        ctx.replied = true;
        return 1;
    }
    bool is_myself(std::string_view host, uint16_t port) const override
    {
        return (host == "127.0.0.1" || host == "proxy.example.com") && (port == 0 || port == 5060);
    }
    bool is_my_addr(const SockAddr& a) const override { return a.ip() == "127.0.0.1"; }

    std::vector<FwdSpec> forwards;
    std::vector<std::pair<int, std::string>> replies;
    int forward_result = 1;
};

// A compiled script plus one message run through it.
struct Harness {
    explicit Harness(std::string_view script)
    {
        cfg::CheckOptions opt;
        opt.check_files = false;
        auto res = cfg::load_config_text("listen=udp:127.0.0.1:5060\n" + std::string(script), "test.cfg", opt);
        std::string diags;
        for (const auto& d : res.diags)
            diags += d.str() + "\n";
        CPPUNIT_ASSERT_MESSAGE(diags, res.ok());
        cfg = std::move(res.config);
        engine = std::make_unique<RouteEngine>(cfg);
        ri.src = *SockAddr::from_numeric("10.1.2.3", 5070);
        ri.dst = *SockAddr::from_numeric("127.0.0.1", 5060);
    }
    int run(std::string_view msg = kInvite)
    {
        buf = crlf(msg);
        host = FakeHost{};
        ctx = std::make_unique<MsgContext>(buf, ri, tls);
        CPPUNIT_ASSERT(ctx->parse().ok);
        return engine->run(*ctx, host);
    }
    // The message as it would leave (script edits only).
    std::string built() const
    {
        sip::Edits e;
        ctx->collect_edits(e);
        std::string out;
        CPPUNIT_ASSERT(e.apply(buf, out));
        return out;
    }
    // The codes of the local replies, in order ("" when none).
    std::string codes() const
    {
        std::string s;
        for (const auto& r : host.replies)
            s += (s.empty() ? "" : ",") + std::to_string(r.first);
        return s;
    }

    Config cfg;
    std::unique_ptr<RouteEngine> engine;
    RecvInfo ri;
    const TlsFacts* tls = nullptr;
    std::string buf;
    FakeHost host;
    std::unique_ptr<MsgContext> ctx;
};

// route { if (COND) reply 200 else reply 500 }: "200" when COND holds.
std::string test_cond(std::string_view cond)
{
    return "route { if (" + std::string(cond) + ") sl_send_reply(\"200\", \"yes\"); else sl_send_reply(\"500\", \"no\"); }";
}

}  // namespace

// Outside the anonymous namespace so the runner can select it by name.
class RouteEngineTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RouteEngineTest);
    CPPUNIT_TEST(testMethod);
    CPPUNIT_TEST(testUri);
    CPPUNIT_TEST(testAddresses);
    CPPUNIT_TEST(testIpv6);
    CPPUNIT_TEST(testPorts);
    CPPUNIT_TEST(testProtoAf);
    CPPUNIT_TEST(testMsgLen);
    CPPUNIT_TEST(testTls);
    CPPUNIT_TEST(testLogic);
    CPPUNIT_TEST(testRouteAndBreak);
    CPPUNIT_TEST(testDropExit);
    CPPUNIT_TEST(testReturn);
    CPPUNIT_TEST(testIfElseChain);
    CPPUNIT_TEST(testRecursionBounded);
    CPPUNIT_TEST(testZeroStops);
    CPPUNIT_TEST(testForwardSpecs);
    CPPUNIT_TEST(testLogAndReplies);
    CPPUNIT_TEST(testMaxFwd);
    CPPUNIT_TEST(testRecordRoute);
    CPPUNIT_TEST(testLooseRoute);
    CPPUNIT_TEST(testStrictRoute);
    CPPUNIT_TEST(testTextops);
    CPPUNIT_TEST(testFlags);
    CPPUNIT_TEST(testRewrite);
    CPPUNIT_TEST(testForceRportAndPeer);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { log::init(-3, true, "LOG_DAEMON"); }     // keep test output quiet
    void tearDown() override { log::init(2, true, "LOG_DAEMON"); }

    // Runs `cond` against msg (default INVITE) and returns the reply code.
    static std::string eval(std::string_view cond, std::string_view msg = kInvite)
    {
        Harness h(test_cond(cond));
        h.run(msg);
        return h.codes();
    }

    void testMethod()
    {
        CPPUNIT_ASSERT_EQUAL("200"s, eval("method == \"INVITE\""));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("method == \"invite\""));  // case-insensitive, as SER
        CPPUNIT_ASSERT_EQUAL("200"s, eval("method == INVITE"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("method == \"OPTIONS\""));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("method != \"OPTIONS\""));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("method =~ \"^(inv|reg)\""));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("method =~ \"^REG\""));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("method == \"OPTIONS\"", request("OPTIONS", "sip:x@example.com")));
    }

    void testUri()
    {
        CPPUNIT_ASSERT_EQUAL("200"s, eval("uri == \"sip:bob@example.com\""));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("uri == \"SIP:BOB@EXAMPLE.COM\""));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("uri != \"sip:carol@example.com\""));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("uri =~ \"@example\\.com$\""));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("uri =~ \"^sips:\""));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("uri == myself"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("uri == myself", request("INVITE", "sip:bob@127.0.0.1")));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("uri == myself", request("INVITE", "sip:proxy.example.com:5060;lr")));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("uri == myself", request("INVITE", "sip:bob@127.0.0.1:5070")));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("uri != myself"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("uri == myself", request("INVITE", "tel:+123")));
        // The test sees the Request-URI as the script left it.
        Harness h("route { rewritehost(\"127.0.0.1\"); if (uri == myself) sl_send_reply(\"200\", \"me\"); }");
        h.run();
        CPPUNIT_ASSERT_EQUAL("200"s, h.codes());
    }

    void testAddresses()
    {
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_ip == 10.1.2.3"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("src_ip == 10.1.2.4"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_ip != 10.1.2.4"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_ip == 10.0.0.0/8"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_ip == 10.1.2.0/23"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("src_ip == 10.1.4.0/23"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_ip == 0.0.0.0/0"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_ip != 192.168.0.0/16"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_ip == \"10.1.2.3\""));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_ip == \"10.1.0.0/16\""));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_ip =~ \"^10\\.1\\.\""));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("src_ip == myself"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("dst_ip == myself"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("dst_ip == 127.0.0.1"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("dst_ip =~ \"^127\""));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("dst_ip != myself"));
        // A family mismatch never matches.
        CPPUNIT_ASSERT_EQUAL("500"s, eval("src_ip == [::1]"));
    }

    void testIpv6()
    {
        Harness h(test_cond("src_ip == [2001:db8::]/32 && dst_ip == [::1] && af == INET6"));
        h.ri.src = *SockAddr::from_numeric("2001:db8::7", 5060);
        h.ri.dst = *SockAddr::from_numeric("::1", 5060);
        h.run();
        CPPUNIT_ASSERT_EQUAL("200"s, h.codes());
        Harness n(test_cond("src_ip == [2001:db9::]/32 || af == INET"));
        n.ri.src = *SockAddr::from_numeric("2001:db8::7", 5060);
        n.run();
        CPPUNIT_ASSERT_EQUAL("500"s, n.codes());
    }

    void testPorts()
    {
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_port == 5070"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_port != 5060"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_port > 5000"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("src_port < 5000"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_port <= 5070"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("src_port >= 5071"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("dst_port == 5060"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("src_port =~ \"^50[0-9]0$\""));
    }

    void testProtoAf()
    {
        CPPUNIT_ASSERT_EQUAL("200"s, eval("proto == UDP"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("proto == udp"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("proto == TCP"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("proto != TLS"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("af == INET"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("af == INET6"));
        Harness h(test_cond("proto == TCP && proto != UDP"));
        h.ri.proto = Proto::Tcp;
        h.run();
        CPPUNIT_ASSERT_EQUAL("200"s, h.codes());
        // serial names no SIP transport: never equal, on any transport.
        for (Proto p : {Proto::Udp, Proto::Tcp, Proto::Tls}) {
            Harness s(test_cond("proto == serial || !(proto != SERIAL)"));
            s.ri.proto = p;
            s.run();
            CPPUNIT_ASSERT_EQUAL("500"s, s.codes());
        }
    }

    void testMsgLen()
    {
        size_t len = crlf(kInvite).size();
        CPPUNIT_ASSERT_EQUAL("200"s, eval("msg:len < max_len"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("msg:len == " + std::to_string(len)));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("msg:len > " + std::to_string(len)));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("msg:len >= 100"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("msg:len >= max_len"));
    }

    void testTls()
    {
        TlsFacts facts;
        facts.version = "TLSv1.3";
        facts.cipher = "TLS_AES_256_GCM_SHA384";
        facts.peer_cn = "client.example";
        facts.verified = true;
        Harness h(test_cond("tls_version == \"TLSv1.3\" && tls_cipher =~ \"AES_256\" && "
                            "tls_peer_cn == \"client.example\" && tls_verified == 1 && is_peer_verified()"));
        h.ri.proto = Proto::Tls;
        h.tls = &facts;
        h.run();
        CPPUNIT_ASSERT_EQUAL("200"s, h.codes());
        facts.verified = false;
        Harness n(test_cond("tls_verified == 1 || is_peer_verified()"));
        n.ri.proto = Proto::Tls;
        n.tls = &facts;
        n.run();
        CPPUNIT_ASSERT_EQUAL("500"s, n.codes());
        // Not on TLS: empty strings, not verified.
        CPPUNIT_ASSERT_EQUAL("200"s, eval("tls_version == \"\" && tls_peer_cn != \"x\" && tls_verified == 0"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("is_peer_verified()"));
    }

    void testLogic()
    {
        CPPUNIT_ASSERT_EQUAL("200"s, eval("method == INVITE && src_port == 5070"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("method == INVITE && src_port == 1"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("method == BYE || src_port == 5070"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("method == BYE || src_port == 1"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("!(method == BYE)"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("!method == BYE"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("(method == BYE || method == INVITE) && !(src_port == 1)"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("true"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("false"));
        // A call used as a test is true when it returns > 0.
        CPPUNIT_ASSERT_EQUAL("200"s, eval("is_present_hf(\"User-Agent\")"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("is_present_hf(\"X-None\")"));
        // || and && short-circuit: the right side's action does not run.
        Harness h("route { if (true || setflag(1)) { if (isflagset(1)) sl_send_reply(\"500\", \"ran\"); }; "
                  "if (false && setflag(2)) { break; }; if (!isflagset(2)) sl_send_reply(\"200\", \"ok\"); }");
        h.run();
        CPPUNIT_ASSERT_EQUAL("200"s, h.codes());
    }

    void testRouteAndBreak()
    {
        Harness h("route { route(1); sl_send_reply(\"200\", \"after\"); }\n"
                  "route[1] { sl_send_reply(\"201\", \"in\"); break; sl_send_reply(\"202\", \"never\"); }");
        CPPUNIT_ASSERT(h.run() > 0);
        CPPUNIT_ASSERT_EQUAL("201,200"s, h.codes());
        // break in the main route ends the script.
        Harness m("route { sl_send_reply(\"200\", \"a\"); if (true) { break; }; sl_send_reply(\"500\", \"b\"); }");
        CPPUNIT_ASSERT(m.run() > 0);
        CPPUNIT_ASSERT_EQUAL("200"s, m.codes());
        CPPUNIT_ASSERT(!m.ctx->dropped);
        // Named blocks, and route(0) as the main route's other name.
        Harness n("route { if (method == ACK) { exit; }; route(second); }\n"
                  "route[second] { route(third); }\nroute[third] { sl_send_reply(\"200\", \"deep\"); }");
        n.run();
        CPPUNIT_ASSERT_EQUAL("200"s, n.codes());
    }

    void testDropExit()
    {
        Harness h("route { route(1); sl_send_reply(\"500\", \"not reached\"); }\nroute[1] { drop; }");
        CPPUNIT_ASSERT_EQUAL(0, h.run());
        CPPUNIT_ASSERT_EQUAL(""s, h.codes());
        CPPUNIT_ASSERT(h.ctx->dropped);
        Harness e("route { route(1); sl_send_reply(\"500\", \"not reached\"); }\nroute[1] { exit; }");
        CPPUNIT_ASSERT_EQUAL(0, e.run());
        CPPUNIT_ASSERT_EQUAL(""s, e.codes());
        CPPUNIT_ASSERT(!e.ctx->dropped);
        // drop inside a test stops the script too.
        Harness c("route { if (route(1)) { sl_send_reply(\"500\", \"x\"); }; sl_send_reply(\"501\", \"y\"); }\n"
                  "route[1] { drop; }");
        CPPUNIT_ASSERT_EQUAL(0, c.run());
        CPPUNIT_ASSERT_EQUAL(""s, c.codes());
    }

    void testReturn()
    {
        const char* caller = "route { if (route(1)) sl_send_reply(\"200\", \"t\"); else sl_send_reply(\"500\", \"f\"); }\n";
        Harness n(std::string(caller) + "route[1] { return(-1); sl_send_reply(\"404\", \"x\"); }");
        n.run();
        CPPUNIT_ASSERT_EQUAL("500"s, n.codes());
        Harness p(std::string(caller) + "route[1] { return(2); }");
        p.run();
        CPPUNIT_ASSERT_EQUAL("200"s, p.codes());
        Harness z(std::string(caller) + "route[1] { return(0); }");
        CPPUNIT_ASSERT_EQUAL(0, z.run());  // return(0) stops the script
        CPPUNIT_ASSERT_EQUAL(""s, z.codes());
        Harness b(std::string(caller) + "route[1] { return; }");
        b.run();
        CPPUNIT_ASSERT_EQUAL("200"s, b.codes());
        // Without return a block is worth its last action.
        Harness l(std::string(caller) + "route[1] { is_present_hf(\"X-None\"); }");
        l.run();
        CPPUNIT_ASSERT_EQUAL("500"s, l.codes());
        Harness m("route { return(-3); }");
        CPPUNIT_ASSERT_EQUAL(-3, m.run());
    }

    void testIfElseChain()
    {
        const char* s = "route { if (method == \"REGISTER\") sl_send_reply(\"201\", \"r\"); "
                        "else if (method == \"OPTIONS\") { sl_send_reply(\"202\", \"o\"); } "
                        "else if (method == \"BYE\") sl_send_reply(\"203\", \"b\"); "
                        "else { sl_send_reply(\"204\", \"other\"); }; sl_send_reply(\"200\", \"end\"); }";
        Harness h(s);
        h.run(request("OPTIONS", "sip:a@b"));
        CPPUNIT_ASSERT_EQUAL("202,200"s, h.codes());
        h.run(request("BYE", "sip:a@b"));
        CPPUNIT_ASSERT_EQUAL("203,200"s, h.codes());
        h.run(request("REGISTER", "sip:a@b"));
        CPPUNIT_ASSERT_EQUAL("201,200"s, h.codes());
        h.run();
        CPPUNIT_ASSERT_EQUAL("204,200"s, h.codes());
    }

    void testRecursionBounded()
    {
        Harness h("route { if (!route(1)) sl_send_reply(\"200\", \"bounded\"); }\nroute[1] { route(1); }");
        h.run();
        CPPUNIT_ASSERT_EQUAL("200"s, h.codes());
    }

    void testZeroStops()
    {
        // An action returning 0 stops the script (SER 0.9).
        Harness h("route { forward(); sl_send_reply(\"500\", \"not reached\"); }");
        h.buf = crlf(kInvite);
        h.ctx = std::make_unique<MsgContext>(h.buf, h.ri);
        CPPUNIT_ASSERT(h.ctx->parse().ok);
        h.host.forward_result = 0;
        CPPUNIT_ASSERT_EQUAL(0, h.engine->run(*h.ctx, h.host));
        CPPUNIT_ASSERT(h.host.replies.empty());
    }

    void testForwardSpecs()
    {
        Harness h("route { forward(); forward(\"10.0.0.1\"); forward(10.0.0.1, 5070); forward_udp(gw.example.com);"
                  " forward_tcp(uri:host, uri:port); forward_tls([2001:db8::1], \"5061\"); send(10.0.0.2, 5080); }");
        CPPUNIT_ASSERT(h.run() > 0);
        const auto& f = h.host.forwards;
        CPPUNIT_ASSERT_EQUAL(size_t{7}, f.size());
        CPPUNIT_ASSERT(!f[0].has_host && !f[0].proto && !f[0].raw);
        CPPUNIT_ASSERT(f[1].has_host && f[1].host == "10.0.0.1" && f[1].port == 0 && !f[1].proto);
        CPPUNIT_ASSERT(f[2].host == "10.0.0.1" && f[2].port == 5070);
        CPPUNIT_ASSERT(f[3].host == "gw.example.com" && f[3].proto == Proto::Udp);
        CPPUNIT_ASSERT(f[4].host_from_uri && f[4].port_from_uri && f[4].proto == Proto::Tcp);
        CPPUNIT_ASSERT(f[5].host == "[2001:db8::1]" && f[5].port == 5061 && f[5].proto == Proto::Tls);
        CPPUNIT_ASSERT(f[6].raw && f[6].host == "10.0.0.2" && f[6].port == 5080 && f[6].proto == Proto::Udp);
        // A failed forward is false, so the script can fail over.
        Harness g("route { if (!forward(10.0.0.1)) { forward(10.0.0.2); }; }");
        g.buf = crlf(kInvite);
        g.ctx = std::make_unique<MsgContext>(g.buf, g.ri);
        CPPUNIT_ASSERT(g.ctx->parse().ok);
        g.host.forward_result = -1;
        g.engine->run(*g.ctx, g.host);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, g.host.forwards.size());
    }

    void testLogAndReplies()
    {
        Harness h("route { log(\"hello\"); log(\"1\", \"warn\"); log(\"L_ERR\", \"err\"); "
                  "sl_send_reply(\"404\", \"Not Here\"); sl_send_reply(486, \"Busy Here\"); }");
        CPPUNIT_ASSERT(h.run() > 0);
        CPPUNIT_ASSERT_EQUAL("404,486"s, h.codes());
        CPPUNIT_ASSERT_EQUAL("Not Here"s, h.host.replies[0].second);
        // sl_reply_error: 500 by default, else the last forward failure.
        Harness e("route { sl_reply_error(); }");
        e.run();
        CPPUNIT_ASSERT_EQUAL("500"s, e.codes());
        Harness f("route { if (!forward(10.0.0.1)) sl_reply_error(); }");
        f.buf = crlf(kInvite);
        f.ctx = std::make_unique<MsgContext>(f.buf, f.ri);
        CPPUNIT_ASSERT(f.ctx->parse().ok);
        f.host.forward_result = -1;
        f.engine->run(*f.ctx, f.host);
        CPPUNIT_ASSERT_EQUAL("478"s, f.codes());
        // Already answered: sl_reply_error sends nothing more.
        Harness d("route { sl_send_reply(\"403\", \"No\"); sl_reply_error(); }");
        d.run();
        CPPUNIT_ASSERT_EQUAL("403"s, d.codes());
    }

    void testMaxFwd()
    {
        const char* s = "route { if (!mf_process_maxfwd_header(\"10\")) { sl_send_reply(\"483\", \"Too Many Hops\"); "
                        "break; }; mf_process_maxfwd_header(\"10\"); }";
        Harness h(s);
        h.run();
        CPPUNIT_ASSERT(h.built().find("\r\nMax-Forwards: 69\r\n") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(""s, h.codes());
        std::string none = kInvite;
        none.erase(none.find("Max-Forwards: 70\n"), 17);
        h.run(none);
        std::string out = h.built();
        CPPUNIT_ASSERT(out.find("Max-Forwards: 10\r\nContent-Length: 0\r\n") == std::string::npos);
        CPPUNIT_ASSERT(out.find("Content-Length: 0\r\nMax-Forwards: 10\r\n\r\n") != std::string::npos);
        std::string zero = kInvite;
        zero.replace(zero.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
        h.run(zero);
        CPPUNIT_ASSERT_EQUAL("483"s, h.codes());
        CPPUNIT_ASSERT_EQUAL(-1, h.ctx->process_maxfwd(70));  // once per message
        Harness c("route { mf_process_maxfwd_header(\"70\"); remove_hf(\"Max-Forwards\"); }");
        c.run();
        CPPUNIT_ASSERT(c.built().find("Max-Forwards: 69\r\n\r\n") != std::string::npos);
    }

    void testRecordRoute()
    {
        Harness h("route { record_route(); record_route(); }");
        h.run();
        std::string out = h.built();
        CPPUNIT_ASSERT(out.starts_with("INVITE sip:bob@example.com SIP/2.0\r\nRecord-Route: <sip:127.0.0.1:5060;lr>\r\nVia:"));
        CPPUNIT_ASSERT_EQUAL(out.find("Record-Route"), out.rfind("Record-Route"));
        ListenAddr tcp{Proto::Tcp, *SockAddr::from_numeric("127.0.0.1", 5060), "proxy.example.com:5060"};
        h.ri.proto = Proto::Tcp;
        h.ri.listener = &tcp;
        h.run(request("INVITE", "sip:bob@example.com", "Record-Route: <sip:up.example.com;lr>\n"));
        out = h.built();
        CPPUNIT_ASSERT(out.find("\r\nRecord-Route: <sip:proxy.example.com:5060;transport=tcp;lr>\r\nVia:") !=
                       std::string::npos);
        CPPUNIT_ASSERT(out.find("Record-Route: <sip:proxy.example.com:5060;transport=tcp;lr>") <
                       out.find("Record-Route: <sip:up.example.com;lr>"));
    }

    void testLooseRoute()
    {
        const char* s = "route { if (loose_route()) { sl_send_reply(\"200\", \"routed\"); break; }; "
                        "sl_send_reply(\"404\", \"no route\"); }";
        Harness h(s);
        h.run();
        CPPUNIT_ASSERT_EQUAL("404"s, h.codes());
        // Our Route on top of a list: that value goes, the next one stays.
        h.run(request("INVITE", "sip:bob@example.com",
                      "Route: <sip:127.0.0.1:5060;lr>, <sip:next.example.com;lr>\n"));
        CPPUNIT_ASSERT_EQUAL("200"s, h.codes());
        std::string out = h.built();
        CPPUNIT_ASSERT(out.find("\r\nRoute: <sip:next.example.com;lr>\r\n") != std::string::npos);
        CPPUNIT_ASSERT(out.find("127.0.0.1:5060;lr") == std::string::npos);
        CPPUNIT_ASSERT_EQUAL("sip:next.example.com;lr"sv, h.ctx->next_route()->uri);
        // Our Route alone in its header: the whole header goes.
        h.run(request("INVITE", "sip:bob@example.com",
                      "Route: <sip:proxy.example.com;lr>\nRoute: <sip:a.example.com;lr>,<sip:b.example.com;lr>\n"));
        out = h.built();
        CPPUNIT_ASSERT(out.find("proxy.example.com") == std::string::npos);
        CPPUNIT_ASSERT(out.find("\r\nRoute: <sip:a.example.com;lr>,<sip:b.example.com;lr>\r\n") != std::string::npos);
        // A pre-loaded route set that is not ours: true, nothing removed.
        h.run(request("INVITE", "sip:bob@example.com", "Route: <sip:other.example.com;lr>\n"));
        CPPUNIT_ASSERT_EQUAL("200"s, h.codes());
        CPPUNIT_ASSERT(h.built().find("Route: <sip:other.example.com;lr>") != std::string::npos);
        // Only our Route, and the Request-URI is us: the request is for us (false).
        h.run(request("OPTIONS", "sip:proxy.example.com", "Route: <sip:127.0.0.1:5060;lr>\n"));
        CPPUNIT_ASSERT_EQUAL("404"s, h.codes());
        CPPUNIT_ASSERT(h.built().find("Route:") == std::string::npos);
        // Only our Route, for someone else: true, the Request-URI is next.
        h.run(request("INVITE", "sip:bob@example.com", "Route: <sip:127.0.0.1:5060;lr>\n"));
        CPPUNIT_ASSERT_EQUAL("200"s, h.codes());
        CPPUNIT_ASSERT(h.ctx->next_route() == nullptr);
        // Ours last in a list: the separator before it goes.
        Harness t("route { loose_route(); loose_route(); }");
        t.run(request("INVITE", "sip:bob@example.com", "Route: <sip:127.0.0.1;lr>, <sip:proxy.example.com;lr>, <sip:c.example.com>\n"));
        CPPUNIT_ASSERT(t.built().find("\r\nRoute: <sip:c.example.com>\r\n") != std::string::npos);
    }

    void testStrictRoute()
    {
        // RFC 3261 §16.4: our Record-Route URI in the Request-URI.
        Harness h("route { loose_route(); }");
        h.run(request("INVITE", "sip:127.0.0.1:5060;lr", "Route: <sip:a.example.com>, <sip:bob@final.example.com>\n"));
        std::string out = h.built();
        CPPUNIT_ASSERT(out.starts_with("INVITE sip:bob@final.example.com SIP/2.0\r\n"));
        CPPUNIT_ASSERT(out.find("\r\nRoute: <sip:a.example.com>\r\n") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL("sip:bob@final.example.com"sv, h.ctx->ruri());
    }

    void testTextops()
    {
        CPPUNIT_ASSERT_EQUAL("200"s, eval("search(\"^user-agent: *foo\")"));
        CPPUNIT_ASSERT_EQUAL("500"s, eval("search(\"^Agent\")"));
        CPPUNIT_ASSERT_EQUAL("200"s, eval("search(\"call-1@example\\.org\")"));
        Harness h("route { append_hf(\"X-One: 1\\r\\n\"); append_hf(\"X-Two: 2\"); remove_hf(\"Contact\"); "
                  "if (is_present_hf(\"contact\")) sl_send_reply(\"500\", \"still\"); "
                  "if (remove_hf(\"X-None\")) sl_send_reply(\"501\", \"none\"); "
                  "if (is_present_hf(\"CALL-ID\") && is_present_hf(\"i\")) sl_send_reply(\"200\", \"ok\"); }");
        h.run();
        CPPUNIT_ASSERT_EQUAL("200"s, h.codes());
        std::string out = h.built();
        CPPUNIT_ASSERT(out.find("Contact:") == std::string::npos);
        CPPUNIT_ASSERT(out.find("\r\nm:") == std::string::npos);  // compact form too
        CPPUNIT_ASSERT(out.ends_with("\r\nContent-Length: 0\r\nX-One: 1\r\nX-Two: 2\r\n\r\n"));
        Harness r("route { remove_hf(\"X-Dup\"); }");
        r.run(request("INVITE", "sip:bob@example.com", "X-Dup: 1\nx-dup: 2\n"));
        CPPUNIT_ASSERT(r.built().find("X-Dup") == std::string::npos && r.built().find("x-dup") == std::string::npos);
        CPPUNIT_ASSERT_EQUAL("500"s, eval("append_hf(\"no colon\")"));
    }

    void testFlags()
    {
        Harness h("route { setflag(3); setflag(31); if (isflagset(3) && isflagset(31) && !isflagset(4)) "
                  "sl_send_reply(\"200\", \"set\"); resetflag(3); if (isflagset(3)) sl_send_reply(\"500\", \"x\"); }");
        h.run();
        CPPUNIT_ASSERT_EQUAL("200"s, h.codes());
        CPPUNIT_ASSERT_EQUAL(uint32_t{1u << 31}, h.ctx->flags);
    }

    static std::string rewritten(std::string_view action, std::string_view uri)
    {
        Harness h("route { " + std::string(action) + "; }");
        h.run(request("INVITE", uri));
        std::string out = h.built();
        return out.substr(7, out.find(" SIP/2.0") - 7);
    }

    void testRewrite()
    {
        const char* u = "sip:bob:pw@h1.example.com:5070;transport=tcp";
        CPPUNIT_ASSERT_EQUAL("sip:bob:pw@h2.example.com:5070;transport=tcp"s, rewritten("rewritehost(\"h2.example.com\")", u));
        CPPUNIT_ASSERT_EQUAL("sip:bob:pw@h2.example.com:5070;transport=tcp"s, rewritten("sethost(\"h2.example.com\")", u));
        CPPUNIT_ASSERT_EQUAL("sip:bob:pw@10.0.0.4:5090;transport=tcp"s, rewritten("rewritehostport(\"10.0.0.4:5090\")", u));
        CPPUNIT_ASSERT_EQUAL("sip:bob:pw@h3.example.com;transport=tcp"s, rewritten("sethostport(\"h3.example.com\")", u));
        CPPUNIT_ASSERT_EQUAL("sip:bob:pw@[2001:db8::1]:5062;transport=tcp"s, rewritten("rewritehostport(\"[2001:db8::1]:5062\")", u));
        CPPUNIT_ASSERT_EQUAL("sip:bob:pw@h1.example.com:5099;transport=tcp"s, rewritten("rewriteport(\"5099\")", u));
        CPPUNIT_ASSERT_EQUAL("sip:bob@example.com:5098"s, rewritten("setport(5098)", "sip:bob@example.com"));
        CPPUNIT_ASSERT_EQUAL("sip:carol:pw@h1.example.com:5070;transport=tcp"s, rewritten("rewriteuser(\"carol\")", u));
        CPPUNIT_ASSERT_EQUAL("sip:h1.example.com:5070;transport=tcp"s, rewritten("setuser(\"\")", u));
        CPPUNIT_ASSERT_EQUAL("sips:x@y.example.com"s, rewritten("rewriteuri(\"sips:x@y.example.com\")", u));
        CPPUNIT_ASSERT_EQUAL("sip:x@y"s, rewritten("seturi(\"sip:x@y\")", u));
        // A bad result leaves the URI alone and is false.
        CPPUNIT_ASSERT_EQUAL("sip:bob@example.com"s, rewritten("rewriteuri(\"not a uri\")", "sip:bob@example.com"));
        CPPUNIT_ASSERT_EQUAL("sip:bob@example.com"s, rewritten("rewritehost(\"bad host\")", "sip:bob@example.com"));
        CPPUNIT_ASSERT_EQUAL("tel:+1234"s, rewritten("rewritehost(\"h\")", "tel:+1234"));
        // Rewrites chain on the new URI.
        CPPUNIT_ASSERT_EQUAL("sip:carol@h9.example.com:5077"s,
                             rewritten("rewritehost(\"h9.example.com\"); rewriteport(\"5077\"); rewriteuser(\"carol\")",
                                       "sip:bob@example.com"));
    }

    void testForceRportAndPeer()
    {
        Harness h("route { force_rport(); }");
        h.run();
        CPPUNIT_ASSERT(h.ctx->force_rport);
        CPPUNIT_ASSERT(!h.ctx->forwarded && !h.ctx->replied && !h.ctx->dropped);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RouteEngineTest);
