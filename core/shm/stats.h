#pragma once
// Statistics: one block in shared memory, placed by main before fork, with a
// slot of counters per process (main, every child, a few spare). A slot is
// written only by the process that owns it, with a relaxed load and store
// (no read-modify-write, no lock), on cache lines no other process writes:
// counting costs a few plain instructions on the message path. A reader sums
// the slots. A reset never writes a slot: it stores each slot's current
// counts as that slot's base, which readers subtract.

#include "proto.h"
#include "shm/shm.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

// Single counters.
enum class Stat : uint8_t {
    RequestsIn,         // requests that parsed
    RepliesIn,          // replies (responses) that parsed
    RequestsForwarded,  // requests handed to a transport, once per forward()
    RepliesForwarded,   // replies handed to a transport
    RepliedLocally,     // replies we made: the script's, after a failed forward, 400 to a malformed request
    ParseErrors,        // messages that did not parse; stream framing errors
    ConnsAccepted,      // stream connections accepted
    ConnsOpened,        // outgoing stream connections started
    TlsHandshakesOk,
    TlsReloads,         // TLS material (re)built and swapped in, once per process that loaded it
    TlsReloadFailures,  // a reload that kept the old material (bad or half-written file, expired, ...)
    DnsQueued,          // requests that waited for DNS answers before their forward
    DnsQueueFull,       // requests answered 503: dns_max_pending were already waiting
    DnsFailures,        // forwards to a name that did not resolve (answered 478)
    WorkersStalled,     // children main killed: no heartbeat for worker_stall_timeout (main's slot)
    Count
};

// Why a received message ended with nothing sent; each such message counts once.
enum class DropReason : uint8_t {
    NotOurs,      // a reply whose top Via is not ours
    NoRoute,      // a reply with no usable Via below ours; a request whose forward
                  // failed before sending and that gets no reply (an ACK)
    ScriptDrop,   // the script dropped it, or ended without forwarding or replying
    SendFailure,  // the forward or reply could not be handed to a transport (see SendError)
    Malformed,    // did not parse, and no 400 could be made (ACK, reply, no Call-ID, ...)
    TooLarge,     // a datagram over udp_max_msg_size
    Count
};

// Why a send was refused by the transports; a message may see two (its
// forward, then the error reply). The message itself is a DropReason.
enum class SendError : uint8_t {
    NoListener,   // no socket or worker for that transport and address family
    Socket,       // sendto() failed
    ChannelFull,  // the owning tcp worker's channel was full
    ConnGone,     // the connection (or its owner) is gone and no address is known
    Stream,       // the stream could not take it: connect failed, table full, write queue full
    Count
};

// Bytes received and never forwarded; counted as messages and as bytes.
enum class DiscardReason : uint8_t {
    AfterBody,    // past a datagram's Content-Length body (RFC 3261 §18.3)
    Count
};

// A stream connection we could not take or open.
enum class RefuseReason : uint8_t {
    TableFull,    // tcp_max_connections reached
    FdExhausted,  // accept() or socket() out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM)
    NotAllowed,   // a serial block's allow= list does not hold the source
    ClientLimit,  // a serial block's max_clients reached
    ProxyNotAllowed,  // a proxy_protocol listener: the source is not in proxy_protocol_from
    PerIpLimit,   // tcp_max_conns_per_ip reached for the client address
    Count
};

// Why a stream connection was closed.
enum class CloseReason : uint8_t {
    Peer,             // closed or reset by the peer
    ReadError,        // a read failed (a TLS failure: its reason is in the log line)
    WriteError,       // a write failed
    Refused,          // the transport refused the new connection
    Idle,             // tcp_connection_lifetime
    MsgReadTimeout,   // tcp_msg_read_timeout
    FirstMsgTimeout,  // tcp_first_msg_timeout
    SendTimeout,      // data could not leave within the send timeout
    WriteQueueFull,   // tcp_max_write_queue
    ConnectFailed,
    ConnectTimeout,   // tcp_connect_timeout
    HandshakeTimeout, // the transport's handshake deadline (TLS)
    TooLarge,         // a message over tcp_max_msg_size
    BadFrame,         // the framer could not cut the stream (not SIP)
    Shutdown,         // the process is stopping
    Operator,         // conn.close on the control socket
    Done,             // the host ended the exchange (an HTTP reply, a control error)
    ProxyHeaderBad,   // a proxy_protocol listener: no valid PROXY header (missing, malformed, too long)
    ProxyHeaderTimeout,  // its PROXY header not complete within tcp_first_msg_timeout
    Count
};

