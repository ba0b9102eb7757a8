// The serial bridge (see serial_bridge.h).
#include "serial/serial_bridge.h"

#include "clock.h"
#include "io/conn_loop.h"
#include "io/transport.h"
#include "log.h"
#include "proc/role.h"
#include "proc/runtime.h"
#include "serial/device_port.h"
#include "serial/rfc2217.h"
#include "serial/serial_device.h"
#include "serial/serial_framers.h"
#include "shm/stats.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ser::serial {
namespace {

// Bytes from clients waiting for the device. At this mark every client is
// held (not read: TCP flow control stops it) until the device has taken half;
// nothing a client sends is dropped while the device is there.
constexpr size_t kDeviceQueue = 64 * 1024;
constexpr int64_t kRedialMinMs = 500, kRedialMaxMs = 30000;
// ser2sock's status lines, byte for byte: its clients (AlarmDecoder, ...) match them.
constexpr std::string_view kSer2sockHello = "!SER2SOCK Connected\r\n";
constexpr std::string_view kSer2sockUp = "!SER2SOCK SERIAL_CONNECTED\r\n";
constexpr std::string_view kSer2sockDown = "!SER2SOCK SERIAL_DISCONNECTED\r\n";
// The device went away: ser2sock first ends a device line it may have cut short.
constexpr std::string_view kSer2sockLost = "\r\n!SER2SOCK SERIAL_DISCONNECTED\r\n";
// ser2sock -t: "!", telnet IAC DO LINEMODE, CRLF, before the banner.
constexpr std::string_view kTerminalInit = "!\377\375\042\r\n";
#ifndef SER_VERSION
#define SER_VERSION "dev"
#endif

// One connect= of the block: the link we dial and keep up.
struct Link {
    const SerialEndpointCfg* cfg = nullptr;
    SockAddr dst;
    uint32_t conn = 0;            // 0 while down
    int64_t redial_at = 0;
    int64_t backoff = kRedialMinMs;
    std::string pending;          // device bytes while down, oldest dropped beyond connect_buffer
    uint64_t dropped = 0;
};

class Bridge final : public LoopHost {
public:
    Bridge(Runtime& rt, const SerialCfg& cfg, const std::vector<int>& listen_fds, StatsSlot stats,
           SerialStatus& status)
        : cfg_(cfg), stats_(stats), status_(status)
    {
        if (cfg.framing == Framing::Line)
            framer_ = std::make_unique<LineFramer>();
        else
            framer_ = std::make_unique<RawFramer>();
        LoopLimits lim;
        lim.read_buffer = kMaxLine + 64;
        lim.max_write_queue = static_cast<size_t>(cfg.client_queue);
        lim.send_timeout_s = rt.cfg->tcp_send_timeout;
        lim.idle_timeout_s = 365 * 24 * 3600;        // a quiet device is no reason to drop its clients
        lim.msg_read_timeout_s = 365 * 24 * 3600;    // bytes, not messages: nothing is ever "incomplete"
        lim.first_msg_timeout_s = 365 * 24 * 3600;
        loop_ = std::make_unique<ConnLoop>(lim, *this, stats);
        for (size_t i = 0; i < cfg.listens.size() && i < listen_fds.size(); i++) {
            const SerialEndpointCfg& e = cfg.listens[i];
            Transport* x = find_transport(e.tls ? Proto::Tls : Proto::Tcp);
            if (!x) {
                LOG_ERR("serial %s: no %s transport: not listening on %s:%u", cfg.device.c_str(),
                        std::string(e.net_name()).c_str(), e.addr.c_str(), e.port);
                continue;
            }
            loop_->add_listener(listen_fds[i], *x, *framer_, nullptr);
        }
        for (const SerialEndpointCfg& e : cfg.connects) {
            Link l;
            l.cfg = &e;
            if (auto a = SockAddr::from_numeric(e.addr, e.port))
                l.dst = *a;
            links_.push_back(std::move(l));
        }
        loop_->set_tick([this] { tick(); });
        open_device();
        for (Link& l : links_)
            dial(l);
    }

    ~Bridge() override
    {
        loop_.reset();
        close_device(false);
    }

    int run(const volatile sig_atomic_t& stop, volatile sig_atomic_t& hup)
    {
        return loop_->run(stop, hup, [] { reload_transports(); });
    }

