#pragma once
// The typed, validated configuration built from a ser.cfg by cfg_check. It is
// built once in main before fork and passed down by const reference.

#include "cfg/cfg_ast.h"
#include "net.h"
#include "proto.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

// One listening socket: proto:addr:port, with the address resolved to numeric form.
struct ListenCfg {
    Proto proto = Proto::Udp;
    std::string host;      // as written (name or address, IPv6 without brackets)
    std::string addr;      // numeric address after resolution
    int family = 0;        // AF_INET / AF_INET6
    uint16_t port = 0;
    bool any_proto = false;  // written without proto: (udp and tcp in the global context)
    bool proxy_protocol = false;  // "listen=tcp:... proxy_protocol": connections start with a PROXY header
    cfg::Loc loc;
};

// tls_method: sslv23 is "the best both sides speak" with TLS 1.2 as the floor;
// tlsv1 and tlsv1.1 are explicit opt-ins for legacy devices.
enum class TlsMethod { Sslv23, Tlsv1, Tlsv1_1, Tlsv1_2, Tlsv1_3 };

struct TlsParams {
    std::string certificate;       // default CFG_DIR/cert.pem
    std::string private_key;       // default CFG_DIR/cert.pem
    std::string certificate2;      // a second certificate of another key type (RSA beside ECDSA); "" = none
    std::string private_key2;      // its key (same tls_private_key_pass)
    std::string ca_list;           // "" = none
    std::string ciphers_list;      // "" = OpenSSL's default
    std::string crl;               // "" = no revocation list
    std::string server_name;       // SNI name selecting this domain ("" = any)
    std::string ocsp_response;     // DER OCSP response to staple ("" = none)
    std::string private_key_pass;  // "file:PATH" or "env:VAR" holding the key's passphrase ("" = key not encrypted)
    TlsMethod method = TlsMethod::Sslv23;
    bool verify = false;
    bool require_certificate = false;
    bool optional_no_ca = false;   // tls_require_certificate=optional_no_ca: ask, accept one of no known CA (unverified)
    int verify_depth = -1;         // tls_verify_depth: most intermediates between peer and CA (-1 = OpenSSL's 100)
    int handshake_timeout = 120;   // seconds
    int send_timeout = 120;        // seconds
    bool crl_expired_warn = false; // tls_crl_expired=warn: a CRL past its next update still counts (logged)
    int handshake_rate = 0;        // tls_handshake_rate: new TLS connections a second on a listener, all processes (0 = no limit)
    std::map<std::string, cfg::Loc, std::less<>> set_at;   // where each parameter was given
};

// tls_domain[addr:port] (server side) or tls_client_domain[addr:port].
struct TlsDomainCfg {
    bool client = false;
    std::string addr;              // numeric
    int family = 0;
    uint16_t port = 0;
    TlsParams params;              // global values overlaid with the block's
    cfg::Loc loc;
};

enum class Parity { None, Even, Odd, Mark, Space };
enum class FlowControl { None, RtsCts, XonXoff };
enum class Framing { Raw, Line };
// What a client is told besides the device's bytes: nothing, or ser2sock's
// status lines ("!SER2SOCK Connected", SERIAL_CONNECTED / _DISCONNECTED).
enum class Banner { None, Ser2sock };

// Where a serial bridge meets the network (listen= and connect= of a serial
// block): a stream for the device's clients, plain tcp or tls. Never udp and
// never a SIP listener, hence a type of its own rather than a ListenCfg.
struct SerialEndpointCfg {
    bool tls = false;      // written tls:..., else tcp:...
    std::string host;      // as written (connect=: kept for SNI and name checks)
    std::string addr;      // numeric address after resolution
    int family = 0;        // AF_INET / AF_INET6
    uint16_t port = 0;
    cfg::Loc loc;

    std::string_view net_name() const { return tls ? "tls" : "tcp"; }
};

// "serial" in any case: the serial bridge's word, which names no SIP transport.
// Configs written when it sat among the transports keep their meaning:
// listen=serial:... is refused as a protocol (never read as a host name), and
// `proto == serial` in a route is accepted and never true.
bool is_serial_word(std::string_view s);

struct SerialCfg {
    std::string device;
    int baudrate = 9600;
    Parity parity = Parity::None;
    int databits = 8;
    int stopbits = 1;
    FlowControl flow_control = FlowControl::None;
    std::vector<SerialEndpointCfg> listens;     // server mode
    std::vector<SerialEndpointCfg> connects;    // client mode
    bool keep_clients = false;
    int reopen_delay = 5000;            // ms
    std::string init_string;
    Framing framing = Framing::Raw;
    int max_clients = 16;
    int client_queue = 262144;          // bytes queued per client before it is dropped
    int connect_buffer = 65536;         // client mode: device bytes kept while the link is down
    Banner banner = Banner::None;
    bool terminal_init = false;         // ser2sock -t: "!", telnet IAC DO LINEMODE, CRLF to each new client
    bool rfc2217 = false;               // Telnet COM Port Control (RFC 2217) on every client
    std::vector<Cidr> allow;            // sources that may connect; empty: any
    cfg::Loc loc;
};

