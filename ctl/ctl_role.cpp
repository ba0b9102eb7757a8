// The control role: one process serving JSON-RPC 2.0 (one request per line,
// one response per line) on ctl_socket, and GET /metrics on metrics_listen,
// both on the connection loop. A stuck or hostile client is bounded like any
// other: ctl_max_clients, ctl_max_request bytes, ctl_timeout seconds.
#include "ctl/ctl_methods.h"
#include "ctl/ctl_rpc.h"

#include "io/conn_loop.h"
#include "io/transport.h"
#include "log.h"
#include "proc/ctl_hook.h"
#include "proc/role.h"
#include "proc/runtime.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace ser::ctl {
namespace {

constexpr size_t kMaxHttpHead = 8192;

// One request per line; a line past the limit is cut as a frame of its own
// (without its newline) so the host can answer it with an error.
class LineFramer final : public Framer {
public:
    explicit LineFramer(size_t max) : max_(max) {}
    FrameCut next(std::string_view buf) override
    {
        size_t lf = buf.find('\n');
        if (lf != std::string_view::npos && lf < max_)
            return {FrameCut::Kind::Frame, lf + 1, {}, nullptr};
        if (buf.size() >= max_)
            return {FrameCut::Kind::Frame, buf.size(), {}, nullptr};
        return {};
    }

private:
    size_t max_;
};

// An HTTP request head, up to the empty line.
class HttpFramer final : public Framer {
public:
    FrameCut next(std::string_view buf) override
    {
        size_t end = buf.find("\r\n\r\n");
        if (end != std::string_view::npos)
            return {FrameCut::Kind::Frame, end + 4, {}, nullptr};
        end = buf.find("\n\n");
        if (end != std::string_view::npos)
            return {FrameCut::Kind::Frame, end + 2, {}, nullptr};
        if (buf.size() >= kMaxHttpHead)
            return {FrameCut::Kind::Error, 0, {}, "HTTP request head over 8 KB"};
        return {};
    }
};

std::string http_reply(int code, const char* reason, std::string_view type, std::string_view body)
{
    std::string r = "HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\nContent-Type: " + std::string(type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    r.append(body);
    return r;
}

class Control final : public LoopHost {
public:
    Control(Runtime& rt, StatsSlot stats) : rt_(rt), line_(static_cast<size_t>(rt.cfg->ctl.max_request))
    {
        const CtlCfg& c = rt.cfg->ctl;
        LoopLimits lim;
        lim.read_buffer = static_cast<size_t>(c.max_request) + 64;
        lim.max_write_queue = 64u << 20;   // one tcp.list of a full table, with room
        lim.send_timeout_s = c.timeout;
        lim.idle_timeout_s = 60;
        lim.msg_read_timeout_s = c.timeout;
        lim.first_msg_timeout_s = c.timeout;
        loop_ = std::make_unique<ConnLoop>(lim, *this, stats);
        if (rt.ctl_fd >= 0)
            loop_->add_listener(rt.ctl_fd, tcp_transport(), line_, &ctl_tag_);
        if (rt.metrics_fd >= 0)
            loop_->add_listener(rt.metrics_fd, tcp_transport(), http_, &metrics_tag_);
        add_methods(rpc_, rt);
    }
    ~Control() override { loop_.reset(); }

    int run(const volatile sig_atomic_t& stop, volatile sig_atomic_t& hup)
    {
        return loop_->run(stop, hup, [] { reload_transports(); });
    }

    uint32_t admit(const StreamConn&) override
    {
        if (clients_ >= static_cast<size_t>(rt_.cfg->ctl.max_clients)) {
            stats_refused_++;
            LOG_WARN("control: refusing a client: ctl_max_clients=%d are connected", rt_.cfg->ctl.max_clients);
            return 0;
        }
        clients_++;
        return next_id_++;
    }
    void established(StreamConn&) override {}
    void publish(StreamConn&) override {}
    void closed(StreamConn&, CloseReason) override { clients_--; }

    void frame(StreamConn& c, std::string_view f) override
    {
        if (c.listener == &metrics_tag_) {
            metrics(c, f);
            return;
        }
        if (f.empty() || f.back() != '\n') {
            loop_->send(c, Rpc::error_text(kInvalidRequest, "request larger than ctl_max_request=" +
                                                                std::to_string(rt_.cfg->ctl.max_request) + " bytes"));
            loop_->close_when_sent(c);
            return;
        }
        f.remove_suffix(1);
        if (!f.empty() && f.back() == '\r')
            f.remove_suffix(1);
        if (f.find_first_not_of(" \t") == std::string_view::npos)
            return;
        std::string out = rpc_.handle(f);
        if (!out.empty())
            loop_->send(c, out);
    }

private:
    void metrics(StreamConn& c, std::string_view head)
    {
        std::string_view line = head.substr(0, head.find_first_of("\r\n"));
        std::string out;
        if (line.substr(0, 4) != "GET " && line.substr(0, 5) != "HEAD ")
            out = http_reply(405, "Method Not Allowed", "text/plain", "only GET /metrics\n");
        else if (line.find(" /metrics ") == std::string_view::npos && line.find(" /metrics?") == std::string_view::npos)
            out = http_reply(404, "Not Found", "text/plain", "ser serves /metrics only\n");
        else {
            out = http_reply(200, "OK", "text/plain; version=0.0.4; charset=utf-8", metrics_text(rt_));
            if (line.substr(0, 5) == "HEAD ")
                out.resize(out.find("\r\n\r\n") + 4);
        }
        loop_->send(c, out);
        loop_->close_when_sent(c);
    }

    Runtime& rt_;
    Rpc rpc_;
    LineFramer line_;
    HttpFramer http_;
    ListenAddr ctl_tag_, metrics_tag_;
    std::unique_ptr<ConnLoop> loop_;
    size_t clients_ = 0;
    uint64_t stats_refused_ = 0;
    uint32_t next_id_ = 1;
};

// Who the socket file belongs to: the user ser runs as, the ctl_group.
bool owner_of(const Runtime& rt, uid_t& uid, gid_t& gid, std::string& err)
{
    uid = geteuid();
    gid = getegid();
    if (!rt.run_user.empty()) {
        const passwd* pw = getpwnam(rt.run_user.c_str());
        if (!pw) {
            err = "ctl_socket: no user " + rt.run_user;
            return false;
        }
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    const std::string& g = !rt.cfg->ctl.group.empty() ? rt.cfg->ctl.group : rt.run_group;
    if (!g.empty()) {
        const group* gr = getgrnam(g.c_str());
        if (!gr) {
            err = "ctl_socket: no group " + g;
            return false;
        }
        gid = gr->gr_gid;
    }
    return true;
}

// The unix socket: "" and the fd in rt.ctl_fd, or why not.
std::string open_unix(Runtime& rt)
{
    const CtlCfg& c = rt.cfg->ctl;
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", c.path.c_str());
    struct stat st {};
    if (lstat(c.path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return "ctl_socket " + c.path + " exists and is not a socket; remove it or choose another path";
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool live = probe >= 0 && connect(probe, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0;
        if (probe >= 0)
            ::close(probe);
        if (live)
            return "ctl_socket " + c.path + " is in use by another running ser; give this one its own ctl_socket";
        unlink(c.path.c_str());   // left by a ser that is gone
    }
    uid_t uid;
    gid_t gid;
    std::string err;
    if (!owner_of(rt, uid, gid, err))
        return err;
    // The directory (/run/ser) is made when missing, for the user ser runs as.
    std::string dir = c.path.substr(0, c.path.rfind('/'));
    if (!dir.empty() && mkdir(dir.c_str(), 0755) == 0 && chown(dir.c_str(), uid, gid) != 0)
        LOG_WARN("ctl_socket: cannot give %s to uid %u: %s", dir.c_str(), static_cast<unsigned>(uid),
                 std::strerror(errno));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return std::string("ctl_socket: socket(): ") + std::strerror(errno);
    // Created with no access for anyone, then opened up to ctl_mode: never
    // world-writable, not even for an instant.
    mode_t old = umask(0777);
    int b = bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun);
    int bind_errno = errno;
    umask(old);
    if (b != 0) {
        ::close(fd);
        return "ctl_socket " + c.path + ": bind: " + std::strerror(bind_errno);
    }
    if (chown(c.path.c_str(), uid, gid) != 0 || chmod(c.path.c_str(), static_cast<mode_t>(c.mode)) != 0 ||
        listen(fd, 16) != 0) {
        std::string e = "ctl_socket " + c.path + ": " + std::strerror(errno);
        ::close(fd);
        unlink(c.path.c_str());
        return e;
    }
    rt.ctl_fd = fd;
    rt.ctl_path = c.path;
    return {};
}

std::string open_tcp(Runtime& rt, const std::string& addr, uint16_t port, int& out, const char* what)
{
    auto a = SockAddr::from_numeric(addr, port);
    if (!a)
        return std::string(what) + ": " + addr + " is not numeric";
    ListenAddr la;
    la.proto = Proto::Tcp;
    la.addr = *a;
    std::string err = rt.claim(la);
    if (!err.empty())
        return std::string(what) + ": " + err;
    int fd = open_listening_socket(la, false, 16, err);
    if (fd < 0)
        return std::string(what) + ": " + err;
    out = fd;
    return {};
}

std::string setup(Runtime& rt)
{
    const CtlCfg& c = rt.cfg->ctl;
    if (c.enabled) {
        std::string err = c.tcp ? open_tcp(rt, c.addr, c.port, rt.ctl_fd, "ctl_socket") : open_unix(rt);
        if (!err.empty()) {
            // The default place is a convenience: a second ser on one host
            // runs without it (and says so); one the config names must work.
            if (c.given)
                return err;
            LOG_WARN("%s; serctl cannot reach this ser (set ctl_socket to give it one)", err.c_str());
        }
    }
    if (!rt.cfg->metrics_listen.empty())
        return open_tcp(rt, rt.cfg->metrics_addr, rt.cfg->metrics_port, rt.metrics_fd, "metrics_listen");
    return {};
}

int run(ChildEnv& env)
{
    child_stats(env);   // binds the slot; the control's own connections are counted nowhere:
    Control c(env.rt, StatsSlot());   // serctl calls are not SIP streams (closed/peer would grow with each)
    int rc = c.run(env.stop, env.hup);
    if (!env.rt.ctl_path.empty())
        unlink(env.rt.ctl_path.c_str());
    return rc;
}

}  // namespace
}  // namespace ser::ctl

namespace ser {

void register_control_role(RoleTable& roles)
{
    Role r;
    r.name = "control";
    r.setup = ctl::setup;
    r.count = [](const Runtime& rt) -> size_t { return rt.ctl_fd >= 0 || rt.metrics_fd >= 0 ? 1 : 0; };
    r.child_name = [](const Runtime& rt, size_t) {
        return ChildName{"ctl", rt.ctl_path.empty() ? std::string("tcp") : rt.ctl_path};
    };
    r.run = ctl::run;
    roles.add(std::move(r));
}

}  // namespace ser
