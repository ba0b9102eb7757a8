// The torture corpora through the parser and the proxy: every valid message
// of RFC 4475 §3.1.1 and RFC 5118 (tests/sip/rfc4475/valid, tests/sip/rfc5118)
// is forwarded byte for byte apart from our Via on top, Max-Forwards one
// less and received= on the sender's Via; the responses among them are not
// ours to route and are dropped as such. The invalid messages
// (tests/sip/rfc4475/invalid) each get what the table below says a stateless
// proxy owes them: a 400 naming the defect, a drop, or a forward.
#include "proxy/proxy.h"
#include "shm/stats.h"
#include "sip/sip_framing.h"
#include "sip/sip_msg.h"

#include "proxy_harness.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <utility>
#include <sstream>
#include <string>
#include <vector>

using namespace ser;

namespace {

namespace fs = std::filesystem;
using ser::test::Harness;

std::string corpus_dir(const std::string& rel)
{
    const char* t = std::getenv("SER_TOP");
    return (t && *t) ? std::string(t) + "/" + rel : rel;
}

// name (file stem) -> bytes of every .sip file in dir.
std::map<std::string, std::string> load(const std::string& rel)
{
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(corpus_dir(rel), ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() != ".sip")
            continue;
        std::ifstream in(it->path(), std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        out[it->path().stem().string()] = ss.str();
    }
    return out;
}

const char* const kScript = "route { forward(127.0.0.1, 5070); }";
const char* const kSrc = "10.0.0.1";   // Harness's source address

// What the proxy must send for the valid request `in`, without its own Via:
// the message up to the end of its body, Max-Forwards decremented (or added
// as 70), received= on the sender's Via set to the source address.
std::string expected_forward(const std::string& in)
{
    sip::SipMsg m;
    CPPUNIT_ASSERT(sip::parse_message(in, m).ok);
    struct Edit {
        size_t start, end;
        std::string text;
    };
    std::vector<Edit> es;
    const sip::Via& v = m.vias[0];
    auto off = [&](std::string_view part) { return static_cast<size_t>(part.data() - in.data()); };
    if (v.received.data() == nullptr)
        es.push_back({v.end, v.end, std::string(";received=") + kSrc});
    else if (v.received != kSrc)
        es.push_back({off(v.received), off(v.received) + v.received.size(), kSrc});
    if (const sip::Header* mf = m.find(sip::HdrType::MaxForwards))
        es.push_back({off(mf->value), off(mf->value) + mf->value.size(), std::to_string(m.max_forwards - 1)});
    else
        es.push_back({m.headers.back().end, m.headers.back().end, "Max-Forwards: 70\r\n"});
    std::string out = in.substr(0, m.body_end());
    std::sort(es.begin(), es.end(), [](const Edit& a, const Edit& b) { return a.start > b.start; });
    for (const Edit& e : es)
        out.replace(e.start, e.end - e.start, e.text);
    return out;
}

// Removes our Via line from a forwarded message; it must stand right above
// the sender's top Via header, as `expected` places it.
std::string without_our_via(const std::string& in, const std::string& out, const std::string& expected,
                            const std::string& name)
{
    sip::SipMsg m;
    CPPUNIT_ASSERT(sip::parse_message(in, m).ok);
    const std::string ours = "\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK";
    size_t at = out.find(ours);
    CPPUNIT_ASSERT_MESSAGE(name + ": our Via", at != std::string::npos);
    size_t eol = out.find("\r\n", at + 2);
    std::string rest = out.substr(0, at) + out.substr(eol);
    std::string_view top_name = m.headers[m.vias[0].header_index].name;
    CPPUNIT_ASSERT_MESSAGE(name + ": our Via on top", expected.compare(at + 2, top_name.size(), top_name) == 0);
    return rest;
}

// What the proxy should do with an invalid message of RFC 4475 §3.1.2 (and
// a few of §3.2/§3.3), and why; `reason` is the expected reason phrase.
struct Verdict {
    enum Kind { Reject, Drop, Forward, Reply } kind;
    int code;
    const char* reason;
    InvalidReason defect = InvalidReason::Count;   // Reject and Drop: what the statistics count
};

const std::map<std::string, Verdict>& invalid_verdicts()
{
    static const std::map<std::string, Verdict> v = {
        // The top Via is broken (";;,;,,"): no usable address to answer.
        {"badinv01", {Verdict::Drop, 0, nullptr, InvalidReason::Via}},
        // Over UDP a Content-Length beyond the datagram is answered (§3.1.2.2).
        {"clerr", {Verdict::Reject, 400, "Bad Request (body shorter than Content-Length)", InvalidReason::Body}},
        {"scalar02", {Verdict::Reject, 400, "Bad Request (bad Content-Length)", InvalidReason::ContentLength}},
        {"scalarlg", {Verdict::Reject, 400, "Bad Request (bad CSeq)", InvalidReason::CSeq}},
        // A response: never answered, whatever is wrong with it.
        {"scalar1", {Verdict::Drop, 0, nullptr, InvalidReason::CSeq}},
        // The client's broken To goes back as it came (the reply is how it matches).
        {"quotbal", {Verdict::Reject, 400, "Bad Request (bad To header)", InvalidReason::To}},
        {"ltgtruri", {Verdict::Reject, 400, "Bad Request (bad Request-URI)", InvalidReason::RequestUri}},
        {"lwsruri", {Verdict::Reject, 400, "Bad Request (bad Request-URI)", InvalidReason::RequestUri}},
        {"lwsstart", {Verdict::Reject, 400, "Bad Request (bad Request-URI)", InvalidReason::RequestUri}},
        {"trws", {Verdict::Reject, 400, "Bad Request (whitespace after SIP version)", InvalidReason::StartLine}},
        {"escruri", {Verdict::Reject, 400, "Bad Request (headers in Request-URI)", InvalidReason::RequestUri}},
        // Date, Contact and To are not the proxy's to interpret; the RFC
        // lets an element that does not need them pass them on.
        {"baddate", {Verdict::Forward, 0, nullptr}},
        {"regbadct", {Verdict::Forward, 0, nullptr}},
        {"badaspec", {Verdict::Forward, 0, nullptr}},
        // From and To are unquoted "Bell, Alexander".
        {"baddn", {Verdict::Reject, 400, "Bad Request (bad From header)", InvalidReason::From}},
        // SIP/7.0 and a SIP/7.0 Via: no Via a 2.0 reply could carry (the RFC's 505).
        {"badvers", {Verdict::Drop, 0, nullptr, InvalidReason::StartLine}},
        {"mismatch01", {Verdict::Reject, 400, "Bad Request (CSeq method does not match request method)", InvalidReason::CSeqMethod}},
        {"mismatch02", {Verdict::Reject, 400, "Bad Request (CSeq method does not match request method)", InvalidReason::CSeqMethod}},
        {"bigcode", {Verdict::Drop, 0, nullptr, InvalidReason::StartLine}},
        // A branch of the bare cookie: forwarded, our branch made as for RFC 2543.
        {"badbranch", {Verdict::Forward, 0, nullptr}},
        {"multi01", {Verdict::Reject, 400, "Bad Request (multiple CSeq headers)", InvalidReason::Duplicate}},
        {"mcl01", {Verdict::Reject, 400, "Bad Request (conflicting Content-Length headers)", InvalidReason::Duplicate}},
        // No From, To or Call-ID: nothing to build a reply from.
        {"insuf", {Verdict::Drop, 0, nullptr, InvalidReason::From}},
        {"zeromf", {Verdict::Reply, 483, "Too Many Hops"}},
        // The forward goes to the script's address; the scheme is not read.
        {"unkscm", {Verdict::Forward, 0, nullptr}},
    };
    return v;
}

std::string status_line(const std::string& msg)
{
    return msg.substr(0, msg.find("\r\n"));
}

}  // namespace

class ProxyTortureTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ProxyTortureTest);
    CPPUNIT_TEST(testValidRequestsForwardedExactly);
    CPPUNIT_TEST(testValidResponsesParseAndAreNotOurs);
    CPPUNIT_TEST(testIpv6Forwarded);
    CPPUNIT_TEST(testValidFramedOnStreams);
    CPPUNIT_TEST(testInvalidCorpus);
    CPPUNIT_TEST(testReplyToInvalidNo);
    CPPUNIT_TEST(testEveryParseErrorHasItsDefect);
    CPPUNIT_TEST_SUITE_END();

    // Forwards every request of `corpus`; returns how many there were.
    size_t check_requests(const std::map<std::string, std::string>& corpus)
    {
        size_t n = 0;
        for (const auto& [name, bytes] : corpus) {
            sip::SipMsg m;
            sip::ParseResult pr = sip::parse_message(bytes, m);
            CPPUNIT_ASSERT_MESSAGE(name + ": " + pr.error, pr.ok);
            if (!m.is_request)
                continue;
            Harness h(kScript);
            const auto& sent = h.feed_raw(bytes);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name + ": forwarded once", size_t(1), sent.size());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, std::string("127.0.0.1:5070"), sent[0].t.dst.str());
            std::string want = expected_forward(bytes);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, want, without_our_via(bytes, sent[0].data, want, name));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, uint64_t(1), h.stats()[Stat::RequestsForwarded]);
            ++n;
        }
        return n;
    }

    void testValidRequestsForwardedExactly()
    {
        auto corpus = load("tests/sip/rfc4475/valid");
        CPPUNIT_ASSERT_EQUAL(size_t(13), corpus.size());
        CPPUNIT_ASSERT_EQUAL(size_t(11), check_requests(corpus));
        // dblreq: the INVITE after the REGISTER's empty body is not forwarded.
        Harness h(kScript);
        const auto& sent = h.feed_raw(corpus["dblreq"]);
        CPPUNIT_ASSERT(sent[0].data.find("INVITE") == std::string::npos);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), h.stats().discarded_msgs(DiscardReason::AfterBody));
    }

    void testValidResponsesParseAndAreNotOurs()
    {
        auto corpus = load("tests/sip/rfc4475/valid");
        for (const char* name : {"unreason", "noreason"}) {
            Harness h(kScript);
            CPPUNIT_ASSERT_MESSAGE(name, h.feed_raw(corpus[name]).empty());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, uint64_t(1), h.stats()[Stat::RepliesIn]);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, uint64_t(1), h.stats()[DropReason::NotOurs]);
        }
    }

    void testIpv6Forwarded()
    {
        auto corpus = load("tests/sip/rfc5118");
        CPPUNIT_ASSERT_EQUAL(size_t(9), corpus.size());
        CPPUNIT_ASSERT_EQUAL(size_t(9), check_requests(corpus));
    }

    // On TCP/TLS each valid message is one frame ending where its body does
    // (dblreq: two frames, the REGISTER then the INVITE), and over TCP the
    // requests are forwarded just as over UDP.
    void testValidFramedOnStreams()
    {
        auto corpus = load("tests/sip/rfc4475/valid");
        auto v6 = load("tests/sip/rfc5118");
        corpus.insert(v6.begin(), v6.end());
        for (const auto& [name, bytes] : corpus) {
            sip::SipMsg m;
            CPPUNIT_ASSERT_MESSAGE(name, sip::parse_message(bytes, m).ok);
            sip::Frame f = sip::next_frame(bytes, 65535);
            CPPUNIT_ASSERT_MESSAGE(name + ": " + f.error, f.status == sip::FrameStatus::Message);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, m.body_end(), f.length);
            if (name == "dblreq") {
                sip::Frame second = sip::next_frame(std::string_view(bytes).substr(f.length), 65535);
                CPPUNIT_ASSERT(second.status == sip::FrameStatus::Message);
                CPPUNIT_ASSERT_EQUAL(bytes.size() - f.length, second.length);
            }
            if (!m.is_request)
                continue;
            Harness h(kScript);
            const auto& sent = h.feed_raw(bytes.substr(0, f.length), Proto::Tcp, 0x2a);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name + ": forwarded from tcp", size_t(1), sent.size());
            CPPUNIT_ASSERT_MESSAGE(name, sent[0].data.find(";i=2a") != std::string::npos);
        }
    }

    void testInvalidCorpus()
    {
        auto corpus = load("tests/sip/rfc4475/invalid");
        const auto& verdicts = invalid_verdicts();
        CPPUNIT_ASSERT_EQUAL(verdicts.size(), corpus.size());
        for (const auto& [name, bytes] : corpus) {
            auto it = verdicts.find(name);
            CPPUNIT_ASSERT_MESSAGE(name + " has a verdict", it != verdicts.end());
            const Verdict& v = it->second;
            Harness h(kScript);
            const auto& sent = h.feed_raw(bytes);
            switch (v.kind) {
            case Verdict::Drop:
                CPPUNIT_ASSERT_MESSAGE(name + ": dropped", sent.empty());
                CPPUNIT_ASSERT_EQUAL_MESSAGE(name, uint64_t(1), h.stats().dropped());
                if (v.defect != InvalidReason::Count)
                    CPPUNIT_ASSERT_EQUAL_MESSAGE(name + ": defect", uint64_t(1), h.stats().invalid_dropped(v.defect));
                break;
            case Verdict::Forward:
                CPPUNIT_ASSERT_EQUAL_MESSAGE(name + ": forwarded", size_t(1), sent.size());
                CPPUNIT_ASSERT_EQUAL_MESSAGE(name, std::string("127.0.0.1:5070"), sent[0].t.dst.str());
                break;
            case Verdict::Reject:
            case Verdict::Reply:
                CPPUNIT_ASSERT_EQUAL_MESSAGE(name + ": answered", size_t(1), sent.size());
                CPPUNIT_ASSERT_EQUAL_MESSAGE(name, "SIP/2.0 " + std::to_string(v.code) + " " + v.reason,
                                             status_line(sent[0].data));
                CPPUNIT_ASSERT_EQUAL_MESSAGE(name, uint64_t(1), h.stats()[Stat::RepliedLocally]);
                if (v.kind == Verdict::Reject)
                    CPPUNIT_ASSERT_EQUAL_MESSAGE(name + ": defect", uint64_t(1), h.stats().invalid_answered(v.defect));
                break;
            }
        }
    }

    // reply_to_invalid=no: what would get a 400 is dropped, counted by its defect.
    void testReplyToInvalidNo()
    {
        auto corpus = load("tests/sip/rfc4475/invalid");
        Harness h(kScript, "reply_to_invalid=no");
        CPPUNIT_ASSERT(h.feed_raw(corpus["mismatch01"]).empty());
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), h.stats().invalid_dropped(InvalidReason::CSeqMethod));
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), h.stats().invalid_answered(InvalidReason::CSeqMethod));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), h.stats()[DropReason::Malformed]);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), h.stats()[Stat::RepliedLocally]);
    }

    // Every error the parser reports (sip_parser.cpp, sip_content_length.cpp)
    // is counted under the defect it names.
    void testEveryParseErrorHasItsDefect()
    {
        using R = InvalidReason;
        const std::pair<const char*, R> table[] = {
            {"CSeq method does not match request method", R::CSeqMethod},
            {"Content-Length over the maximum message size", R::ContentLength},
            {"NUL byte in header", R::Bytes}, {"bad CSeq", R::CSeq}, {"bad Call-ID", R::CallId},
            {"bad Content-Length", R::ContentLength}, {"bad Max-Forwards", R::MaxForwards},
            {"bad Request-URI", R::RequestUri}, {"bad SIP version", R::StartLine}, {"bad Via header", R::Via},
            {"bad Via host", R::Via}, {"bad Via parameter", R::Via}, {"bad Via port", R::Via},
            {"bad Via protocol", R::Via}, {"bad Via transport", R::Via}, {"bad Via version", R::Via},
            {"bad header name", R::Bytes}, {"bad request line", R::StartLine}, {"bad status code", R::StartLine},
            {"bad status line", R::StartLine}, {"bare CR in header", R::Bytes},
            {"body shorter than Content-Length", R::Body},
            {"conflicting Content-Length headers", R::Duplicate}, {"continuation line without header", R::Bytes},
            {"empty message", R::Bytes}, {"header without colon", R::Bytes},
            {"headers in Request-URI", R::RequestUri}, {"invalid method", R::StartLine},
            {"missing CSeq", R::CSeq}, {"missing Call-ID", R::CallId}, {"missing From", R::From},
            {"missing To", R::To}, {"missing Via", R::Via}, {"missing end of headers", R::Bytes},
            {"too many Via values", R::TooMany}, {"too many headers", R::TooMany},
            {"whitespace after SIP version", R::StartLine}, {"bad From header", R::From},
            {"bad To header", R::To}, {"multiple From headers", R::Duplicate}, {"multiple To headers", R::Duplicate},
            {"multiple Call-ID headers", R::Duplicate}, {"multiple CSeq headers", R::Duplicate},
            {"multiple Max-Forwards headers", R::Duplicate},
        };
        for (const auto& [error, want] : table)
            CPPUNIT_ASSERT_EQUAL_MESSAGE(error, stat_name(want), stat_name(invalid_reason(error)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProxyTortureTest);
