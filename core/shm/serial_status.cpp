// A serial bridge's live state in shared memory (see serial_status.h).
#include "shm/serial_status.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace ser {
namespace {

template <size_t N>
void put(char (&dst)[N], std::string_view s)
{
    size_t n = std::min(s.size(), N - 1);
    std::memcpy(dst, s.data(), n);
    dst[n] = '\0';
}

constexpr auto R = std::memory_order_relaxed;

}  // namespace

size_t SerialStatus::bytes_needed(uint32_t peers)
{
    return sizeof(SerialStatus) + alignof(Peer) + sizeof(Peer) * peers;
}

SerialStatus* SerialStatus::create(Shm& shm, uint32_t peers)
{
    auto* s = shm.alloc<SerialStatus>();
    auto* p = peers ? shm.alloc<Peer>(peers) : nullptr;
    if (!s || (peers && !p))
        return nullptr;
    // Zeroed storage: every atomic starts at 0, every slot free.
    s->peers_n_ = peers;
    s->peers_ = p;
    return s;
}

void SerialStatus::device_open(bool open, int64_t wall_ms)
{
    if (open) {
        if (opens_.load(R) > 0)
            add(reopens_, 1);
        add(opens_, 1);
    }
    open_.store(open ? 1 : 0, R);
    since_ms_.store(wall_ms, R);
}

int SerialStatus::attach(uint32_t conn, bool outgoing, std::string_view addr, int64_t wall_ms)
{
    for (uint32_t i = 0; i < peers_n_; i++) {
        Peer& p = peers_[i];
        if (p.conn.load(R) != 0)
            continue;
        uint32_t s = p.seq.load(R);
        p.seq.store(s + 1, std::memory_order_release);   // odd: changing
        std::atomic_thread_fence(std::memory_order_release);
        p.outgoing = outgoing;
        p.tls = false;
        put(p.addr, addr);
        p.tls_version[0] = p.cipher[0] = p.subject[0] = '\0';
        p.rx.store(0, R);
        p.tx.store(0, R);
        p.since_ms.store(wall_ms, R);
        p.conn.store(conn, R);
        p.seq.store(s + 2, std::memory_order_release);
        return static_cast<int>(i);
    }
    return -1;
}

void SerialStatus::set_tls(int slot, std::string_view version, std::string_view cipher, std::string_view subject)
{
    Peer* p = peer(slot);
    if (!p)
        return;
    uint32_t s = p->seq.load(R);
    p->seq.store(s + 1, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_release);
    p->tls = true;
    put(p->tls_version, version);
    put(p->cipher, cipher);
    put(p->subject, subject);
    p->seq.store(s + 2, std::memory_order_release);
}

void SerialStatus::peer_rx(int slot, uint64_t n)
{
    if (Peer* p = peer(slot))
        add(p->rx, n);
}

void SerialStatus::peer_tx(int slot, uint64_t n)
{
    if (Peer* p = peer(slot))
        add(p->tx, n);
}

void SerialStatus::detach(int slot)
{
    if (Peer* p = peer(slot))
        p->conn.store(0, std::memory_order_release);
}

SerialStatusView SerialStatus::read() const
{
    SerialStatusView v;
    v.open = open_.load(R) != 0;
    v.since_ms = since_ms_.load(R);
    v.rx = rx_.load(R);
    v.tx = tx_.load(R);
    v.reopens = reopens_.load(R);
    v.dropped = dropped_.load(R);
    v.link_dropped = link_dropped_.load(R);
    v.baud = baud_.load(R);
    uint32_t l = line_.load(R);
    v.databits = static_cast<int>(l & 0xff);
    v.stopbits = static_cast<int>((l >> 8) & 0xff);
    v.parity = static_cast<char>((l >> 16) & 0xff);
    for (uint32_t i = 0; i < peers_n_; i++) {
        const Peer& p = peers_[i];
        // A peer whose text is changing under us is read again; the writer
        // holds it odd for a few stores, so a handful of tries is plenty.
        for (int tries = 0; tries < 100; tries++) {
            uint32_t s1 = p.seq.load(std::memory_order_acquire);
            if (s1 & 1)
                continue;
            SerialPeerView pv;
            pv.conn = p.conn.load(R);
            if (pv.conn == 0)
                break;
            pv.outgoing = p.outgoing;
            pv.tls = p.tls;
            pv.since_ms = p.since_ms.load(R);
            pv.addr = std::string(p.addr, strnlen(p.addr, sizeof p.addr));
            pv.tls_version = std::string(p.tls_version, strnlen(p.tls_version, sizeof p.tls_version));
            pv.cipher = std::string(p.cipher, strnlen(p.cipher, sizeof p.cipher));
            pv.peer_subject = std::string(p.subject, strnlen(p.subject, sizeof p.subject));
            pv.rx = p.rx.load(R);
            pv.tx = p.tx.load(R);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (p.seq.load(R) == s1) {
                v.peers.push_back(std::move(pv));
                break;
            }
        }
    }
    return v;
}

}  // namespace ser
