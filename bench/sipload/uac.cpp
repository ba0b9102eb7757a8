// sipload uac: starts calls at an even rate, each INVITE -> (180) -> 200 ->
// ACK -> BYE -> 200; over UDP it retransmits as RFC 3261 timers A and E do.
// A call's slot number is in its Call-ID, so a reply finds its call without
// a hash table; a generation number rejects replies to a slot's old call.
#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <queue>
#include <unistd.h>

#include "sipload.h"

namespace sipload {

namespace {

constexpr int64_t kT1 = 500000, kT2 = 4000000;  // µs

enum class State { free, inviting, byeing };

struct Call {
    State state = State::free;
    long gen = 0;
    int64_t started = 0, next_retrans = 0, interval = 0;
    bool provisional = false, answered = false;
    std::string to_tag;  // from the 200
    Conn* conn = nullptr;
};

struct Timer {
    int64_t at;
    long slot, gen;
    bool operator>(const Timer& t) const { return at > t.at; }
};

// INVITE -> 200 latency: 10 µs buckets to 100 ms, then 1 ms to 60 s.
struct Histogram {
    std::vector<long> fine = std::vector<long>(10000), coarse = std::vector<long>(60000);
    long n = 0;
    void add(int64_t us) {
        ++n;
        if (us < 100000) ++fine[static_cast<size_t>(us / 10)];
        else ++coarse[static_cast<size_t>(std::min<int64_t>(us / 1000, 59999))];
    }
    long percentile(double p) const {
        long want = static_cast<long>(p * static_cast<double>(n)), seen = 0;
        for (size_t i = 0; i < fine.size(); ++i)
            if ((seen += fine[i]) > want) return static_cast<long>(i * 10 + 5);
        for (size_t i = 0; i < coarse.size(); ++i)
            if ((seen += coarse[i]) > want) return static_cast<long>(i * 1000 + 500);
        return 0;
    }
};

struct Uac {
    Options& o;
    Stats st;
    Net net{o, st};
    std::vector<Call> calls;
    std::vector<long> free_slots;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers;
    std::vector<Conn*> shared;  // --connections
    size_t next_shared = 0;
    long started = 0, active = 0, finished = 0;
    bool waiting = false;  // a due call waits for a free slot
    int64_t t0 = 0, last_start = 0;
    Histogram lat;
    std::string ruri, host, pid;

    explicit Uac(Options& opts) : o(opts) {}

    std::string_view via_of(const Call& c) { return c.conn ? std::string_view(c.conn->via) : net.udp_via; }

    // The parts of every request of call `slot`.
    void common(Out& m, std::string_view method, long slot, const Call& c, int cseq, int branch) {
        m.s(method).s(" ").s(ruri).s(" SIP/2.0\r\nVia: SIP/2.0/").s(via_of(c));
        m.s(";branch=z9hG4bK").num(slot).s(".").num(c.gen).s(".").num(branch).s(pid).s(";rport\r\n");
        m.s("Max-Forwards: 70\r\nFrom: <sip:sipload@").s(host).s(">;tag=").num(slot).s(".").num(c.gen);
        m.s("\r\nTo: <").s(ruri).s(">");
        if (!c.to_tag.empty()) m.s(";tag=").s(c.to_tag);
        m.s("\r\nCall-ID: ").num(slot).s("-").num(c.gen).s(pid).s("@sipload\r\nCSeq: ").num(cseq).s(" ");
        m.s(method).s("\r\n");
    }

    void send(Call& c, std::string_view m) { net.send(c.conn, &o.remote, m); }

    void send_invite(long slot) {
        static constexpr std::string_view sdp =
            "v=0\r\no=sipload 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
        Call& c = calls[static_cast<size_t>(slot)];
        Out m;
        common(m, "INVITE", slot, c, 1, 1);
        m.s("Contact: <sip:sipload@").s(host).s(">\r\nContent-Type: application/sdp\r\nContent-Length: ");
        m.num(static_cast<long>(sdp.size())).s("\r\n\r\n").s(sdp);
        send(c, m.view());
    }

