// sipload — the SIP load client of bench/: a uac that makes calls
// (INVITE, 180, 200, ACK, BYE, 200) at a given rate through a proxy, and the
// uas that answers them, over UDP, TCP or TLS. One thread, epoll, no
// allocation per message on the common path. Built by `make bench`:
//   g++ -std=c++20 -O2 -o build/tls/bench/sipload bench/sipload/*.cpp -lssl -lcrypto
#pragma once

#include <netinet/in.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sipload {

enum class Proto { udp, tcp, tls };
const char* proto_upper(Proto p);

struct Options {
    bool uac = true;
    Proto proto = Proto::udp;
    sockaddr_in local{};   // uac: source (port 0 = any); uas: where it listens
    sockaddr_in remote{};  // uac: the proxy
    bool have_local = false, have_remote = false;
    double rate = 100;
    long calls = 1000;  // uas: 0 = until a signal
    long max_concurrent = 0;
    int timeout_ms = 10000;
    int connections = 1;
    bool conn_per_call = false;
    bool resume = false;
    int tls_version = 0;  // 0, 12 or 13
    int tick_us = 1000;   // handle arrivals once per tick (0: at once)
    std::string cert, key, ca, sni, summary;
    bool quiet = false;
};

// Counters of a run, printed as the summary line.
struct Stats {
    long calls = 0, ok = 0, failed = 0, timeouts = 0, retrans = 0;
    long msgs_sent = 0, msgs_recv = 0, conns = 0, handshakes = 0, resumed = 0;
    long throttled = 0, errors = 0, invites = 0, byes = 0, closed_by_peer = 0;
};

// The microsecond clock (CLOCK_MONOTONIC).
int64_t now_us();
// Sleep until the next whole multiple of tick_us (nothing if 0): what arrives
// meanwhile is read in one go, as SIPp does with its 1 ms loop.
void wait_tick(int tick_us);

// --- messages (msg.cpp) ---

// What sipload needs of a received message; views into the receive buffer.
struct Msg {
    bool response = false;
    int status = 0;
    std::string_view method;       // of the request line
    std::string_view cseq_method;  // of CSeq
    long cseq = 0;
    std::string_view call_id, from, to, to_tag;  // header values
    std::string_view vias[16];     // whole Via header lines, CRLF included
    int nvias = 0;
    std::string_view body;
};

// Parse one whole message (headers and body); false if it is not SIP.
bool parse(std::string_view m, Msg& out);

// Stream framing: the length of the first whole message in buf (CRLFs
// before it count as part of it), 0 if more bytes are needed, -1 if the
// header block is malformed or too large.
long frame(std::string_view buf, size_t limit);

// Appends to a fixed buffer; message text is built with it.
struct Out {
    char buf[4096];
    size_t n = 0;
    Out& s(std::string_view v);
    Out& num(long v);
    std::string_view view() const { return {buf, n}; }
};

// --- network (net.cpp) ---

struct Loop;

// A stream connection (TCP or TLS) with its buffers.
struct Conn {
    int fd = -1;
    SSL* ssl = nullptr;
    bool connecting = false, handshaking = false, out_watched = false, dead = false;
    std::string in;     // received, not yet framed
    std::string out;    // waiting for the socket
    std::string via;    // "TLS 127.0.0.1:40000" for this connection's Via
    long call = -1;     // uac with --conn-per-call: the call it carries
};

struct Net {
    Options& o;
    Stats& st;
    int ep = -1;
    int udp = -1, listener = -1;
    SSL_CTX* ctx = nullptr;
    SSL_SESSION* last_session = nullptr;  // uac --resume
    std::string udp_via;                  // the UDP socket's Via
    std::vector<Conn*> graveyard;         // closed, freed after the event batch
    // Datagrams queued during one round of events, sent together.
    static constexpr int kQueue = 64;
    char qbuf[kQueue][4096];
    sockaddr_in qto[kQueue];
    size_t iov_len[kQueue];
    int queued = 0;
    std::vector<Conn*> dirty;             // connections written to in this round
    // What the role does with a whole message and with a closed connection.
    void (*on_msg)(void* role, Conn* c, const sockaddr_in* from, std::string_view m) = nullptr;
    void (*on_close)(void* role, Conn* c) = nullptr;
    void* role = nullptr;

    explicit Net(Options& opts, Stats& s) : o(opts), st(s) {}
    bool setup();                       // sockets, TLS context, epoll
    Conn* connect_remote();             // uac: a new stream connection
    void send(Conn* c, const sockaddr_in* to, std::string_view m);
    void close(Conn* c);
    void poll(int64_t timeout_us);      // one round of events (queued datagrams first)
    void free_closed();
    void flush_udp();                   // send the queued datagrams (sendmmsg)
    void flush_all();                   // and write what the connections got

private:
    void accept_all();
    void read_udp();
    void on_conn(Conn* c, uint32_t events);
    bool drive_handshake(Conn* c);
    bool flush(Conn* c);
    bool read_stream(Conn* c);
    void watch(Conn* c, bool want_out, bool add);
};

// --- roles (uac.cpp, uas.cpp) ---
int run_uac(Options& o);
int run_uas(Options& o);
void print_summary(const Options& o, const Stats& st, const std::string& extra);
extern volatile int g_stop;

}  // namespace sipload