// Where the control role serves JSON-RPC (ctl_socket=): a unix socket path,
// or tcp on an address and port. Not given: /run/ser/ser.ctl.
struct CtlCfg {
    bool enabled = true;            // ctl_socket="none" turns it off
    bool tcp = false;
    bool given = false;             // written in the config, not the default
    std::string path = "/run/ser/ser.ctl";
    std::string addr;               // tcp: numeric
    int family = 0;
    uint16_t port = 0;
    int mode = 0600;                // ctl_mode: the unix socket's permissions
    std::string group;              // ctl_group: its group ("" = ser's own)
    cfg::Loc group_loc;
    bool allow_remote = false;      // ctl_allow_remote: tcp on a non-loopback address
    int max_clients = 8;            // ctl_max_clients
    int timeout = 5;                // ctl_timeout: seconds for a request to arrive whole
    int max_request = 65536;        // ctl_max_request: bytes of one request
    cfg::Loc loc;
};

struct ModuleCfg {
    std::string name;       // sl, maxfwd, rr, textops, tls
    cfg::Loc loc;
};

// One route block: "" for the main route{}, else its index or name.
struct RouteCfg {
    std::string name;
    cfg::ActionList body;
    cfg::Loc loc;
};

struct Config {
    std::string file;                   // path of the main config file
    std::string dir;                    // its directory (CFG_DIR), with trailing '/'
    int debug = 0;
    bool fork = true;
    bool log_stderror = false;
    std::string log_facility = "LOG_DAEMON";
    int children = 2;
    int tcp_children = 2;
    uint16_t port = 5060;
    std::vector<std::string> aliases;
    std::vector<ListenCfg> listens;
    bool disable_tcp = false;
    int tcp_max_connections = 2048;
    int tcp_connection_lifetime = 120;  // seconds
    int tcp_max_msg_size = 65535;       // bytes
    int tcp_connect_timeout = 10;       // seconds
    int tcp_send_timeout = 10;          // seconds
    int tcp_msg_read_timeout = 10;      // seconds from a message's first byte to its last
    int tcp_first_msg_timeout = 10;     // seconds from accept to the first complete message
    int tcp_max_write_queue = 262144;   // bytes queued per connection
    int tcp_max_conns_per_ip = 0;       // accepted stream connections per client address, all workers (0 = any)
    std::vector<Cidr> proxy_protocol_from;  // load balancers that may send a PROXY header
    int udp_max_msg_size = 65535;
    // The resolver of forward() (RFC 3263, c-ares, per process).
    std::vector<std::string> dns_servers;   // "ip", "ip:port", "[ipv6]:port"; empty: resolv.conf
    int dns_timeout = 2000;             // ms per try
    int dns_retries = 1;                // tries after the first, per server
    int dns_cache_size = 1024;          // answers kept per process (0: none)
    int dns_max_pending = 1024;         // requests waiting for an answer per process
    int shm_mem_size = 32;              // MB
    int worker_stall_timeout = 5;       // seconds a child's heartbeat may stand still before main kills it (0 = never)
    std::string ctl_socket = "/run/ser/ser.ctl";   // as written (see ctl)
    CtlCfg ctl;
    std::string metrics_listen;         // "addr:port" of the /metrics endpoint, as written; "" = none
    std::string metrics_addr;           // numeric
    int metrics_family = 0;
    uint16_t metrics_port = 0;
    std::string user, group;
    std::string pid_file;
    bool server_signature = true;
    bool reply_to_invalid = true;       // a 400 naming the defect to a request that did not parse
    bool disable_tls = false;
    TlsParams tls;                      // the global (default) TLS domain
    int tls_reload_check = 60;          // seconds between checks of the TLS files (0 = inotify only)
    int tls_expiry_warn_days = 30;      // warn for certificates and CRLs ending within this many days
    std::string tls_keylog_file;        // NSS key log of every TLS session (Wireshark); "" = none, the default
    std::vector<TlsDomainCfg> tls_domains;
    std::vector<SerialCfg> serials;
    std::vector<ModuleCfg> modules;
    std::vector<RouteCfg> routes;       // routes[0] is the main route when present

    const RouteCfg* find_route(const std::string& name) const;
};

}  // namespace ser