    uint32_t admit(const StreamConn& c) override
    {
        if (c.outgoing) {
            stats_.count(Stat::ConnsOpened);
            return listed(c, next_id_++);
        }
        // allow= before anything else, TLS included: the loop has not
        // asked the transport to start a handshake yet.
        if (!allowed(c.remote)) {
            stats_.count(RefuseReason::NotAllowed);
            LOG_NOTICE("serial %s: refusing %s: not in the allow= list", cfg_.device.c_str(),
                       c.remote.str().c_str());
            return 0;
        }
        if (clients_ >= static_cast<size_t>(cfg_.max_clients)) {
            stats_.count(RefuseReason::ClientLimit);
            LOG_NOTICE("serial %s: refusing %s: max_clients=%d reached", cfg_.device.c_str(), c.remote.str().c_str(),
                       cfg_.max_clients);
            return 0;
        }
        clients_++;
        stats_.count(Stat::ConnsAccepted);
        return listed(c, next_id_++);
    }
    void established(StreamConn& c) override
    {
        if (const TlsFacts* f = c.xprt->describe(c))
            status_.set_tls(slot_of(c.id), f->version, f->cipher, f->peer_subject);
        if (held_)
            loop_->hold(c, true);   // joins the others until the device drains
        if (Link* l = link_of(c.id)) {
            l->backoff = kRedialMinMs;
            LOG_NOTICE("serial %s: connected to %s:%u", cfg_.device.c_str(), l->cfg->host.c_str(), l->cfg->port);
            if (l->dropped)
                LOG_WARN("serial %s: %llu device bytes for %s:%u were dropped while the link was down",
                         cfg_.device.c_str(), static_cast<unsigned long long>(l->dropped), l->cfg->host.c_str(),
                         l->cfg->port);
            l->dropped = 0;
            if (!l->pending.empty())
                send_to(c, l->pending);
            l->pending.clear();
            return;
        }
        LOG_INFO("serial %s: client %u from %s connected (%zu now)", cfg_.device.c_str(), c.id,
                 c.remote.str().c_str(), clients_);
        if (cfg_.rfc2217)
            start_telnet(c);
        if (cfg_.terminal_init)
            send_to(c, kTerminalInit);
        if (cfg_.banner == Banner::Ser2sock) {   // as ser2sock: the hello, then where the device stands
            send_to(c, kSer2sockHello);
            send_to(c, fd_ >= 0 ? kSer2sockUp : kSer2sockDown);
        }
    }
    void frame(StreamConn& c, std::string_view f) override
    {
        status_.peer_rx(slot_of(c.id), f.size());
        auto t = telnet_.find(c.id);
        if (t == telnet_.end()) {
            to_device(f);
            return;
        }
        Rfc2217Session::Out out;
        t->second->input(f, out);
        if (!out.device.empty())
            to_device(out.device);
        if (!out.reply.empty())
            send_to(c, out.reply);
        line_changed_ = line_changed_ || t->second->changed_line();
    }
    void publish(StreamConn&) override {}
    void closed(StreamConn& c, CloseReason) override
    {
        if (auto it = slots_.find(c.id); it != slots_.end()) {
            status_.detach(it->second);
            slots_.erase(it);
        }
        if (Link* l = link_of(c.id)) {
            l->conn = 0;
            l->redial_at = now_ms() + l->backoff;
            loop_->wake_at(l->redial_at);
            LOG_NOTICE("serial %s: link to %s:%u down; redialling in %lld ms", cfg_.device.c_str(),
                       l->cfg->host.c_str(), l->cfg->port, static_cast<long long>(l->backoff));
            l->backoff = std::min(l->backoff * 2, kRedialMaxMs);
            return;
        }
        clients_--;
        end_telnet(c.id);
        LOG_INFO("serial %s: client %u from %s gone (%zu left)", cfg_.device.c_str(), c.id, c.remote.str().c_str(),
                 clients_);
    }

private:
    // Lists a peer in the shared status (a full table only leaves it unlisted).
    uint32_t listed(const StreamConn& c, uint32_t id)
    {
        int slot = status_.attach(id, c.outgoing, c.remote.str(), wall_ms());
        if (slot >= 0)
            slots_[id] = slot;
        return id;
    }
    int slot_of(uint32_t id) const
    {
        auto it = slots_.find(id);
        return it == slots_.end() ? -1 : it->second;
    }
    // Sends to one peer and counts it there.
    void send_to(StreamConn& c, std::string_view data)
    {
        status_.peer_tx(slot_of(c.id), data.size());
        loop_->send(c, data);
    }

