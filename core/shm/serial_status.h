#pragma once
// The live state of one serial bridge in shared memory: the device (open or
// not, since when, bytes each way, reopens, bytes it could not take) and each
// connected client or link (address, TLS version / cipher / peer subject,
// bytes each way, connected since) — what an ezTCP status page shows, read by
// serial.list. Placed by main before fork, sized by the block's max_clients
// and connect= count; written only by the bridge process that owns it.
//
// Counters are relaxed atomics (single writer: load + store). The text of a
// peer changes only when it comes or goes, under a sequence number that is
// odd while it changes; a reader copies and retries until it reads one even
// value on both sides.

#include "shm/shm.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

struct SerialPeerView {
    uint32_t conn = 0;
    bool outgoing = false;     // a connect= link, not a client
    bool tls = false;
    int64_t since_ms = 0;      // wall clock (ms since the epoch)
    std::string addr;          // "192.0.2.7:50112"
    std::string tls_version, cipher, peer_subject;
    uint64_t rx = 0, tx = 0;   // network bytes from / to this peer
};

struct SerialStatusView {
    bool open = false;
    int64_t since_ms = 0;      // wall clock of the last open or close
    uint64_t rx = 0;           // bytes read from the device
    uint64_t tx = 0;           // bytes written to the device
    uint64_t reopens = 0;      // successful opens after the first
    uint64_t dropped = 0;      // bytes for the device it could not take (its queue full, or closed)
    uint64_t link_dropped = 0; // device bytes a down link's connect_buffer could not keep
    // The line as the tty has it now (an RFC 2217 client may have changed it);
    // 0 until the device was first open.
    uint32_t baud = 0;
    int databits = 0, stopbits = 0;
    char parity = 0;           // N, E, O, M or S
    std::vector<SerialPeerView> peers;
};

class SerialStatus {
public:
    // Room for `peers` clients and links; nullptr when the mapping is full.
    // Main process, before fork.
    static SerialStatus* create(Shm& shm, uint32_t peers);
    static size_t bytes_needed(uint32_t peers);

    // ---- the owning bridge process only ----
    void device_open(bool open, int64_t wall_ms);
    void device_rx(uint64_t n) { add(rx_, n); }
    void device_tx(uint64_t n) { add(tx_, n); }
    void device_dropped(uint64_t n) { add(dropped_, n); }
    void link_dropped(uint64_t n) { add(link_dropped_, n); }
    void line(uint32_t baud, int databits, char parity, int stopbits)
    {
        baud_.store(baud, std::memory_order_relaxed);
        line_.store(static_cast<uint32_t>(databits) | static_cast<uint32_t>(stopbits) << 8 |
                        static_cast<uint32_t>(static_cast<unsigned char>(parity)) << 16,
                    std::memory_order_relaxed);
    }
    // A slot for a new peer, or -1 when all are taken (it is then not listed).
    int attach(uint32_t conn, bool outgoing, std::string_view addr, int64_t wall_ms);
    void set_tls(int slot, std::string_view version, std::string_view cipher, std::string_view subject);
    void peer_rx(int slot, uint64_t n);
    void peer_tx(int slot, uint64_t n);
    void detach(int slot);

    // ---- anyone ----
    SerialStatusView read() const;
    uint32_t capacity() const { return peers_n_; }

private:
    struct Peer {
        std::atomic<uint32_t> seq;
        std::atomic<uint32_t> conn;    // 0: free
        std::atomic<int64_t> since_ms;
        std::atomic<uint64_t> rx, tx;
        bool outgoing, tls;
        char addr[64];
        char tls_version[16];
        char cipher[64];
        char subject[256];
    };
    static void add(std::atomic<uint64_t>& c, uint64_t n)
    {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    Peer* peer(int slot) { return slot >= 0 && static_cast<uint32_t>(slot) < peers_n_ ? &peers_[slot] : nullptr; }

    std::atomic<uint32_t> open_;
    std::atomic<int64_t> since_ms_;
    std::atomic<uint64_t> rx_, tx_, reopens_, dropped_, link_dropped_, opens_;
    std::atomic<uint32_t> baud_, line_;   // line_: data bits, stop bits << 8, parity << 16
    uint32_t peers_n_ = 0;
    Peer* peers_ = nullptr;
};

}  // namespace ser
