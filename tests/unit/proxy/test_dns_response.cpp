// Unit tests of dns::parse_response (core/proxy/dns_resolver.cpp) over DNS
// messages built here byte by byte: the records and the lowest answer TTL of
// a positive answer, the RFC 2308 TTL of a negative one (the SOA's minimum,
// capped), the fall-back without a SOA, and a failure that is not an answer.
#include "proxy/dns_resolver.h"

#include <ares.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

using namespace ser;
using namespace ser::dns;

namespace {

using Bytes = std::vector<unsigned char>;

void put16(Bytes& b, unsigned v) { b.push_back(static_cast<unsigned char>(v >> 8)); b.push_back(static_cast<unsigned char>(v)); }
void put32(Bytes& b, uint32_t v) { put16(b, v >> 16); put16(b, v & 0xffff); }
void name(Bytes& b, const std::string& dotted)
{
    size_t start = 0;
    while (start < dotted.size()) {
        size_t dot = dotted.find('.', start);
        if (dot == std::string::npos)
            dot = dotted.size();
        b.push_back(static_cast<unsigned char>(dot - start));
        b.insert(b.end(), dotted.begin() + static_cast<long>(start), dotted.begin() + static_cast<long>(dot));
        start = dot + 1;
    }
    b.push_back(0);
}

// A response to (qname, qtype) with rcode, `an` answer and `ns` authority records appended by the caller.
Bytes header(const std::string& qname, unsigned qtype, unsigned rcode, unsigned an, unsigned ns)
{
    Bytes b;
    put16(b, 0x1234);
    put16(b, 0x8580 | rcode);   // response, authoritative, RD, RA
    put16(b, 1);
    put16(b, an);
    put16(b, ns);
    put16(b, 0);
    name(b, qname);
    put16(b, qtype);
    put16(b, 1);
    return b;
}

void srv_rr(Bytes& b, uint32_t ttl, unsigned prio, unsigned weight, unsigned port, const std::string& target)
{
    put16(b, 0xC00C);   // the question's name
    put16(b, 33);
    put16(b, 1);
    put32(b, ttl);
    Bytes rd;
    put16(rd, prio);
    put16(rd, weight);
    put16(rd, port);
    name(rd, target);
    put16(b, static_cast<unsigned>(rd.size()));
    b.insert(b.end(), rd.begin(), rd.end());
}

void soa_rr(Bytes& b, uint32_t ttl, uint32_t minimum)
{
    put16(b, 0xC00C);
    put16(b, 6);
    put16(b, 1);
    put32(b, ttl);
    Bytes rd;
    name(rd, "ns.test");
    name(rd, "hostmaster.test");
    for (uint32_t v : {1u, 3600u, 600u, 86400u})
        put32(rd, v);
    put32(rd, minimum);
    put16(b, static_cast<unsigned>(rd.size()));
    b.insert(b.end(), rd.begin(), rd.end());
}

}  // namespace

class DnsResponseTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DnsResponseTest);
    CPPUNIT_TEST(srv_records_and_lowest_ttl);
    CPPUNIT_TEST(nxdomain_takes_soa_minimum);
    CPPUNIT_TEST(negative_ttl_is_capped);
    CPPUNIT_TEST(nodata_without_soa_falls_back);
    CPPUNIT_TEST(failure_is_no_answer);
    CPPUNIT_TEST_SUITE_END();

public:
    void srv_records_and_lowest_ttl()
    {
        Bytes b = header("_sip._udp.x.test", 33, 0, 2, 0);
        srv_rr(b, 300, 10, 60, 5060, "a.x.test");
        srv_rr(b, 42, 20, 0, 5070, "b.x.test");
        uint32_t ttl = 0;
        Result r = parse_response(Type::Srv, ARES_SUCCESS, b.data(), static_cast<int>(b.size()), ttl);
        CPPUNIT_ASSERT(r.ok && !r.answer.negative);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, r.answer.srv.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t{42}, ttl);
        bool seen_a = false;
        for (const SrvRecord& s : r.answer.srv)
            if (s.target == "a.x.test") {
                seen_a = true;
                CPPUNIT_ASSERT_EQUAL(uint16_t{10}, s.priority);
                CPPUNIT_ASSERT_EQUAL(uint16_t{60}, s.weight);
                CPPUNIT_ASSERT_EQUAL(uint16_t{5060}, s.port);
            }
        CPPUNIT_ASSERT(seen_a);
    }

    void nxdomain_takes_soa_minimum()
    {
        Bytes b = header("nope.x.test", 1, 3, 0, 1);
        soa_rr(b, 3600, 120);
        uint32_t ttl = 0;
        Result r = parse_response(Type::A, ARES_ENOTFOUND, b.data(), static_cast<int>(b.size()), ttl);
        CPPUNIT_ASSERT(r.ok && r.answer.negative);
        CPPUNIT_ASSERT_EQUAL(uint32_t{120}, ttl);
        // The SOA's own TTL when lower (RFC 2308 §5).
        Bytes c = header("nope.x.test", 1, 3, 0, 1);
        soa_rr(c, 15, 120);
        parse_response(Type::A, ARES_ENOTFOUND, c.data(), static_cast<int>(c.size()), ttl);
        CPPUNIT_ASSERT_EQUAL(uint32_t{15}, ttl);
    }

    void negative_ttl_is_capped()
    {
        Bytes b = header("nope.x.test", 35, 0, 0, 1);
        soa_rr(b, 86400, 86400);
        uint32_t ttl = 0;
        Result r = parse_response(Type::Naptr, ARES_ENODATA, b.data(), static_cast<int>(b.size()), ttl);
        CPPUNIT_ASSERT(r.ok && r.answer.negative);
        CPPUNIT_ASSERT_EQUAL(uint32_t{300}, ttl);
    }

    void nodata_without_soa_falls_back()
    {
        Bytes b = header("h.x.test", 28, 0, 0, 0);
        uint32_t ttl = 0;
        Result r = parse_response(Type::Aaaa, ARES_ENODATA, b.data(), static_cast<int>(b.size()), ttl);
        CPPUNIT_ASSERT(r.ok && r.answer.negative);
        CPPUNIT_ASSERT_EQUAL(uint32_t{30}, ttl);
    }

    void failure_is_no_answer()
    {
        uint32_t ttl = 7;
        Result r = parse_response(Type::A, ARES_ETIMEOUT, nullptr, 0, ttl);
        CPPUNIT_ASSERT(!r.ok);
        CPPUNIT_ASSERT(!r.error.empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DnsResponseTest);
