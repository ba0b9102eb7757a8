#include "shm/stats.h"

#include <new>

namespace ser {
namespace {

// Processes read each other's counters through shared memory: only a
// lock-free atomic has no hidden process-local lock.
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<uint64_t>) == sizeof(uint64_t));

// Slots are apart by a multiple of 128 bytes, not just 64: x86 prefetches
// cache lines in aligned pairs, so two processes writing either half of one
// pair would still pull it back and forth (folly pads to 128 for the same reason).
constexpr size_t kLine = 128;
constexpr size_t kPerLine = kLine / sizeof(uint64_t);
struct alignas(kLine) CacheLine {
    unsigned char bytes[kLine];
};

// Counters of a slot bound to no block: counted, never read.
std::atomic<uint64_t> g_sink[stats_layout::kFixed];
StatsSlot g_local;

size_t stride_for(uint32_t listeners)
{
    size_t n = stats_layout::kFixed + 2 * static_cast<size_t>(listeners);
    return (n + kPerLine - 1) / kPerLine * kPerLine;
}

template <typename E, size_t N>
std::string_view name_of(E e, const std::string_view (&names)[N])
{
    static_assert(N == static_cast<size_t>(E::Count));
    size_t i = static_cast<size_t>(e);
    return i < N ? names[i] : std::string_view("unknown");
}

constexpr std::string_view kStatNames[] = {"requests_in", "replies_in", "requests_forwarded", "replies_forwarded",
                                           "replied_locally", "parse_errors", "conns_accepted", "conns_opened",
                                           "tls_handshakes_ok", "tls_reloads", "tls_reload_failures",
                                           "dns_queued", "dns_queue_full", "dns_failures",
                                           "workers_stalled"};
constexpr std::string_view kDropNames[] = {"not_ours", "no_route", "script_drop", "send_failure", "malformed",
                                           "too_large"};
constexpr std::string_view kSendErrorNames[] = {"no_listener", "socket", "channel_full", "conn_gone", "stream"};
constexpr std::string_view kDiscardNames[] = {"after_body"};
constexpr std::string_view kRefuseNames[] = {"table_full", "fd_exhausted", "not_allowed", "client_limit",
                                             "proxy_not_allowed", "per_ip_limit"};
constexpr std::string_view kCloseNames[] = {"peer", "read_error", "write_error", "refused", "idle",
                                            "msg_read_timeout", "first_msg_timeout", "send_timeout",
                                            "write_queue_full", "connect_failed", "connect_timeout",
                                            "handshake_timeout", "too_large", "bad_frame", "shutdown", "operator", "done",
                                            "proxy_header_bad", "proxy_header_timeout"};
constexpr std::string_view kTlsFailNames[] = {"protocol", "bad_certificate", "peer_closed", "no_certificate",
                                              "unknown_ca", "expired", "revoked", "protocol_version",
                                              "no_shared_cipher", "not_tls", "timeout", "rate_limited",
                                              "peer_refused_ours", "crl_unusable"};

constexpr std::string_view kInvalidNames[] = {"start_line", "request_uri", "via", "from", "to", "call_id", "cseq",
                                              "cseq_method", "max_forwards", "content_length", "body", "duplicate",
                                              "bytes", "too_many"};

}  // namespace

std::string_view stat_name(Stat s) { return name_of(s, kStatNames); }
std::string_view stat_name(DropReason r) { return name_of(r, kDropNames); }
std::string_view stat_name(SendError e) { return name_of(e, kSendErrorNames); }
std::string_view stat_name(DiscardReason r) { return name_of(r, kDiscardNames); }
std::string_view stat_name(RefuseReason r) { return name_of(r, kRefuseNames); }
std::string_view stat_name(CloseReason r) { return name_of(r, kCloseNames); }
std::string_view stat_name(TlsFailReason r) { return name_of(r, kTlsFailNames); }
std::string_view stat_name(InvalidReason r) { return name_of(r, kInvalidNames); }

StatsSlot::StatsSlot() : v_(g_sink), listeners_(0) {}

uint64_t StatsSnapshot::dropped() const
{
    uint64_t n = 0;
    for (size_t i = 0; i < stats_layout::n<DropReason>(); i++)
        n += v[stats_layout::kDrop + i];
    return n;
}

size_t Stats::bytes_needed(uint32_t slots, uint32_t listeners)
{
    // The object, then counts and bases, each starting on a line pair.
    return sizeof(Stats) + 2 * (static_cast<size_t>(slots) * stride_for(listeners) * sizeof(uint64_t) + kLine);
}