    bool allowed(const SockAddr& a) const
    {
        if (cfg_.allow.empty())
            return true;
        for (const Cidr& c : cfg_.allow)
            if (c.contains(a))
                return true;
        return false;
    }

    // A status line for every client (ser2sock's banner), never for links.
    void tell_clients(std::string_view line)
    {
        if (cfg_.banner != Banner::Ser2sock)
            return;
        loop_->for_each([&](StreamConn& c) {
            if (!c.outgoing && c.established)
                send_to(c, line);
        });
    }

    Link* link_of(uint32_t id)
    {
        for (Link& l : links_)
            if (l.conn == id && id != 0)
                return &l;
        return nullptr;
    }

    void dial(Link& l)
    {
        Transport* x = find_transport(l.cfg->tls ? Proto::Tls : Proto::Tcp);
        StreamConn* c = x && l.dst.family() ? loop_->connect(l.dst, nullptr, *x, *framer_, l.cfg->host) : nullptr;
        if (c) {
            l.conn = c->id;
            return;
        }
        l.redial_at = now_ms() + l.backoff;
        loop_->wake_at(l.redial_at);
        l.backoff = std::min(l.backoff * 2, kRedialMaxMs);
    }

    // Device bytes for a link that is down: kept up to connect_buffer, oldest first out.
    void keep(Link& l, std::string_view data)
    {
        size_t max = static_cast<size_t>(cfg_.connect_buffer);
        l.pending.append(data);
        if (l.pending.size() > max) {
            size_t cut = l.pending.size() - max;
            l.pending.erase(0, cut);
            l.dropped += cut;
            status_.link_dropped(cut);
        }
    }

    void open_device()
    {
        std::string err;
        int fd = serial::open_device(cfg_, err);
        if (fd < 0) {
            if (err != last_err_)
                LOG_ERR("serial %s: %s; retrying every %d ms", cfg_.device.c_str(), err.c_str(), cfg_.reopen_delay);
            last_err_ = err;
            reopen_at_ = now_ms() + cfg_.reopen_delay;
            loop_->wake_at(reopen_at_);
            return;
        }
        fd_ = fd;
        absent_dropped_ = 0;
        last_err_.clear();
        status_.device_open(true, wall_ms());
        publish_line();
        loop_->watch(fd_, [this] {
            from_device();
            flush_device();
        });
        LOG_NOTICE("serial %s: open (%d baud, %d data bits, %d stop bits)", cfg_.device.c_str(), cfg_.baudrate,
                   cfg_.databits, cfg_.stopbits);
        tell_clients(kSer2sockUp);
        if (!cfg_.init_string.empty())
            to_device(cfg_.init_string);
    }

    void close_device(bool retry)
    {
        if (fd_ < 0)
            return;
        if (loop_)
            loop_->unwatch(fd_);
        ::close(fd_);
        fd_ = -1;
        status_.device_dropped(dev_out_.size());
        status_.device_open(false, wall_ms());
        dev_out_.clear();
        dev_writable_wait_ = false;
        if (!retry)
            return;
        reopen_at_ = now_ms() + cfg_.reopen_delay;
        if (loop_) {
            loop_->wake_at(reopen_at_);
            if (held_)
                hold_clients(false);   // what they send now finds no device (and is counted)
            tell_clients(kSer2sockLost);
        }
        if (!cfg_.keep_clients && loop_)
            loop_->for_each([&](StreamConn& c) {
                if (!c.outgoing)
                    loop_->close(c, CloseReason::Peer, "serial device %s went away", cfg_.device.c_str());
            });
    }

