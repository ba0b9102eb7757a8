// The c-ares resolver of a worker: dns_resolver.h.
#include "proxy/dns_resolver.h"

#include "clock.h"
#include "log.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace ser::dns {
namespace {

// Negative answers without a SOA are kept this long; no negative answer longer
// than kNegativeCapS (a name that appears is found within five minutes).
constexpr uint32_t kNegativeFallbackS = 30;
constexpr uint32_t kNegativeCapS = 300;
constexpr int kMaxAddrs = 32;
// A query without an answer (timeout, SERVFAIL, REFUSED) is remembered as
// negative this long (RFC 2308 §7 allows up to five minutes), so a broken
// zone or server is not asked again for every request.
constexpr uint32_t kFailureTtlS = 5;

std::string cache_key(const std::string& name, Type t)
{
    return std::to_string(static_cast<unsigned>(t)) + ":" + name;
}

uint16_t rd16(const unsigned char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t rd32(const unsigned char* p)
{
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

// Skips a (possibly compressed) name at p; nullptr when it runs past end.
const unsigned char* skip_name(const unsigned char* p, const unsigned char* end)
{
    while (p < end) {
        if (*p == 0)
            return p + 1;
        if ((*p & 0xC0) == 0xC0)
            return p + 2 <= end ? p + 2 : nullptr;
        p += 1 + *p;
    }
    return nullptr;
}

// TTL facts of a response: the lowest answer TTL, and the authority SOA.
struct TtlFacts {
    std::optional<uint32_t> answer_ttl;
    std::optional<uint32_t> soa_ttl;
    std::optional<uint32_t> soa_min;
};

TtlFacts ttl_facts(const unsigned char* abuf, int alen)
{
    TtlFacts f;
    if (!abuf || alen < 12)
        return f;
    const unsigned char* end = abuf + alen;
    unsigned qd = rd16(abuf + 4), an = rd16(abuf + 6), ns = rd16(abuf + 8);
    const unsigned char* p = abuf + 12;
    for (unsigned i = 0; i < qd && p; i++) {
        p = skip_name(p, end);
        p = p && p + 4 <= end ? p + 4 : nullptr;
    }
    for (unsigned i = 0; i < an + ns && p; i++) {
        p = skip_name(p, end);
        if (!p || p + 10 > end)
            return f;
        uint16_t type = rd16(p);
        uint32_t ttl = rd32(p + 4);
        uint16_t rdlen = rd16(p + 8);
        p += 10;
        if (p + rdlen > end)
            return f;
        if (i < an)
            f.answer_ttl = f.answer_ttl ? std::min(*f.answer_ttl, ttl) : ttl;
        else if (type == 6 && rdlen >= 20) {   // SOA: its MINIMUM is the last field
            f.soa_ttl = ttl;
            f.soa_min = rd32(p + rdlen - 4);
        }
        p += rdlen;
    }
    return f;
}

// An address of family from its network-order bytes, port 0.
SockAddr from_bytes(int family, const void* bytes)
{
    SockAddr a;
    if (family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(a.sa());
        sin->sin_family = AF_INET;
        std::memcpy(&sin->sin_addr, bytes, sizeof sin->sin_addr);
        a.len = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(a.sa());
        sin6->sin6_family = AF_INET6;
        std::memcpy(&sin6->sin6_addr, bytes, sizeof sin6->sin6_addr);
        a.len = sizeof(sockaddr_in6);
    }
    return a;
}

void parse_records(Type t, const unsigned char* abuf, int alen, Result& r)
{
    int rc = ARES_ENODATA;
    if (t == Type::A) {
        ares_addrttl v[kMaxAddrs];
        int n = kMaxAddrs;
        rc = ares_parse_a_reply(abuf, alen, nullptr, v, &n);
        for (int i = 0; rc == ARES_SUCCESS && i < n; i++)
            r.answer.addrs.push_back(from_bytes(AF_INET, &v[i].ipaddr));
    } else if (t == Type::Aaaa) {
        ares_addr6ttl v[kMaxAddrs];
        int n = kMaxAddrs;
        rc = ares_parse_aaaa_reply(abuf, alen, nullptr, v, &n);
        for (int i = 0; rc == ARES_SUCCESS && i < n; i++)
            r.answer.addrs.push_back(from_bytes(AF_INET6, &v[i].ip6addr));
    } else if (t == Type::Srv) {
        ares_srv_reply* s = nullptr;
        rc = ares_parse_srv_reply(abuf, alen, &s);
        for (ares_srv_reply* i = s; rc == ARES_SUCCESS && i; i = i->next)
            r.answer.srv.push_back({i->priority, i->weight, i->port, i->host ? i->host : "."});
        if (s)
            ares_free_data(s);
    } else {
        ares_naptr_reply* s = nullptr;
        rc = ares_parse_naptr_reply(abuf, alen, &s);
        for (ares_naptr_reply* i = s; rc == ARES_SUCCESS && i; i = i->next)
            r.answer.naptr.push_back({i->order, i->preference, reinterpret_cast<const char*>(i->flags),
                                      reinterpret_cast<const char*>(i->service),
                                      i->replacement ? i->replacement : ""});
        if (s)
            ares_free_data(s);
    }
    if (rc == ARES_SUCCESS) {
        r.ok = true;
        r.answer.negative = r.answer.addrs.empty() && r.answer.srv.empty() && r.answer.naptr.empty();
    } else if (rc == ARES_ENODATA) {
        r.ok = true;   // a CNAME without the type asked for
        r.answer = Answer{};
        r.answer.negative = true;
    } else {
        r.error = ares_strerror(rc);
    }
}

}  // namespace

Result parse_response(Type t, int status, const unsigned char* abuf, int alen, uint32_t& ttl_s)
{
    Result r;
    TtlFacts f = ttl_facts(abuf, alen);
    if (status == ARES_SUCCESS) {
        parse_records(t, abuf, alen, r);
    } else if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
        r.ok = true;
        r.answer.negative = true;
    } else {
        r.error = ares_strerror(status);
        return r;
    }
    if (r.ok && r.answer.negative)
        ttl_s = negative_ttl(f.soa_min, f.soa_ttl, kNegativeFallbackS, kNegativeCapS);
    else
        ttl_s = f.answer_ttl.value_or(0);
    return r;
}

struct Resolver::Query {
    Resolver* self;
    std::string key;
    std::string name;
    Type type;
};

Resolver::Resolver(const ResolverOptions& o, LoopHooks& hooks) : hooks_(hooks), cache_(o.cache_size)
{
    static bool lib_ready = ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS;
    if (!lib_ready) {
        error_ = "ares_library_init failed";
        return;
    }
    ares_options opt{};
    opt.timeout = o.timeout_ms;
    opt.tries = o.retries + 1;
    opt.sock_state_cb = [](void* data, ares_socket_t fd, int r, int w) { sock_state(data, fd, r, w); };
    opt.sock_state_cb_data = this;
    ares_channel ch = nullptr;
    int rc = ares_init_options(&ch, &opt, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB);
    if (rc != ARES_SUCCESS) {
        error_ = std::string("ares_init_options: ") + ares_strerror(rc);
        return;
    }
    if (!o.servers.empty()) {
        std::string csv;
        for (const std::string& s : o.servers) {
            // A bare IPv6 address is bracketed: c-ares reads a port after the last ':' otherwise.
            bool bare_v6 = s.front() != '[' && std::count(s.begin(), s.end(), ':') > 1;
            csv += (csv.empty() ? "" : ",") + (bare_v6 ? "[" + s + "]" : s);
        }
        rc = ares_set_servers_ports_csv(ch, csv.c_str());
        if (rc != ARES_SUCCESS) {
            error_ = "dns_servers \"" + csv + "\": " + ares_strerror(rc);
            ares_destroy(ch);
            return;
        }
    }
    channel_ = ch;
}

Resolver::~Resolver()
{
    destroying_ = true;
    if (channel_)
        ares_destroy(static_cast<ares_channel>(channel_));
}

void Resolver::sock_state(void* data, int fd, int readable, int writable)
{
    auto* self = static_cast<Resolver*>(data);
    if (readable || writable)
        self->writable_[fd] = writable != 0;
    else
        self->writable_.erase(fd);
    self->hooks_.dns_watch(fd, readable != 0, writable != 0);
}

const Answer* Resolver::cached(const std::string& name, Type t)
{
    return cache_.find(name, t, now_ms());
}

bool Resolver::in_hosts_file(const std::string& host)
{
    int64_t now = now_ms();
    auto it = hosts_.find(host);
    if (it != hosts_.end() && it->second.second > now)
        return it->second.first;
    bool found = false;
    if (channel_) {
        for (int family : {AF_INET, AF_INET6}) {
            hostent* h = nullptr;
            if (ares_gethostbyname_file(static_cast<ares_channel>(channel_), host.c_str(), family, &h) ==
                ARES_SUCCESS) {
                found = true;
                ares_free_hostent(h);
                break;
            }
        }
    }
    if (hosts_.size() >= 512)
        hosts_.clear();
    hosts_[host] = {found, now + 60'000};
    return found;
}

void Resolver::query(const std::string& name, Type t, Done done)
{
    std::string key = cache_key(name, t);
    auto [it, fresh] = waiters_.try_emplace(key);
    it->second.push_back(std::move(done));
    if (!fresh)
        return;
    if (!channel_) {
        // No channel: fail on the next timer turn, never from inside query().
        hooks_.dns_wake_at(now_ms());
        return;
    }
    auto* q = new Query{this, key, name, t};
    in_query_ = true;
    ares_query(static_cast<ares_channel>(channel_), name.c_str(), 1 /* C_IN */, static_cast<int>(t), answered, q);
    in_query_ = false;
    rearm();
}

void Resolver::answered(void* arg, int status, int, unsigned char* abuf, int alen)
{
    std::unique_ptr<Query> q(static_cast<Query*>(arg));
    Resolver* self = q->self;
    if (self->destroying_)
        return;
    uint32_t ttl = 0;
    Result r = parse_response(q->type, status, abuf, alen, ttl);
    if (r.ok) {
        self->cache_.put(q->name, q->type, r.answer, ttl, now_ms());
    } else {
        Answer none;
        none.negative = true;
        self->cache_.put(q->name, q->type, none, kFailureTtlS, now_ms());
        LOG_INFO("dns: %s query for %s: %s", q->type == Type::A ? "A" : q->type == Type::Aaaa ? "AAAA"
                                              : q->type == Type::Srv                         ? "SRV"
                                                                                             : "NAPTR",
                 q->name.c_str(), r.error.c_str());
    }
    if (self->in_query_) {
        // c-ares failed the query at once (a bad name): answer from the timer.
        self->deferred_.emplace_back(q->key, std::move(r));
        self->hooks_.dns_wake_at(now_ms());
        return;
    }
    self->finish(q->key, r);
}

void Resolver::finish(const std::string& key, const Result& r)
{
    auto it = waiters_.find(key);
    if (it == waiters_.end())
        return;
    std::vector<Done> w = std::move(it->second);
    waiters_.erase(it);
    for (Done& d : w)
        d(r);
}

void Resolver::on_fd(int fd)
{
    if (!channel_)
        return;
    auto w = writable_.find(fd);
    bool want_write = w != writable_.end() && w->second;
    ares_process_fd(static_cast<ares_channel>(channel_), fd, want_write ? fd : ARES_SOCKET_BAD);
    rearm();
}

void Resolver::on_timer()
{
    std::vector<std::pair<std::string, Result>> d = std::move(deferred_);
    deferred_.clear();
    for (auto& [key, r] : d)
        finish(key, r);
    if (!channel_) {
        Result r;
        r.error = error_;
        while (!waiters_.empty())
            finish(waiters_.begin()->first, r);
        return;
    }
    ares_process_fd(static_cast<ares_channel>(channel_), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm();
}

void Resolver::rearm()
{
    if (!channel_ || waiters_.empty())
        return;
    timeval max{1, 0}, tv{};
    timeval* t = ares_timeout(static_cast<ares_channel>(channel_), &max, &tv);
    hooks_.dns_wake_at(now_ms() + t->tv_sec * 1000 + t->tv_usec / 1000 + 1);
}

}  // namespace ser::dns