// Why a TLS handshake failed. Peer faults are logged at info, local ones
// (the peer refused our certificate, our CRL is unusable) at error.
enum class TlsFailReason : uint8_t {
    Protocol,         // any other handshake failure
    BadCertificate,   // the peer's certificate did not verify for another reason (name, signature, purpose)
    PeerClosed,       // the peer went away during the handshake
    NoCertificate,    // tls_require_certificate and the client sent none
    UnknownCa,        // the peer's certificate is from a CA not in tls_ca_list (or self-signed)
    Expired,          // the peer's certificate expired or is not yet valid
    Revoked,          // the peer's certificate is in tls_crl
    ProtocolVersion,  // no TLS version both sides allow
    NoSharedCipher,   // no cipher suite, group or signature algorithm both sides allow
    NotTls,           // the first bytes were not a TLS record (plain SIP, HTTP, a scanner)
    Timeout,          // not done within tls_handshake_timeout
    RateLimited,      // refused by tls_handshake_rate before any byte was read
    PeerRefusedOurs,  // local: the peer refused our certificate (its alert: unknown CA, bad, expired)
    CrlUnusable,      // local: tls_crl is past its next update (tls_crl_expired=refuse) or missing for the issuer
    Count
};

// The defect of a received message that did not parse (RFC 4475 §3.1.2), for
// the counts of those answered with a 400 and of those dropped (a response,
// an ACK, no usable Via or Call-ID, reply_to_invalid=no); each counts once.
enum class InvalidReason : uint8_t {
    StartLine,      // request or status line, method, SIP version
    RequestUri,     // a Request-URI that is no URI, or one with headers
    Via,            // missing, or not SIP/2.0/transport sent-by;params
    From,           // missing or bad
    To,
    CallId,
    CSeq,           // missing, not a number below 2**31, or no method
    CSeqMethod,     // CSeq method differs from the request method
    MaxForwards,    // not a number 0..255
    ContentLength,  // not digits, or over the maximum message size
    Body,           // shorter than Content-Length
    Duplicate,      // a header allowed once, or two Content-Lengths that differ
    Bytes,          // NUL, bare CR, a line with no header name or colon, truncated headers
    TooMany,        // too many headers or Via values
    Count
};

// The counters as a few log lines (SIGUSR1): every single counter, then each
// reason group and the transports with their non-zero counts only.
std::vector<std::string> stats_log_lines(const struct StatsSnapshot& s);

// Names for the metrics text: "requests_in", "not_ours", ...
std::string_view stat_name(Stat s);
std::string_view stat_name(DropReason r);
std::string_view stat_name(SendError e);
std::string_view stat_name(DiscardReason r);
std::string_view stat_name(RefuseReason r);
std::string_view stat_name(CloseReason r);
std::string_view stat_name(TlsFailReason r);
std::string_view stat_name(InvalidReason r);

// Where each counter sits in a slot: the fixed counters, then two (in, out)
// per listener.
namespace stats_layout {
template <typename E>
constexpr size_t n() { return static_cast<size_t>(E::Count); }
inline constexpr size_t kStat = 0;
inline constexpr size_t kDrop = kStat + n<Stat>();
inline constexpr size_t kSendError = kDrop + n<DropReason>();
inline constexpr size_t kDiscardMsgs = kSendError + n<SendError>();
inline constexpr size_t kDiscardBytes = kDiscardMsgs + n<DiscardReason>();
inline constexpr size_t kRefuse = kDiscardBytes + n<DiscardReason>();
inline constexpr size_t kClose = kRefuse + n<RefuseReason>();
inline constexpr size_t kTlsFail = kClose + n<CloseReason>();
inline constexpr size_t kInvalidAnswered = kTlsFail + n<TlsFailReason>();
inline constexpr size_t kInvalidDropped = kInvalidAnswered + n<InvalidReason>();
inline constexpr size_t kProtoIn = kInvalidDropped + n<InvalidReason>();
inline constexpr size_t kProtoOut = kProtoIn + kProtoCount;
inline constexpr size_t kFixed = kProtoOut + kProtoCount;
inline constexpr size_t listener_in(size_t l) { return kFixed + 2 * l; }
inline constexpr size_t listener_out(size_t l) { return kFixed + 2 * l + 1; }
constexpr size_t at(Stat s) { return kStat + static_cast<size_t>(s); }
constexpr size_t at(DropReason r) { return kDrop + static_cast<size_t>(r); }
constexpr size_t at(SendError e) { return kSendError + static_cast<size_t>(e); }
constexpr size_t at(RefuseReason r) { return kRefuse + static_cast<size_t>(r); }
constexpr size_t at(CloseReason r) { return kClose + static_cast<size_t>(r); }
constexpr size_t at(TlsFailReason r) { return kTlsFail + static_cast<size_t>(r); }
}  // namespace stats_layout

// One process's counters: a handle (pointer and size) onto its slot, cheap
// to copy. Only the owning process may count through it. A default-made
// slot counts into a process-local sink that no reader sees.
class StatsSlot {
public:
    StatsSlot();

