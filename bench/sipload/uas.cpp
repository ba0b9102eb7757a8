// sipload uas: answers INVITE with 180 and 200, ACK silently, BYE with 200,
// always to where the request came from (the proxy). Over UDP it
// retransmits its 200 to INVITE until the ACK (RFC 3261 timer G), answers a
// retransmitted INVITE or BYE again, and remembers a finished call for 32 s.
#include <algorithm>
#include <queue>
#include <unordered_map>

#include "sipload.h"

namespace sipload {

namespace {

constexpr int64_t kT1 = 500000, kT2 = 4000000, kLinger = 32000000;  // µs

struct UasCall {
    std::string ok;  // our 200 to the INVITE, kept (UDP) until the ACK
    sockaddr_in peer{};
    bool acked = false, done = false;
    int64_t interval = kT1, next = 0, expires = 0;
    long tag = 0;
};

struct Timer {
    int64_t at;
    uint64_t key;
    bool operator>(const Timer& t) const { return at > t.at; }
};

uint64_t hash(std::string_view v) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : v) h = (h ^ c) * 1099511628211ULL;
    return h;
}

struct Uas {
    Options& o;
    Stats st;
    Net net{o, st};
    std::unordered_map<uint64_t, UasCall> calls;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers;
    long next_tag = 1;
    bool udp;

    explicit Uas(Options& opts) : o(opts), udp(opts.proto == Proto::udp) {}

    // A response to m: status line, the request's Vias, From, To (with our
    // tag), Call-ID, CSeq; a Contact and SDP for the 200 to INVITE.
    void reply(Out& r, const Msg& m, std::string_view status, long tag, Conn* c, bool invite_ok) {
        r.s("SIP/2.0 ").s(status).s("\r\n");
        for (int i = 0; i < m.nvias; ++i) r.s(m.vias[i]);
        r.s("From: ").s(m.from).s("\r\nTo: ").s(m.to);
        if (m.to_tag.empty()) r.s(";tag=uas").num(tag);
        r.s("\r\nCall-ID: ").s(m.call_id).s("\r\nCSeq: ").num(m.cseq).s(" ").s(m.cseq_method).s("\r\n");
        if (!invite_ok) {
            r.s("Content-Length: 0\r\n\r\n");
            return;
        }
        static constexpr std::string_view sdp =
            "v=0\r\no=sipload 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio 6002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
        r.s("Contact: <sip:uas@").s(c ? std::string_view(c->via).substr(4) : std::string_view(net.udp_via).substr(4));
        r.s(">\r\nContent-Type: application/sdp\r\nContent-Length: ").num(static_cast<long>(sdp.size()));
        r.s("\r\n\r\n").s(sdp);
    }

    void send(Conn* c, const sockaddr_in* to, std::string_view m) { net.send(c, to, m); }

    void on_invite(Conn* c, const sockaddr_in* from, const Msg& m, uint64_t key) {
        auto [it, fresh] = calls.try_emplace(key);
        UasCall& call = it->second;
        if (!fresh) {  // a retransmission: the last answer again
            if (!call.ok.empty()) {
                ++st.retrans;
                send(c, from, call.ok);
            }
            return;
        }
        ++st.invites;
        call.tag = next_tag++;
        Out ringing;
        reply(ringing, m, "180 Ringing", call.tag, c, false);
        send(c, from, ringing.view());
        Out ok;
        reply(ok, m, "200 OK", call.tag, c, true);
        send(c, from, ok.view());
        int64_t now = now_us();
        if (udp) {
            call.ok.assign(ok.view());
            call.peer = *from;
            call.next = now + kT1;
            timers.push({call.next, key});
        }
        call.expires = now + kLinger;
        timers.push({call.expires, key});
    }

    void on_bye(Conn* c, const sockaddr_in* from, const Msg& m, uint64_t key) {
        auto it = calls.find(key);
        long tag = it != calls.end() ? it->second.tag : next_tag++;
        Out ok;
        reply(ok, m, "200 OK", tag, c, false);
        send(c, from, ok.view());
        if (it != calls.end() && it->second.done) {
            ++st.retrans;
            return;
        }
        ++st.byes;
        if (it == calls.end()) return;
        if (!udp) {
            calls.erase(it);
            return;
        }
        it->second.done = it->second.acked = true;
        it->second.ok.clear();
        it->second.expires = now_us() + kLinger;
        timers.push({it->second.expires, key});
    }

    void on_request(Conn* c, const sockaddr_in* from, const Msg& m) {
        uint64_t key = hash(m.call_id);
        if (m.method == "INVITE") return on_invite(c, from, m, key);
        if (m.method == "BYE") {
            on_bye(c, from, m, key);
            if (o.calls > 0 && st.byes >= o.calls) g_stop = 1;
            return;
        }
        if (m.method == "ACK") {
            auto it = calls.find(key);
            if (it != calls.end()) {
                it->second.acked = true;
                it->second.ok.clear();
            }
            return;
        }
        Out r;  // anything else (OPTIONS...): 200
        reply(r, m, "200 OK", next_tag++, c, false);
        send(c, from, r.view());
    }

    void on_timer(const Timer& t, int64_t now) {
        auto it = calls.find(t.key);
        if (it == calls.end()) return;
        UasCall& call = it->second;
        if (now >= call.expires) {
            calls.erase(it);
            return;
        }
        if (!udp || call.acked || t.at != call.next) return;
        ++st.retrans;
        send(nullptr, &call.peer, call.ok);
        call.interval = std::min(call.interval * 2, kT2);
        call.next = now + call.interval;
        timers.push({call.next, t.key});
    }

    int run() {
        if (!net.setup()) return 2;
        net.role = this;
        net.on_msg = [](void* r, Conn* c, const sockaddr_in* from, std::string_view text) {
            Msg m;
            if (parse(text, m) && !m.response) static_cast<Uas*>(r)->on_request(c, from, m);
        };
        while (!g_stop) {
            int64_t now = now_us();
            while (!timers.empty() && timers.top().at <= now) {
                Timer t = timers.top();
                timers.pop();
                on_timer(t, now);
            }
            int64_t wait = timers.empty() ? 200000 : std::min<int64_t>(200000, timers.top().at - now);
            net.poll(std::max<int64_t>(0, wait));
            wait_tick(o.tick_us);
        }
        print_summary(o, st, "");
        return 0;
    }
};

}  // namespace

int run_uas(Options& o) {
    Uas u(o);
    return u.run();
}

}  // namespace sipload
