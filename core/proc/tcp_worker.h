#pragma once
// A TCP/TLS worker process: the connection loop (core/io/conn_loop.h) with
// the SIP framer, the worker's channel (messages other processes hand it) and
// the shared connection table (what other processes see of its connections).

#include "io/conn_loop.h"
#include "proc/runtime.h"
#include "proc/worker_sender.h"

#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ser {

// Called for every framed message; `conn` is the connection it came on.
using StreamHandler = std::function<void(std::string_view msg, const RecvInfo& ri, StreamConn& conn)>;

class TcpWorker final : public StreamOwner, public LoopHost {
public:
    // Counts into `stats`, the slot of this worker process.
    TcpWorker(Runtime& rt, int index, StatsSlot stats);
    ~TcpWorker() override;
    void set_handler(StreamHandler h) { handler_ = std::move(h); }
    // Runs the event loop until `stop` becomes non-zero; reloads the
    // transports' certificates when `hup` is set (and clears it). Returns an exit code.
    int run(const volatile sig_atomic_t& stop, volatile sig_atomic_t& hup);

    int worker_index() const override { return index_; }
    // The event loop, for what else the worker's process watches (DNS).
    ConnLoop& loop() { return *loop_; }
    // Queues data on t.conn_id, or on this worker's connection to t.dst (the
    // connection table decides which one may be reused), or on a new
    // connection that leaves from t.from.
    bool send_local(const SendTarget& t, std::string_view data) override;

private:
    // LoopHost: the connection table and the route engine's view.
    uint32_t admit(const StreamConn& c) override;
    bool proxied(StreamConn& c) override;
    // Counts and logs (flood-limited) a connection over tcp_max_conns_per_ip.
    void refuse_per_ip(const StreamConn& c);
    void established(StreamConn& c) override;
    void frame(StreamConn& c, std::string_view f) override;
    void publish(StreamConn& c) override;
    void closed(StreamConn& c, CloseReason why) override;

    void on_channel();
    // A connection opened with alternates failed to connect: its queued
    // bytes go to the next address (from the loop's tick, not inside close).
    void fail_over(StreamConn& c, CloseReason why);
    void run_fail_overs();
    void reload();
    const ListenAddr* source_for(const SendTarget& t) const;
    RecvInfo recv_info(const StreamConn& c) const;

    Runtime& rt_;
    int index_;
    StatsSlot stats_;
    std::unique_ptr<Framer> framer_;
    std::unique_ptr<ConnLoop> loop_;   // destroyed first: it tells closed() about every connection
    StreamHandler handler_;
    std::vector<char> chan_buf_;   // one channel datagram; sized by chan_max_bytes()
    std::unordered_map<uint32_t, SendTarget> alternates_;   // connecting, by conn id: where else to go
    std::vector<std::pair<SendTarget, std::string>> fail_overs_;   // due at the next tick
};

// The loop limits of a TCP worker, from the configuration.
LoopLimits tcp_loop_limits(const Config& cfg);

}  // namespace ser