Stats* Stats::create(Shm& shm, uint32_t slots, uint32_t listeners)
{
    size_t stride = stride_for(listeners);
    size_t lines = static_cast<size_t>(slots) * stride / kPerLine;
    auto* mem = shm.alloc<Stats>();
    auto* counts = shm.alloc<CacheLine>(lines);
    auto* bases = shm.alloc<CacheLine>(lines);
    if (!mem || !counts || !bases || slots == 0)
        return nullptr;
    auto* s = new (mem) Stats();
    s->reset_lock_.init();
    s->slots_ = slots;
    s->listeners_ = listeners;
    s->stride_ = stride;
    s->counts_ = reinterpret_cast<std::atomic<uint64_t>*>(counts);
    s->bases_ = reinterpret_cast<std::atomic<uint64_t>*>(bases);
    for (size_t i = 0; i < slots * stride; i++) {
        new (&s->counts_[i]) std::atomic<uint64_t>(0);
        new (&s->bases_[i]) std::atomic<uint64_t>(0);
    }
    return s;
}

std::optional<StatsSlot> Stats::slot(uint32_t i)
{
    if (i >= slots_)
        return std::nullopt;
    return StatsSlot(counts_ + static_cast<size_t>(i) * stride_, listeners_);
}

void Stats::add_slot(uint32_t i, StatsSnapshot& out) const
{
    const std::atomic<uint64_t>* c = counts_ + static_cast<size_t>(i) * stride_;
    const std::atomic<uint64_t>* b = bases_ + static_cast<size_t>(i) * stride_;
    for (size_t k = 0; k < out.v.size(); k++) {
        // The base first: reset() stored it from a count this load then
        // cannot precede (acquire), and a count only grows, so c >= b.
        uint64_t base = b[k].load(std::memory_order_acquire);
        uint64_t now = c[k].load(std::memory_order_relaxed);
        out.v[k] += now >= base ? now - base : 0;
    }
}

StatsSnapshot Stats::sum() const
{
    StatsSnapshot out{std::vector<uint64_t>(stats_layout::kFixed + 2 * static_cast<size_t>(listeners_)), listeners_};
    for (uint32_t i = 0; i < slots_; i++)
        add_slot(i, out);
    return out;
}

StatsSnapshot Stats::of_slot(uint32_t i) const
{
    StatsSnapshot out{std::vector<uint64_t>(stats_layout::kFixed + 2 * static_cast<size_t>(listeners_)), listeners_};
    if (i < slots_)
        add_slot(i, out);
    return out;
}

void Stats::reset()
{
    LockGuard g(reset_lock_);
    for (size_t k = 0; k < static_cast<size_t>(slots_) * stride_; k++)
        bases_[k].store(counts_[k].load(std::memory_order_relaxed), std::memory_order_release);
}

StatsSlot& Stats::local() { return g_local; }

void Stats::bind_local(StatsSlot s) { g_local = s; }

}  // namespace ser

namespace ser {
namespace {

template <typename E>
std::string group_line(const char* what, const StatsSnapshot& s)
{
    std::string line;
    for (size_t i = 0; i < static_cast<size_t>(E::Count); i++) {
        uint64_t v = s[static_cast<E>(i)];
        if (v)
            line += " " + std::string(stat_name(static_cast<E>(i))) + "=" + std::to_string(v);
    }
    return std::string("stats ") + what + ":" + (line.empty() ? " none" : line);
}

}  // namespace

std::vector<std::string> stats_log_lines(const StatsSnapshot& s)
{
    std::vector<std::string> out;
    std::string line = "stats:";
    for (size_t i = 0; i < static_cast<size_t>(Stat::Count); i++)
        line += " " + std::string(stat_name(static_cast<Stat>(i))) + "=" + std::to_string(s[static_cast<Stat>(i)]);
    out.push_back(line);
    out.push_back(group_line<DropReason>("dropped", s));
    out.push_back(group_line<SendError>("send errors", s));
    out.push_back(group_line<RefuseReason>("refused", s));
    out.push_back(group_line<CloseReason>("closed", s));
    out.push_back(group_line<TlsFailReason>("tls failures", s));
    for (bool answered : {true, false}) {
        line.clear();
        for (size_t i = 0; i < stats_layout::n<InvalidReason>(); i++) {
            auto r = static_cast<InvalidReason>(i);
            uint64_t v = answered ? s.invalid_answered(r) : s.invalid_dropped(r);
            if (v)
                line += " " + std::string(stat_name(r)) + "=" + std::to_string(v);
        }
        out.push_back(std::string(answered ? "stats invalid answered 400:" : "stats invalid dropped:") +
                      (line.empty() ? " none" : line));
    }
    line = "stats transports:";
    for (int p = 0; p < kProtoCount; p++) {
        auto pr = static_cast<Proto>(p);
        line += " " + std::string(proto_name(pr)) + " in=" + std::to_string(s.msgs_in(pr)) +
                " out=" + std::to_string(s.msgs_out(pr));
    }
    out.push_back(line);
    return out;
}

}  // namespace ser
