#pragma once
// The Sender every worker process gives its Proxy: UDP leaves from our UDP
// socket at once; a stream message goes to the TCP worker that owns the
// connection — directly when that is this process, else over its channel.

#include "io/msg_io.h"
#include "io/channel.h"

#include <unordered_map>
#include <string>

#include "proc/runtime.h"

namespace ser {

// Implemented by the TCP worker: sends on (or opens) a connection it owns.
class StreamOwner {
public:
    virtual ~StreamOwner() = default;
    virtual int worker_index() const = 0;
    // Queues `data` on connection t.conn_id, or on a connection to t.dst
    // (found or opened). False when it cannot.
    virtual bool send_local(const SendTarget& t, std::string_view data) = 0;
};

class WorkerSender final : public Sender {
public:
    // `self` is the calling TCP worker, or nullptr in other processes;
    // `stats` is the calling process's slot (UDP sends and refusals count there).
    WorkerSender(Runtime& rt, StreamOwner* self, StatsSlot stats) : rt_(rt), self_(self), stats_(stats) {}
    bool send(const SendTarget& t, std::string_view data) override;
    const ListenAddr* pick_listener(Proto p, const SockAddr& dst) const override;
    const std::vector<ListenAddr>& listeners() const override { return rt_.listen_addrs; }

private:
    bool send_udp(const SendTarget& t, std::string_view data);
    bool send_stream(const SendTarget& t, std::string_view data);
    bool hand_to(int worker, ChanKind kind, const SendTarget& t, uint32_t conn_id, std::string_view data);
    bool refused(SendError why)
    {
        stats_.count(why);
        return false;
    }
    Runtime& rt_;
    StreamOwner* self_;
    StatsSlot stats_;
    // Source address the kernel picks for a destination IP (bounded cache).
    mutable std::unordered_map<std::string, SockAddr> source_of_;
};

}  // namespace ser