    void from_device()
    {
        char buf[16384];
        for (int i = 0; i < 64 && fd_ >= 0; i++) {
            ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n > 0) {
                std::string_view data(buf, static_cast<size_t>(n));
                // A client that cannot keep up goes over its queue and is
                // dropped by the loop: it never stalls the device or the others.
                status_.device_rx(data.size());
                loop_->for_each([&](StreamConn& c) {
                    if (c.established)
                        to_client(c, data);
                });
                for (Link& l : links_) {
                    StreamConn* c = l.conn ? loop_->find(l.conn) : nullptr;
                    if (!c || !c->established)
                        keep(l, data);   // for_each sent it already when the link is up
                }
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            LOG_WARN("serial %s: %s; reopening in %d ms", cfg_.device.c_str(),
                     n == 0 ? "hang-up" : std::strerror(errno), cfg_.reopen_delay);
            close_device(true);
            return;
        }
    }

    void to_device(std::string_view data)
    {
        if (fd_ < 0) {
            // The device is not there: said once per absence, counted always.
            if (absent_dropped_ == 0)
                LOG_WARN("serial %s: the device is away: bytes from clients are dropped until it is back",
                         cfg_.device.c_str());
            absent_dropped_ += data.size();
            status_.device_dropped(data.size());
            return;
        }
        dev_out_.append(data);   // a frame past the mark fits: clients are held at it
        flush_device();
        if (fd_ >= 0 && !held_ && dev_out_.size() >= kDeviceQueue)
            hold_clients(true);
    }