    template <typename E>
    void count(E e, uint64_t n = 1) { add(stats_layout::at(e), n); }
    void discarded(DiscardReason r, uint64_t bytes)
    {
        add(stats_layout::kDiscardMsgs + static_cast<size_t>(r), 1);
        add(stats_layout::kDiscardBytes + static_cast<size_t>(r), bytes);
    }
    // A message that did not parse, for its defect: answered with a 400 or dropped.
    void invalid(InvalidReason r, bool answered)
    {
        add((answered ? stats_layout::kInvalidAnswered : stats_layout::kInvalidDropped) + static_cast<size_t>(r), 1);
    }
    // A SIP message in or out over `p` on listener `listener` (an index into
    // Runtime::listen_addrs; -1 or out of range: none, the transport counts alone).
    void msg_in(Proto p, int listener) { msg(stats_layout::kProtoIn, p, listener, 0); }
    void msg_out(Proto p, int listener) { msg(stats_layout::kProtoOut, p, listener, 1); }

private:
    friend class Stats;
    StatsSlot(std::atomic<uint64_t>* v, uint32_t listeners) : v_(v), listeners_(listeners) {}
    // Owner-only: no other process writes this counter, so load + store is
    // exact, and unlike fetch_add it needs no locked instruction.
    void add(size_t i, uint64_t n)
    {
        v_[i].store(v_[i].load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void msg(size_t base, Proto p, int listener, size_t dir)
    {
        add(base + static_cast<size_t>(p), 1);
        if (listener >= 0 && static_cast<uint32_t>(listener) < listeners_)
            add(stats_layout::kFixed + 2 * static_cast<size_t>(listener) + dir, 1);
    }

    std::atomic<uint64_t>* v_;
    uint32_t listeners_;
};

// What a reader sees: counts since the last reset, summed over slots (or of
// one slot). Counters are read one by one while owners count: each is exact,
// two of them are not taken at one instant.
struct StatsSnapshot {
    std::vector<uint64_t> v;   // stats_layout order
    uint32_t listeners = 0;

    template <typename E>
    uint64_t operator[](E e) const { return v[stats_layout::at(e)]; }
    uint64_t discarded_msgs(DiscardReason r) const { return v[stats_layout::kDiscardMsgs + static_cast<size_t>(r)]; }
    uint64_t discarded_bytes(DiscardReason r) const { return v[stats_layout::kDiscardBytes + static_cast<size_t>(r)]; }
    uint64_t invalid_answered(InvalidReason r) const
    {
        return v[stats_layout::kInvalidAnswered + static_cast<size_t>(r)];
    }
    uint64_t invalid_dropped(InvalidReason r) const { return v[stats_layout::kInvalidDropped + static_cast<size_t>(r)]; }
    uint64_t msgs_in(Proto p) const { return v[stats_layout::kProtoIn + static_cast<size_t>(p)]; }
    uint64_t msgs_out(Proto p) const { return v[stats_layout::kProtoOut + static_cast<size_t>(p)]; }
    // 0 for a listener index out of range.
    uint64_t listener_in(size_t l) const { return l < listeners ? v[stats_layout::listener_in(l)] : 0; }
    uint64_t listener_out(size_t l) const { return l < listeners ? v[stats_layout::listener_out(l)] : 0; }
    // Every received message that ended with nothing sent, all reasons.
    uint64_t dropped() const;
};

class Stats {
public:
    // Places a block of `slots` slots for `listeners` listeners in `shm`;
    // nullptr when it does not fit. Main process, before fork.
    static Stats* create(Shm& shm, uint32_t slots, uint32_t listeners);
    // Bytes of shared memory such a block needs.
    static size_t bytes_needed(uint32_t slots, uint32_t listeners);

    // The slot of process `i` (0 is main; the children follow, see
    // ChildSpec::stats_slot). nullopt when i is out of range: nothing is
    // written for it. Called by the process that will own the slot.
    std::optional<StatsSlot> slot(uint32_t i);
    uint32_t slots() const { return slots_; }
    uint32_t listeners() const { return listeners_; }

    // Counts since the last reset, summed over every slot. Any process.
    StatsSnapshot sum() const;
    // Counts of slot `i` since the last reset; all zero when out of range.
    StatsSnapshot of_slot(uint32_t i) const;
    // Starts every count again from zero for readers: stores each slot's
    // current counts as its base. Owners keep counting undisturbed and no
    // count is lost (each is either in the base or after it). Any process;
    // resets are serialised by a lock that counting never takes.
    void reset();

    // The calling process's slot, for code the object graph does not reach
    // (the TLS transport is made before fork); everything that can be handed
    // its slot is handed it. Main binds slot 0 (Runtime::setup), each child
    // its own first thing after fork (run_child); never bound (tests): a sink.
    static StatsSlot& local();
    static void bind_local(StatsSlot s);

private:
    void add_slot(uint32_t i, StatsSnapshot& out) const;

    RobustMutex reset_lock_;
    uint32_t slots_ = 0;
    uint32_t listeners_ = 0;
    size_t stride_ = 0;                    // counters per slot, a whole number of cache line pairs
    std::atomic<uint64_t>* counts_ = nullptr;
    std::atomic<uint64_t>* bases_ = nullptr;   // written by reset() only, apart from the counts
};

}  // namespace ser
