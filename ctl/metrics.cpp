// The Prometheus text exposition format (version 0.0.4) of ser's counters
// and gauges (see ctl_methods.h). Names: ser_<what>_total for counters,
// reasons and transports as labels; one HELP and one TYPE line per family.
#include "ctl/ctl_methods.h"

#include "clock.h"
#include "io/tls_hooks.h"
#include "proc/runtime.h"
#include "proto.h"

#include <string>

namespace ser::ctl {
namespace {

// A label value with \, " and newline escaped, as the format asks.
std::string esc(std::string_view v)
{
    std::string o;
    for (char c : v) {
        if (c == '\\' || c == '"')
            o += '\\';
        if (c == '\n') {
            o += "\\n";
            continue;
        }
        o += c;
    }
    return o;
}

class Out {
public:
    void family(const char* name, const char* type, const char* help)
    {
        s_ += "# HELP ";
        s_ += name;
        s_ += ' ';
        s_ += help;
        s_ += "\n# TYPE ";
        s_ += name;
        s_ += ' ';
        s_ += type;
        s_ += '\n';
    }
    void sample(const char* name, std::string_view labels, double v)
    {
        s_ += name;
        if (!labels.empty()) {
            s_ += '{';
            s_ += labels;
            s_ += '}';
        }
        s_ += ' ';
        char buf[64];
        if (v == static_cast<double>(static_cast<long long>(v)))
            std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
        else
            std::snprintf(buf, sizeof buf, "%.6f", v);
        s_ += buf;
        s_ += '\n';
    }
    std::string take() { return std::move(s_); }

private:
    std::string s_;
};

std::string label(const char* k, std::string_view v)
{
    return std::string(k) + "=\"" + esc(v) + "\"";
}

template <typename E>
void reasons(Out& o, const StatsSnapshot& s, const char* name, const char* help)
{
    o.family(name, "counter", help);
    for (size_t i = 0; i < static_cast<size_t>(E::Count); i++) {
        auto e = static_cast<E>(i);
        o.sample(name, label("reason", stat_name(e)), static_cast<double>(s[e]));
    }
}

}  // namespace

std::string metrics_text(Runtime& rt)
{
    Out o;
    StatsSnapshot s = rt.stats->sum();
    struct Single {
        Stat stat;
        const char* name;
        const char* help;
    };
    static const Single singles[] = {
        {Stat::RequestsIn, "ser_requests_received_total", "SIP requests received that parsed."},
        {Stat::RepliesIn, "ser_replies_received_total", "SIP replies received that parsed."},
        {Stat::RequestsForwarded, "ser_requests_forwarded_total", "Requests handed to a transport by forward()."},
        {Stat::RepliesForwarded, "ser_replies_forwarded_total", "Replies handed to a transport."},
        {Stat::RepliedLocally, "ser_replies_local_total", "Replies ser made itself (script, errors, 400s)."},
        {Stat::ParseErrors, "ser_parse_errors_total", "Messages that did not parse; stream framing errors."},
        {Stat::ConnsAccepted, "ser_connections_accepted_total", "Stream connections accepted."},
        {Stat::ConnsOpened, "ser_connections_opened_total", "Outgoing stream connections started."},
        {Stat::TlsHandshakesOk, "ser_tls_handshakes_total", "TLS handshakes completed."},
        {Stat::TlsReloads, "ser_tls_reloads_total", "TLS material reloads that took effect, per process."},
        {Stat::TlsReloadFailures, "ser_tls_reload_failures_total", "TLS reloads refused; the old material stayed."},
        {Stat::DnsQueued, "ser_dns_queued_total", "Requests that waited for DNS answers before their forward."},
        {Stat::DnsQueueFull, "ser_dns_queue_full_total", "Requests answered 503: dns_max_pending were waiting."},
        {Stat::DnsFailures, "ser_dns_failures_total", "Forwards to a host name that did not resolve (478)."},
        {Stat::WorkersStalled, "ser_workers_stalled_total",
         "Children killed and restarted: their heartbeat stood still for worker_stall_timeout."},
    };
    for (const Single& x : singles) {
        o.family(x.name, "counter", x.help);
        o.sample(x.name, "", static_cast<double>(s[x.stat]));
    }
    reasons<DropReason>(o, s, "ser_messages_dropped_total", "Received messages that ended with nothing sent, by reason.");
    reasons<SendError>(o, s, "ser_send_errors_total", "Sends the transports refused, by reason.");
    reasons<RefuseReason>(o, s, "ser_connections_refused_total", "Stream connections not taken or opened, by reason.");
    reasons<CloseReason>(o, s, "ser_connections_closed_total", "Stream connections closed, by reason.");
    reasons<TlsFailReason>(o, s, "ser_tls_handshake_failures_total", "TLS handshakes that failed, by reason.");
    o.family("ser_invalid_messages_total", "counter",
             "Messages that did not parse, by defect: answered with a 400 or dropped.");
    for (size_t i = 0; i < static_cast<size_t>(InvalidReason::Count); i++) {
        auto r = static_cast<InvalidReason>(i);
        std::string l = label("reason", stat_name(r));
        o.sample("ser_invalid_messages_total", l + ",outcome=\"answered\"", static_cast<double>(s.invalid_answered(r)));
        o.sample("ser_invalid_messages_total", l + ",outcome=\"dropped\"", static_cast<double>(s.invalid_dropped(r)));
    }
    o.family("ser_discarded_bytes_total", "counter", "Bytes received and never forwarded, by reason.");
    for (size_t i = 0; i < static_cast<size_t>(DiscardReason::Count); i++) {
        auto r = static_cast<DiscardReason>(i);
        o.sample("ser_discarded_bytes_total", label("reason", stat_name(r)), static_cast<double>(s.discarded_bytes(r)));
    }
    o.family("ser_messages_total", "counter", "SIP messages in and out, by transport.");
    for (int p = 0; p < kProtoCount; p++) {
        auto pr = static_cast<Proto>(p);
        std::string t = label("transport", proto_name(pr));
        o.sample("ser_messages_total", t + ",direction=\"in\"", static_cast<double>(s.msgs_in(pr)));
        o.sample("ser_messages_total", t + ",direction=\"out\"", static_cast<double>(s.msgs_out(pr)));
    }
    o.family("ser_listener_messages_total", "counter", "SIP messages in and out, by listener.");
    for (size_t i = 0; i < rt.listen_addrs.size(); i++) {
        const ListenAddr& la = rt.listen_addrs[i];
        std::string l = label("transport", proto_name(la.proto)) + "," + label("listener", la.addr.str());
        o.sample("ser_listener_messages_total", l + ",direction=\"in\"", static_cast<double>(s.listener_in(i)));
        o.sample("ser_listener_messages_total", l + ",direction=\"out\"", static_cast<double>(s.listener_out(i)));
    }

    // Gauges.
    o.family("ser_connections", "gauge", "Open TCP and TLS connections.");
    o.sample("ser_connections", "", static_cast<double>(rt.conns->count()));
    o.family("ser_connections_max", "gauge", "tcp_max_connections.");
    o.sample("ser_connections_max", "", static_cast<double>(rt.conns->capacity()));
    o.family("ser_shm_used_bytes", "gauge", "Shared memory in use.");
    o.sample("ser_shm_used_bytes", "", static_cast<double>(rt.shm->used()));
    o.family("ser_shm_size_bytes", "gauge", "Shared memory size.");
    o.sample("ser_shm_size_bytes", "", static_cast<double>(rt.shm->size()));
    if (rt.procs) {
        o.family("ser_uptime_seconds", "gauge", "Seconds since ser started.");
        o.sample("ser_uptime_seconds", "", static_cast<double>((wall_ms() - rt.procs->main_started_ms()) / 1000));
        o.family("ser_process_restarts_total", "counter", "Restarts of each child process.");
        for (const ProcView& p : rt.procs->read())
            o.sample("ser_process_restarts_total", label("process", p.tag), static_cast<double>(p.restarts));
    }
    if (!rt.serial_status.empty()) {
        o.family("ser_serial_up", "gauge", "1 while the serial device is open.");
        std::vector<std::pair<std::string, SerialStatusView>> views;
        for (size_t i = 0; i < rt.serial_status.size() && i < rt.cfg->serials.size(); i++)
            views.emplace_back(label("device", rt.cfg->serials[i].device), rt.serial_status[i]->read());
        for (auto& [l, v] : views)
            o.sample("ser_serial_up", l, v.open ? 1 : 0);
        o.family("ser_serial_clients", "gauge", "Clients and links connected to the serial device.");
        for (auto& [l, v] : views)
            o.sample("ser_serial_clients", l, static_cast<double>(v.peers.size()));
        o.family("ser_serial_bytes_total", "counter", "Bytes read from (rx) and written to (tx) the serial device.");
        for (auto& [l, v] : views) {
            o.sample("ser_serial_bytes_total", l + ",direction=\"rx\"", static_cast<double>(v.rx));
            o.sample("ser_serial_bytes_total", l + ",direction=\"tx\"", static_cast<double>(v.tx));
        }
        o.family("ser_serial_reopens_total", "counter", "Times the serial device was opened again.");
        for (auto& [l, v] : views)
            o.sample("ser_serial_reopens_total", l, static_cast<double>(v.reopens));
        o.family("ser_serial_dropped_bytes_total", "counter", "Bytes for the device it could not take.");
        for (auto& [l, v] : views)
            o.sample("ser_serial_dropped_bytes_total", l, static_cast<double>(v.dropped));
    }
    std::vector<TlsDomainInfo> doms = tls_domain_info(*rt.cfg);
    int64_t now = wall_ms() / 1000;
    // One gauge of seconds left per domain that has the date (0: it has none).
    auto seconds_left = [&](const char* name, const char* help, int64_t TlsDomainInfo::*when,
                            std::string TlsDomainInfo::*file) {
        bool any = false;
        for (const auto& d : doms)
            any |= d.*when != 0;
        if (!any)
            return;
        o.family(name, "gauge", help);
        for (const auto& d : doms)
            if (d.*when)
                o.sample(name, label("domain", d.name) + "," + label("file", d.*file), static_cast<double>(d.*when - now));
    };
    seconds_left("ser_tls_cert_expiry_seconds", "Seconds until the domain's certificate expires.",
                 &TlsDomainInfo::not_after, &TlsDomainInfo::certificate);
    seconds_left("ser_tls_crl_next_update_seconds", "Seconds until the domain's CRL is due for renewal.",
                 &TlsDomainInfo::crl_next_update, &TlsDomainInfo::crl);
    seconds_left("ser_tls_ocsp_next_update_seconds", "Seconds until the stapled OCSP response goes stale.",
                 &TlsDomainInfo::ocsp_next_update, &TlsDomainInfo::ocsp);
    return o.take();
}

}  // namespace ser::ctl