    void flush_device()
    {
        while (fd_ >= 0 && !dev_out_.empty()) {
            ssize_t n = ::write(fd_, dev_out_.data(), dev_out_.size());
            if (n > 0) {
                status_.device_tx(static_cast<uint64_t>(n));
                dev_out_.erase(0, static_cast<size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (!dev_writable_wait_)
                    loop_->watch_writable(fd_, true);
                dev_writable_wait_ = true;
                return;
            }
            LOG_WARN("serial %s: write failed: %s; reopening in %d ms", cfg_.device.c_str(), std::strerror(errno),
                     cfg_.reopen_delay);
            close_device(true);
            return;
        }
        if (fd_ >= 0 && dev_writable_wait_)
            loop_->watch_writable(fd_, false);
        dev_writable_wait_ = false;
        if (held_ && dev_out_.size() <= kDeviceQueue / 2)
            hold_clients(false);
    }

    // Holds (or releases) every peer that writes to the device.
    void hold_clients(bool on)
    {
        held_ = on;
        loop_->for_each([&](StreamConn& c) {
            // A release may refill the queue and hold again: then stop releasing.
            if (held_ == on)
                loop_->hold(c, on);
        });
    }

    // The tty's line as it is now, for serial.list (RFC 2217 clients change it).
    void publish_line()
    {
        LineSettings ls;
        if (fd_ < 0 || !read_settings(fd_, ls))
            return;
        static const char p[] = {'N', 'E', 'O', 'M', 'S'};
        status_.line(ls.baud, ls.databits, p[static_cast<int>(ls.parity)], ls.stopbits);
    }

    void tick()
    {
        int64_t now = now_ms();
        if (cfg_.rfc2217)
            publish_line();
        if (fd_ < 0 && now >= reopen_at_)
            open_device();
        flush_device();
        for (Link& l : links_)
            if (!l.conn && now >= l.redial_at)
                dial(l);
        if (!telnet_.empty() && fd_ >= 0)
            notify_lines();
    }

    // rfc2217=yes: the client's session, and our side of the negotiation.
    void start_telnet(StreamConn& c)
    {
        std::string name = "serial " + cfg_.device + " client " + std::to_string(c.id);
        auto s = std::make_unique<Rfc2217Session>(port_, std::move(name), "ser " SER_VERSION " " + cfg_.device,
                                                  static_cast<size_t>(cfg_.client_queue));
        send_to(c, s->greeting());
        telnet_[c.id] = std::move(s);
    }

    // The last RFC 2217 client gone: the block's line settings come back.
    void end_telnet(uint32_t id)
    {
        if (!telnet_.erase(id) || !telnet_.empty() || !line_changed_)
            return;
        line_changed_ = false;
        std::string err;
        if (fd_ >= 0 && !set_line(fd_, settings_of(cfg_), err))
            LOG_WARN("serial %s: restoring the configured line: %s", cfg_.device.c_str(), err.c_str());
        else if (fd_ >= 0)
            LOG_INFO("serial %s: no RFC 2217 client left: line back to %d baud as configured", cfg_.device.c_str(),
                     cfg_.baudrate);
    }

    // Device bytes for one connection: as they are, or through its RFC 2217 session.
    void to_client(StreamConn& c, std::string_view data)
    {
        auto t = telnet_.find(c.id);
        if (t == telnet_.end()) {
            send_to(c, data);
            return;
        }
        std::string esc;
        if (!t->second->to_client(data, esc))
            loop_->close(c, CloseReason::WriteQueueFull, "suspended the flow (RFC 2217) past client_queue=%d",
                         cfg_.client_queue);
        else if (!esc.empty())
            send_to(c, esc);
    }

    // Modem line and line state changes, told to each client under its masks.
    void notify_lines()
    {
        uint8_t modem = port_.modem_lines(), line = port_.line_state();
        for (auto& [id, s] : telnet_) {
            std::string n = s->poll(modem, line);
            StreamConn* c = n.empty() ? nullptr : loop_->find(id);
            if (c)
                send_to(*c, n);
        }
    }

    const SerialCfg& cfg_;
    StatsSlot stats_;
    SerialStatus& status_;
    std::unordered_map<uint32_t, int> slots_;   // conn id -> its slot in status_
    std::unique_ptr<Framer> framer_;
    std::unique_ptr<ConnLoop> loop_;
    int fd_ = -1;
    std::string dev_out_;       // bytes for the device, bounded by kDeviceQueue (+ one frame)
    bool dev_writable_wait_ = false;   // the device's EPOLLOUT is armed
    bool held_ = false;                // clients held until the device drains
    uint64_t absent_dropped_ = 0;      // client bytes dropped during this absence
    std::string last_err_;      // said once until it changes
    int64_t reopen_at_ = 0;
    size_t clients_ = 0;
    uint32_t next_id_ = 1;
    std::vector<Link> links_;
    DevicePort port_{cfg_.device, fd_, dev_out_, [this](std::string_view d) { to_device(d); }};
    std::unordered_map<uint32_t, std::unique_ptr<Rfc2217Session>> telnet_;   // rfc2217=yes: by conn id
    bool line_changed_ = false;   // an RFC 2217 client changed the line
};

std::string bind_serial_listeners(Runtime& rt)
{
    for (const SerialCfg& s : rt.cfg->serials) {
        std::vector<int> fds;
        for (const SerialEndpointCfg& e : s.listens) {
            auto a = SockAddr::from_numeric(e.addr, e.port);
            if (!a)
                return e.loc.str() + ": listen address " + e.addr + " is not numeric";
            ListenAddr la;
            la.proto = e.tls ? Proto::Tls : Proto::Tcp;
            la.addr = *a;
            std::string err = rt.claim(la);
            if (!err.empty())
                return err;
            int fd = open_listening_socket(la, false, 64, err);
            if (fd < 0)
                return err;
            fds.push_back(fd);
        }
        rt.serial_listeners.push_back(std::move(fds));
        uint32_t peers = static_cast<uint32_t>(s.max_clients) + static_cast<uint32_t>(s.connects.size());
        SerialStatus* st = SerialStatus::create(*rt.shm, peers);
        if (!st)
            return "shared memory of " + std::to_string(rt.shm->size() >> 20) + " MB is too small for the status of serial " +
                   s.device + " (max_clients=" + std::to_string(s.max_clients) + " needs " +
                   std::to_string(SerialStatus::bytes_needed(peers) >> 10) + " KB more): raise shm_mem_size or -m";
        rt.serial_status.push_back(st);
    }
    return {};
}

int run_bridge(ChildEnv& env)
{
    const SerialCfg& cfg = env.rt.cfg->serials[env.index];
    Bridge b(env.rt, cfg, env.rt.serial_listeners[env.index], child_stats(env), *env.rt.serial_status[env.index]);
    return b.run(env.stop, env.hup);
}

}  // namespace
}  // namespace ser::serial

namespace ser {

void register_serial_bridges(RoleTable& roles)
{
    Role r;
    r.name = "serial bridge";
    r.setup = serial::bind_serial_listeners;
    r.count = [](const Runtime& rt) { return rt.cfg->serials.size(); };
    r.child_name = [](const Runtime& rt, size_t i) {
        return ChildName{"serial#" + std::to_string(i), rt.cfg->serials[i].device};
    };
    r.run = serial::run_bridge;
    roles.add(std::move(r));
}

}  // namespace ser