    void send_ack_bye(long slot, bool bye) {
        Call& c = calls[static_cast<size_t>(slot)];
        Out m;
        common(m, "ACK", slot, c, 1, 2);
        m.s("Content-Length: 0\r\n\r\n");
        send(c, m.view());
        if (!bye) return;
        Out b;
        common(b, "BYE", slot, c, 2, 3);
        b.s("Content-Length: 0\r\n\r\n");
        send(c, b.view());
    }

    void arm(long slot, int64_t at) { timers.push({at, slot, calls[static_cast<size_t>(slot)].gen}); }

    void start_call() {
        long slot = free_slots.back();
        free_slots.pop_back();
        Call& c = calls[static_cast<size_t>(slot)];
        ++c.gen;
        c.state = State::inviting;
        c.provisional = c.answered = false;
        c.to_tag.clear();
        c.started = last_start = now_us();
        c.conn = nullptr;
        if (o.proto != Proto::udp) {
            if (o.conn_per_call) {
                c.conn = net.connect_remote();
                if (c.conn) c.conn->call = slot;
            } else if (!shared.empty()) {
                c.conn = shared[next_shared++ % shared.size()];
            }
        }
        ++started;
        ++active;
        ++st.calls;
        if (o.proto != Proto::udp && (!c.conn || c.conn->dead)) return end_call(slot, false);
        send_invite(slot);
        if (o.proto == Proto::udp) {
            c.interval = kT1;
            c.next_retrans = c.started + kT1;
            arm(slot, c.next_retrans);
        }
        arm(slot, c.started + o.timeout_ms * 1000LL);
    }

    void end_call(long slot, bool ok) {
        Call& c = calls[static_cast<size_t>(slot)];
        if (c.state == State::free) return;
        c.state = State::free;
        ++c.gen;
        ok ? ++st.ok : ++st.failed;
        --active;
        ++finished;
        free_slots.push_back(slot);
        if (o.conn_per_call && c.conn) {
            Conn* k = c.conn;
            c.conn = nullptr;
            k->call = -1;
            net.close(k);
        }
    }

    // A reply: its call from the Call-ID's slot and generation.
    void on_reply(const Msg& m) {
        long slot = 0, gen = 0;
        size_t i = 0;
        auto num = [&](long& v) {
            v = 0;
            while (i < m.call_id.size() && m.call_id[i] >= '0' && m.call_id[i] <= '9') v = v * 10 + (m.call_id[i++] - '0');
        };
        num(slot);
        if (i >= m.call_id.size() || m.call_id[i] != '-') return;
        ++i;
        num(gen);
        if (slot < 0 || static_cast<size_t>(slot) >= calls.size()) return;
        Call& c = calls[static_cast<size_t>(slot)];
        if (c.gen != gen || c.state == State::free) return;
        if (m.cseq_method == "INVITE") {
            if (m.status < 200) {
                c.provisional = true;
            } else if (m.status < 300) {
                if (c.answered) return send_ack_bye(slot, false);  // a retransmitted 200: ACK again
                c.answered = true;
                lat.add(now_us() - c.started);
                c.to_tag.assign(m.to_tag);
                c.state = State::byeing;
                send_ack_bye(slot, true);
                if (o.proto == Proto::udp) {
                    c.interval = kT1;
                    c.next_retrans = now_us() + kT1;
                    arm(slot, c.next_retrans);
                }
            } else {
                end_call(slot, false);
            }
        } else if (m.cseq_method == "BYE" && m.status >= 200 && c.state == State::byeing) {
            end_call(slot, m.status < 300);
        }
    }

    void on_timer(const Timer& t, int64_t now) {
        Call& c = calls[static_cast<size_t>(t.slot)];
        if (c.gen != t.gen || c.state == State::free) return;
        if (now >= c.started + o.timeout_ms * 1000LL) {
            ++st.timeouts;
            return end_call(t.slot, false);
        }
        if (o.proto != Proto::udp || t.at != c.next_retrans) return;
        if (c.state == State::inviting && c.provisional) return;  // timer A stops
        ++st.retrans;
        if (c.state == State::inviting) {
            send_invite(t.slot);
            c.interval *= 2;
        } else {
            Out b;
            common(b, "BYE", t.slot, c, 2, 3);
            b.s("Content-Length: 0\r\n\r\n");
            send(c, b.view());
            c.interval = std::min(c.interval * 2, kT2);
        }
        c.next_retrans = now + c.interval;
        arm(t.slot, c.next_retrans);
    }

