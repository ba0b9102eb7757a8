// Unit tests of core/sip/sip_edit.cpp: insert/remove/replace ordering, conflicts,
// bounds, and a proxy-style rewrite of a parsed message.
#include "sip/sip_edit.h"
#include "sip/sip_msg.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <string_view>

using namespace ser::sip;
using namespace std::literals;

namespace {

std::string run(const Edits& e, std::string_view original)
{
    std::string out = "stale";
    bool ok = e.apply(original, out);
    return ok ? out : "<error:" + out + ">";
}

}  // namespace

class SipEditTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SipEditTest);
    CPPUNIT_TEST(testNoEdits);
    CPPUNIT_TEST(testInsert);
    CPPUNIT_TEST(testRemoveReplace);
    CPPUNIT_TEST(testOrderAtSameOffset);
    CPPUNIT_TEST(testConflicts);
    CPPUNIT_TEST(testBounds);
    CPPUNIT_TEST(testProxyRewrite);
    CPPUNIT_TEST_SUITE_END();

public:
    void testNoEdits()
    {
        Edits e;
        CPPUNIT_ASSERT(e.empty());
        CPPUNIT_ASSERT_EQUAL("abc"s, run(e, "abc"));
        CPPUNIT_ASSERT_EQUAL(""s, run(e, ""));
    }

    void testInsert()
    {
        Edits e;
        e.insert(3, "X");
        e.insert(0, "<");
        e.insert(6, ">");
        CPPUNIT_ASSERT_EQUAL(size_t{3}, e.size());
        CPPUNIT_ASSERT_EQUAL("<abcXdef>"s, run(e, "abcdef"));
        e.clear();
        CPPUNIT_ASSERT(e.empty());
        e.insert(0, "only");
        CPPUNIT_ASSERT_EQUAL("only"s, run(e, ""));
    }

    void testRemoveReplace()
    {
        Edits e;
        e.replace(6, 11, "there");
        e.remove(0, 1);
        e.remove(11, 12);
        CPPUNIT_ASSERT_EQUAL("ello there"s, run(e, "hello world!"));
        Edits adj;
        adj.remove(0, 2);
        adj.remove(2, 4);  // adjacent, not overlapping
        adj.replace(4, 4, "+");  // empty range: an insertion
        CPPUNIT_ASSERT_EQUAL("+ef"s, run(adj, "abcdef"));
        Edits grow;
        grow.replace(1, 2, "BBB");
        CPPUNIT_ASSERT_EQUAL("aBBBc"s, run(grow, "abc"));
        Edits all;
        all.remove(0, 3);
        CPPUNIT_ASSERT_EQUAL(""s, run(all, "abc"));
    }

    void testOrderAtSameOffset()
    {
        Edits e;
        e.insert(2, "1");
        e.replace(2, 4, "R");
        e.insert(2, "2");   // still before the replacement
        e.insert(4, "A");   // after the replaced range
        e.insert(2, "3");
        CPPUNIT_ASSERT_EQUAL("ab123RAef"s, run(e, "abcdef"));
    }

    void testConflicts()
    {
        Edits overlap;
        overlap.remove(1, 4);
        overlap.remove(3, 5);
        std::string out = "stale";
        CPPUNIT_ASSERT(!overlap.apply("abcdef", out));
        CPPUNIT_ASSERT(out.empty());
        Edits same_start;
        same_start.remove(2, 3);
        same_start.replace(2, 5, "x");
        CPPUNIT_ASSERT(!same_start.apply("abcdef", out));
        Edits inside;
        inside.remove(1, 5);
        inside.insert(3, "x");
        CPPUNIT_ASSERT(!inside.apply("abcdef", out));
        Edits nested;
        nested.replace(0, 6, "z");
        nested.remove(2, 3);
        CPPUNIT_ASSERT(!nested.apply("abcdef", out));
    }

    void testBounds()
    {
        std::string out;
        Edits past;
        past.insert(4, "x");
        CPPUNIT_ASSERT(!past.apply("abc", out));
        Edits end_past;
        end_past.remove(1, 4);
        CPPUNIT_ASSERT(!end_past.apply("abc", out));
        Edits reversed;
        reversed.remove(2, 1);
        CPPUNIT_ASSERT(!reversed.apply("abc", out));
        Edits at_end;
        at_end.insert(3, "d");
        CPPUNIT_ASSERT(at_end.apply("abc", out));
        CPPUNIT_ASSERT_EQUAL("abcd"s, out);
    }

    // What the stateless proxy does: a new top Via, a popped Route, a
    // decremented Max-Forwards; the result must parse again.
    void testProxyRewrite()
    {
        std::string in =
            "INVITE sip:bob@example.com SIP/2.0\r\n"
            "Route: <sip:proxy.example.com;lr>\r\n"
            "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:a@example.com>;tag=1\r\n"
            "To: <sip:bob@example.com>\r\n"
            "Call-ID: c1\r\n"
            "CSeq: 1 INVITE\r\n"
            "Content-Length: 2\r\n"
            "\r\n"
            "hi";
        SipMsg m;
        CPPUNIT_ASSERT(parse_message(in, m).ok);
        const Header* route = m.find(HdrType::Route);
        const Header* via = m.find(HdrType::Via);
        const Header* mf = m.find(HdrType::MaxForwards);
        CPPUNIT_ASSERT(route && via && mf);
        Edits e;
        e.insert(via->start, "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp\r\n");
        e.remove(route->start, route->end);
        size_t vs = static_cast<size_t>(mf->value.data() - in.data());
        e.replace(vs, vs + mf->value.size(), "69");
        e.insert(m.vias[0].end, ";received=192.0.2.1");
        std::string out;
        CPPUNIT_ASSERT(e.apply(in, out));
        SipMsg o;
        ParseResult r = parse_message(out, o);
        CPPUNIT_ASSERT_MESSAGE(r.error, r.ok);
        CPPUNIT_ASSERT(o.find(HdrType::Route) == nullptr);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, o.vias.size());
        CPPUNIT_ASSERT_EQUAL("proxy.example.com"sv, o.vias[0].host);
        CPPUNIT_ASSERT_EQUAL("192.0.2.1"sv, o.vias[1].received);
        CPPUNIT_ASSERT_EQUAL(69, o.max_forwards);
        CPPUNIT_ASSERT_EQUAL("hi"sv, o.body);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SipEditTest);
