// The control socket's commands (see ctl_methods.h).
#include "ctl/ctl_methods.h"

#include "clock.h"
#include "io/channel.h"
#include "io/tls_hooks.h"
#include "io/transport.h"
#include "log.h"
#include "proc/runtime.h"
#include "proto.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace ser::ctl {
namespace {

const char* state_name(ConnState s)
{
    switch (s) {
    case ConnState::Free: return "free";
    case ConnState::Connecting: return "connecting";
    case ConnState::Handshake: return "handshake";
    case ConnState::Established: return "established";
    case ConnState::Closing: return "closing";
    }
    return "?";
}

// utime + stime of a process in seconds (from /proc/PID/stat), -1 if unknown.
double cpu_seconds(int pid)
{
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t close = s.rfind(')');
    if (close == std::string::npos)
        return -1;
    std::istringstream in(s.substr(close + 2));
    std::string field;
    unsigned long long ut = 0, st = 0;
    // Fields after the name: state (3) ... utime (14), stime (15).
    for (int i = 3; i <= 15 && in >> field; i++) {
        if (i == 14)
            ut = std::stoull(field);
        if (i == 15)
            st = std::stoull(field);
    }
    return static_cast<double>(ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

json conn_json(const TcpConnRecord& r, bool tls, int64_t now)
{
    json c = {
        {"id", r.id},
        {"proto", std::string(proto_name(r.proto))},
        {"local", r.local.str()},
        {"remote", r.remote.str()},
        {"direction", r.outgoing ? "out" : "in"},
        {"owner", "tcp#" + std::to_string(r.owner)},
        {"state", state_name(r.state)},
        {"age_s", (now - r.created_ms) / 1000},
        {"idle_s", (now - r.last_active_ms) / 1000},
        {"bytes_in", r.bytes_in},
        {"bytes_out", r.bytes_out},
        {"msgs_in", r.msgs_in},
        {"msgs_out", r.msgs_out},
    };
    if (r.via.family() != 0)
        c["via"] = r.via.str();         // the load balancer it came through (PROXY protocol)
    if (tls) {
        c["tls_version"] = r.tls_version;
        c["cipher"] = r.tls_cipher;
        c["peer_subject"] = r.tls_peer_subject;
        c["verified"] = r.tls_verified == 1;
        c["resumed"] = r.tls_resumed;
        c["sni"] = r.tls_sni;           // what the client asked for (incoming)
        c["server_name"] = r.host;      // what we verified the peer for (outgoing)
    }
    return c;
}

template <typename E>
json by_reason(const StatsSnapshot& s)
{
    json o = json::object();
    for (size_t i = 0; i < static_cast<size_t>(E::Count); i++)
        o[std::string(stat_name(static_cast<E>(i)))] = s[static_cast<E>(i)];
    return o;
}

json stats_json(const Runtime& rt)
{
    StatsSnapshot s = rt.stats->sum();
    json o;
    json totals = json::object();
    for (size_t i = 0; i < static_cast<size_t>(Stat::Count); i++)
        totals[std::string(stat_name(static_cast<Stat>(i)))] = s[static_cast<Stat>(i)];
    o["counters"] = totals;
    o["dropped"] = by_reason<DropReason>(s);
    o["send_errors"] = by_reason<SendError>(s);
    o["refused"] = by_reason<RefuseReason>(s);
    o["closed"] = by_reason<CloseReason>(s);
    o["tls_failures"] = by_reason<TlsFailReason>(s);
    json disc = json::object();
    for (size_t i = 0; i < static_cast<size_t>(DiscardReason::Count); i++) {
        auto r = static_cast<DiscardReason>(i);
        disc[std::string(stat_name(r))] = {{"messages", s.discarded_msgs(r)}, {"bytes", s.discarded_bytes(r)}};
    }
    o["discarded"] = disc;
    json inv = json::object();
    for (size_t i = 0; i < static_cast<size_t>(InvalidReason::Count); i++) {
        auto r = static_cast<InvalidReason>(i);
        inv[std::string(stat_name(r))] = {{"answered", s.invalid_answered(r)}, {"dropped", s.invalid_dropped(r)}};
    }
    o["invalid"] = inv;
    json per_proto = json::object();
    for (int p = 0; p < kProtoCount; p++) {
        auto pr = static_cast<Proto>(p);
        per_proto[std::string(proto_name(pr))] = {{"in", s.msgs_in(pr)}, {"out", s.msgs_out(pr)}};
    }
    o["transports"] = per_proto;
    json ls = json::array();
    for (size_t i = 0; i < rt.listen_addrs.size(); i++) {
        const ListenAddr& la = rt.listen_addrs[i];
        ls.push_back({{"listener", std::string(proto_name(la.proto)) + ":" + la.addr.str()},
                      {"in", s.listener_in(i)},
                      {"out", s.listener_out(i)}});
    }
    o["listeners"] = ls;
    return o;
}

const char* parity_name(Parity p)
{
    static const char* const n[] = {"none", "even", "odd", "mark", "space"};
    return n[static_cast<int>(p)];
}

json serial_json(const Runtime& rt)
{
    json out = json::array();
    for (size_t i = 0; i < rt.cfg->serials.size() && i < rt.serial_status.size(); i++) {
        const SerialCfg& s = rt.cfg->serials[i];
        SerialStatusView v = rt.serial_status[i]->read();
        json d = {
            {"device", s.device},
            {"state", v.open ? "open" : "closed"},
            {"since_ms", v.since_ms},
            // The tty as it is now (an RFC 2217 client may have changed it), else the block's.
            {"baudrate", v.baud ? v.baud : static_cast<uint32_t>(s.baudrate)},
            {"line", v.baud ? std::to_string(v.databits) + std::string(1, v.parity) + std::to_string(v.stopbits)
                            : std::to_string(s.databits) +
                                  std::string(1, static_cast<char>(std::toupper(parity_name(s.parity)[0]))) +
                                  std::to_string(s.stopbits)},
            {"rx", v.rx},
            {"tx", v.tx},
            {"reopens", v.reopens},
            {"dropped", v.dropped},
            {"link_dropped", v.link_dropped},
        };
        json peers = json::array();
        for (const SerialPeerView& p : v.peers) {
            json c = {{"conn", p.conn},
                      {"kind", p.outgoing ? "link" : "client"},
                      {"address", p.addr},
                      {"since_ms", p.since_ms},
                      {"rx", p.rx},
                      {"tx", p.tx}};
            if (p.tls) {
                c["tls_version"] = p.tls_version;
                c["cipher"] = p.cipher;
                c["peer_subject"] = p.peer_subject;
            }
            peers.push_back(std::move(c));
        }
        d["clients"] = std::move(peers);
        out.push_back(std::move(d));
    }
    return out;
}

json tls_info_json(const Runtime& rt)
{
    json out = json::array();
    int64_t now = wall_ms() / 1000;
    for (const TlsDomainInfo& d : tls_domain_info(*rt.cfg)) {
        json j = {{"domain", d.name},
                  {"side", d.client ? "client" : "server"},
                  {"certificate", d.certificate},
                  {"subject", d.subject},
                  {"issuer", d.issuer},
                  {"sans", d.sans},
                  {"ca_list", d.ca_list},
                  {"crl", d.crl}};
        if (d.not_after) {
            j["not_after"] = d.not_after;
            j["expires_in_days"] = (d.not_after - now) / 86400;
        }
        if (d.crl_next_update) {
            j["crl_next_update"] = d.crl_next_update;
            j["crl_next_update_in_days"] = (d.crl_next_update - now) / 86400;
        }
        if (!d.ocsp.empty()) {
            j["ocsp_response"] = d.ocsp;
            j["ocsp_status"] = d.ocsp_status;
            if (d.ocsp_next_update)
                j["ocsp_next_update"] = d.ocsp_next_update;
        }
        if (!d.error.empty())
            j["error"] = d.error;
        out.push_back(std::move(j));
    }
    return out;
}

}  // namespace

void add_methods(Rpc& rpc, Runtime& rt)
{
    rpc.add("system.listMethods", "", "the commands this server has", [&rpc](const json&) {
        json out = json::array();
        for (const auto& [name, e] : rpc.methods())
            out.push_back({{"name", name}, {"params", e.params_help}, {"help", e.help}});
        return out;
    });
    rpc.add("core.version", "", "ser's version and build, and the OpenSSL it runs with", [](const json&) {
        std::string ssl = tls_library_version();
        return json{{"version", SER_VERSION}, {"tls", !ssl.empty()}, {"openssl", ssl}};
    });
    rpc.add("core.uptime", "", "when ser started and how long ago", [&rt](const json&) {
        int64_t started = rt.procs ? rt.procs->main_started_ms() : 0;
        return json{{"started_ms", started}, {"uptime_s", (wall_ms() - started) / 1000}};
    });
    rpc.add("core.ps", "", "every process: pid, role, what it serves, restarts, CPU seconds", [&rt](const json&) {
        json out = json::array();
        if (!rt.procs)
            return out;
        int mp = rt.procs->main_pid();
        out.push_back({{"pid", mp}, {"role", "main"}, {"name", "main"}, {"detail", ""}, {"restarts", 0},
                       {"cpu_s", cpu_seconds(mp)}});
        for (const ProcView& p : rt.procs->read())
            out.push_back({{"pid", p.pid}, {"role", p.role}, {"name", p.tag}, {"detail", p.detail},
                           {"restarts", p.restarts}, {"cpu_s", p.pid ? cpu_seconds(p.pid) : 0.0},
                           {"started_ms", p.started_ms},
                           {"heartbeat_age_ms", p.pid ? std::max<int64_t>(0, now_ms() - p.beat_ms) : 0}});
        return out;
    });
    rpc.add("core.shmmem", "", "shared memory size and use, connection table fill", [&rt](const json&) {
        return json{{"size", rt.shm->size()}, {"used", rt.shm->used()}, {"free", rt.shm->size() - rt.shm->used()},
                    {"connections", rt.conns->count()}, {"connections_max", rt.conns->capacity()}};
    });
    rpc.add("tcp.list", "", "every TCP and TLS connection", [&rt](const json&) {
        json out = json::array();
        int64_t now = wall_ms();
        for (const TcpConnRecord& r : rt.conns->snapshot())
            out.push_back(conn_json(r, r.proto == Proto::Tls, now));
        return out;
    });
    rpc.add("tls.list", "", "every TLS connection with its version, cipher and peer", [&rt](const json&) {
        json out = json::array();
        int64_t now = wall_ms();
        for (const TcpConnRecord& r : rt.conns->snapshot())
            if (r.proto == Proto::Tls)
                out.push_back(conn_json(r, true, now));
        return out;
    });
    rpc.add("tls.info", "", "each TLS domain's certificate (subject, SANs, expiry) and CRL",
            [&rt](const json&) { return tls_info_json(rt); });
    rpc.add("tls.reload", "", "reload certificates, keys, CA lists and CRLs in every process", [&rt](const json&) {
        // Built here first: a broken file is reported to the caller and
        // nobody is asked to load it; when it builds, every process reloads.
        std::string err = reload_transports();
        if (!err.empty())
            throw RpcError(kServerError, "the old TLS material stays in use: " + err);
        if (!find_transport(Proto::Tls))
            throw RpcError(kServerError, "TLS is not in use (no TLS domain, or disable_tls=yes)");
        int mp = rt.procs ? rt.procs->main_pid() : getppid();
        kill(mp, SIGHUP);
        json files = json::array();
        for (const TlsDomainInfo& d : tls_domain_info(*rt.cfg))
            files.push_back({{"domain", d.name}, {"certificate", d.certificate}, {"ca_list", d.ca_list}, {"crl", d.crl}});
        LOG_NOTICE("tls.reload: new TLS material checked; every process reloads it");
        return json{{"reloaded", true}, {"domains", files}};
    });
    rpc.add("serial.list", "", "each serial device and its clients", [&rt](const json&) { return serial_json(rt); });
    rpc.add("stats", "", "the counters of the shared statistics", [&rt](const json&) { return stats_json(rt); });
    rpc.add("stats.reset", "", "start every counter again from zero", [&rt](const json&) {
        rt.stats->reset();
        return json{{"reset", true}};
    });
    rpc.add("conn.close", "ID", "close a TCP or TLS connection (its id from tcp.list)", [&rt](const json& p) {
        long long id = int_param(p, 0, "id", true);
        if (id <= 0 || id > 0xffffffffLL)
            throw RpcError(kInvalidParams, "id must be a connection id from tcp.list");
        auto r = rt.conns->get(static_cast<uint32_t>(id));
        if (!r)
            throw RpcError(kServerError, "no connection " + std::to_string(id));
        if (r->owner < 0 || static_cast<size_t>(r->owner) >= rt.channels.size())
            throw RpcError(kServerError, "connection " + std::to_string(id) + " has no owner to close it");
        ChanMsg m;
        m.kind = ChanKind::Close;
        m.proto = r->proto;
        m.conn_id = r->id;
        if (!chan_send(rt.channels[static_cast<size_t>(r->owner)].fds[1], m))
            throw RpcError(kServerError, "tcp#" + std::to_string(r->owner) + " is not taking messages now; try again");
        return json{{"closing", id}, {"owner", "tcp#" + std::to_string(r->owner)}};
    });
    rpc.add("log.level", "[N]", "the debug level of every process (-3..4); with N, set it", [](const json& p) {
        int before = log::level();
        if (const json* v = param(p, 0, "level"); v) {
            long long n = int_param(p, 0, "level", true);
            if (n < -3 || n > 9)
                throw RpcError(kInvalidParams, "level must be -3..4 (SER's debug=)");
            log::set_level(static_cast<int>(n));
            LOG_NOTICE("log.level: debug level %d -> %lld", before, n);
            (void)v;
        }
        return json{{"level", log::level()}, {"was", before}};
    });
    rpc.add("metrics", "", "the Prometheus text of every counter and gauge",
            [&rt](const json&) { return json(metrics_text(rt)); });
}

}  // namespace ser::ctl