    // A connection closed: its calls fail, and a shared one is not used again.
    void on_close(Conn* k) {
        if (k->call >= 0) return end_call(k->call, false);
        std::erase(shared, k);
        for (size_t i = 0; i < calls.size(); ++i)
            if (calls[i].state != State::free && calls[i].conn == k) {
                calls[i].conn = nullptr;
                end_call(static_cast<long>(i), false);
            }
    }

    // Start what is due by now; the time the next call is due.
    int64_t pace(int64_t now) {
        if (started >= o.calls) return -1;
        long due = std::min<long>(o.calls, static_cast<long>(static_cast<double>(now - t0) * o.rate / 1e6) + 1);
        while (started < due) {
            if (free_slots.empty()) {
                if (!waiting) ++st.throttled;
                waiting = true;
                return now + 1000;
            }
            waiting = false;
            start_call();
        }
        // Wake at whole milliseconds: at a high rate, the calls due within
        // one go out together (in one sendmmsg over UDP) for one wake-up.
        int64_t next = t0 + static_cast<int64_t>(static_cast<double>(started) * 1e6 / o.rate);
        return (next + 999) / 1000 * 1000;
    }

    int run() {
        if (!net.setup()) return 2;
        net.role = this;
        net.on_msg = [](void* r, Conn*, const sockaddr_in*, std::string_view text) {
            Msg m;
            if (parse(text, m) && m.response) static_cast<Uac*>(r)->on_reply(m);
        };
        net.on_close = [](void* r, Conn* k) { static_cast<Uac*>(r)->on_close(k); };
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &o.remote.sin_addr, ip, sizeof ip);
        host = std::string(ip) + ":" + std::to_string(ntohs(o.remote.sin_port));
        ruri = "sip:service@" + host;
        pid = "." + std::to_string(getpid());
        long slots = o.max_concurrent > 0 ? o.max_concurrent : std::max<long>(64, static_cast<long>(o.rate * 4));
        calls.resize(static_cast<size_t>(slots));
        for (long i = slots - 1; i >= 0; --i) free_slots.push_back(i);
        if (o.proto != Proto::udp && !o.conn_per_call)
            for (int i = 0; i < o.connections; ++i)
                if (Conn* k = net.connect_remote()) shared.push_back(k);
        if (o.proto != Proto::udp && !o.conn_per_call && shared.empty()) return 1;
        t0 = now_us();
        while (!g_stop && (started < o.calls || active > 0)) {
            int64_t now = now_us();
            while (!timers.empty() && timers.top().at <= now) {
                Timer t = timers.top();
                timers.pop();
                on_timer(t, now);
            }
            int64_t next = pace(now);
            if (!timers.empty() && (next < 0 || timers.top().at < next)) next = timers.top().at;
            net.poll(next < 0 ? 100000 : std::max<int64_t>(0, next - now_us()));
            wait_tick(o.tick_us);
        }
        int64_t end = now_us();
        double run_s = static_cast<double>(end - t0) / 1e6;
        double start_s = static_cast<double>(last_start - t0) / 1e6 + 1.0 / o.rate;
        char extra[256];
        std::snprintf(extra, sizeof extra, " p50_us=%ld p99_us=%ld elapsed_s=%.2f rate=%.1f", lat.percentile(0.5),
                      lat.percentile(0.99), run_s, started ? static_cast<double>(started) / start_s : 0.0);
        print_summary(o, st, extra);
        return st.failed || started < o.calls ? 1 : 0;
    }
};

}  // namespace

int run_uac(Options& o) {
    Uac u(o);
    return u.run();
}

}  // namespace sipload
