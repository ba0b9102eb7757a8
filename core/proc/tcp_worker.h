#pragma once
// A TCP/TLS worker process: one epoll loop that accepts on the stream
// listeners, owns every connection it accepts or opens for its whole life,
// frames SIP messages off them, and sends what it is handed over its channel.

#include "proc/runtime.h"
#include "io/stream_conn.h"
#include "proc/worker_sender.h"

#include <csignal>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace ser {

// Called for every framed message; `conn` is the connection it came on.
using StreamHandler = std::function<void(std::string_view msg, const RecvInfo& ri, StreamConn& conn)>;

class TcpWorker final : public StreamOwner {
public:
    TcpWorker(Runtime& rt, int index, StatsSlot stats);
    ~TcpWorker() override;
    void set_handler(StreamHandler h) { handler_ = std::move(h); }
    // Runs the event loop until `stop` becomes non-zero; reloads the
    // transports' certificates when `hup` is set (and clears it). Returns an exit code.
    int run(const volatile sig_atomic_t& stop, volatile sig_atomic_t& hup);

    int worker_index() const override { return index_; }
    bool send_local(const SendTarget& t, std::string_view data) override;

private:
    void on_accept(const StreamListener& l);
    void pause_accept(const StreamListener& l, int err);
    void resume_accept();
    void on_channel();
    void on_conn_event(StreamConn& c, uint32_t events);
    void on_connected(StreamConn& c);
    void read_conn(StreamConn& c);
    void frame_conn(StreamConn& c);
    bool queue(StreamConn& c, std::string_view data);
    void flush(StreamConn& c);
    void set_want_write(StreamConn& c, bool on);
    StreamConn* connect_to(const SendTarget& t);
    StreamConn* add_conn(int fd, Proto proto, const SockAddr& local, const SockAddr& remote, bool outgoing);
    void fail(StreamConn& c, CloseReason why, const char* fmt, ...) __attribute__((format(printf, 4, 5)));
    // Cuts a connection over tcp_msg_read_timeout / tcp_first_msg_timeout:
    // logs one line (what: a format with one %d, the seconds).
    void slow_peer(StreamConn& c, CloseReason reason, const char* what, int secs);
    void reap();
    void reload();
    void timers();
    RecvInfo recv_info(const StreamConn& c) const;

    Runtime& rt_;
    int index_;
    StatsSlot stats_;
    int ep_ = -1;
    StreamHandler handler_;
    std::unordered_map<uint32_t, std::unique_ptr<StreamConn>> conns_;
    std::vector<uint32_t> dead_;
    std::vector<char> chan_buf_;   // one channel datagram; sized by chan_max_bytes()
    int64_t last_timer_ms_ = 0;
    std::vector<size_t> paused_;      // listeners not polled after EMFILE & co
    int64_t accept_resume_ms_ = 0;
};

}  // namespace ser
