// serctl — the command line of ser's control socket: sends one JSON-RPC 2.0
// request (one line) and prints the answer as a table or as "key: value"
// lines, or as JSON with --json.
//
//   serctl [-s SOCKET] [-t SECONDS] [--json] [-a] COMMAND [ARGS...]
//
// Exit codes: 0 done; 1 the server answered with an error; 2 usage;
// 3 ser cannot be reached; 4 no usable answer (timeout, not JSON).
#include <nlohmann/json.hpp>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

using json = nlohmann::ordered_json;

namespace {

constexpr const char* kDefaultSocket = "/run/ser/ser.ctl";

const char* kUsage =
    "usage: serctl [-s SOCKET] [-t SECONDS] [--json] [-a] COMMAND [ARGS...]\n"
    "  -s SOCKET   unix:/path, /path or tcp:HOST:PORT (default $SER_CTL, else /run/ser/ser.ctl)\n"
    "  -t SECONDS  how long to wait for ser (default 10)\n"
    "  --json      print the result as JSON\n"
    "  -a          stats: also the counters that are zero\n"
    "commands: serctl help lists what the server offers (core.ps, tcp.list, tls.list, tls.info,\n"
    "  tls.reload, serial.list, stats, stats.reset, conn.close ID, log.level [N], metrics, ...);\n"
    "  ps, version and uptime are short for core.ps, core.version and core.uptime.\n";

struct Failure {
    int code;
    std::string msg;
};

[[noreturn]] void die(int code, const std::string& msg)
{
    throw Failure{code, msg};
}

int connect_to(const std::string& where, int timeout_s)
{
    std::string s = where;
    if (s.rfind("tcp:", 0) == 0) {
        std::string hp = s.substr(4);
        size_t colon = hp.rfind(':');
        if (colon == std::string::npos)
            die(2, "-s " + where + ": expected tcp:HOST:PORT");
        std::string host = hp.substr(0, colon), port = hp.substr(colon + 1);
        if (host.size() > 1 && host.front() == '[' && host.back() == ']')
            host = host.substr(1, host.size() - 2);
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res)
            die(3, "cannot reach ser at " + where + ": unknown address");
        int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
        int e = errno;
        freeaddrinfo(res);
        if (rc != 0)
            die(3, "cannot reach ser at " + where + ": " + std::strerror(e) + " (is ser running with this ctl_socket?)");
        return fd;
    }
    if (s.rfind("unix:", 0) == 0)
        s = s.substr(5);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (s.size() >= sizeof sun.sun_path)
        die(2, "-s " + where + ": the path is too long for a unix socket");
    std::memcpy(sun.sun_path, s.data(), s.size());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die(3, std::string("socket(): ") + std::strerror(errno));
    if (connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
        int e = errno;
        ::close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            die(3, "cannot reach ser at " + s + ": " + (e == ENOENT ? "no such socket" : "nobody listens there") +
                       " (is ser running? is its ctl_socket elsewhere? use -s)");
        if (e == EACCES || e == EPERM)
            die(3, "cannot reach ser at " + s + ": permission denied (the socket is for the user ser runs as; "
                   "run serctl as that user or root, or widen it with ctl_mode/ctl_group)");
        die(3, "cannot reach ser at " + s + ": " + std::strerror(e));
    }
    (void)timeout_s;
    return fd;
}

json call(const std::string& where, int timeout_s, const std::string& method, const json& params)
{
    int fd = connect_to(where, timeout_s);
    std::string req = json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", 1}}.dump() + "\n";
    for (size_t off = 0; off < req.size();) {
        ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
        if (n <= 0)
            die(3, std::string("sending to ser: ") + std::strerror(errno));
        off += static_cast<size_t>(n);
    }
    std::string buf;
    char chunk[65536];
    while (buf.empty() || buf.back() != '\n') {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, timeout_s * 1000) <= 0)
            die(4, "no answer from ser within " + std::to_string(timeout_s) + " s");
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            break;
        buf.append(chunk, static_cast<size_t>(n));
    }
    ::close(fd);
    json r = json::parse(buf, nullptr, false);
    if (r.is_discarded() || !r.is_object())
        die(4, "ser's answer is not JSON-RPC: " + buf.substr(0, 200));
    return r;
}

// ---- human output ----

std::string human_bytes(double v)
{
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    char b[32];
    std::snprintf(b, sizeof b, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return b;
}

std::string human_secs(long long s)
{
    char b[48];
    if (s < 60)
        std::snprintf(b, sizeof b, "%llds", s);
    else if (s < 3600)
        std::snprintf(b, sizeof b, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        std::snprintf(b, sizeof b, "%lldh%02lldm", s / 3600, s / 60 % 60);
    else
        std::snprintf(b, sizeof b, "%lldd%02lldh", s / 86400, s / 3600 % 24);
    return b;
}

std::string cell(const std::string& key, const json& v)
{
    if (v.is_null())
        return "-";
    if (v.is_string())
        return v.get<std::string>().empty() ? "-" : v.get<std::string>();
    if (v.is_boolean())
        return v.get<bool>() ? "yes" : "no";
    if (v.is_number()) {
        bool bytes = key.rfind("bytes", 0) == 0 || key == "rx" || key == "tx" || key == "size" || key == "used" ||
                     key == "free" || key == "dropped";
        if (bytes)
            return human_bytes(v.get<double>());
        if (key.size() > 2 && key.compare(key.size() - 2, 2, "_s") == 0 && v.is_number_integer())
            return human_secs(v.get<long long>());
        if (v.is_number_float()) {
            char b[32];
            std::snprintf(b, sizeof b, "%.2f", v.get<double>());
            return b;
        }
        return v.dump();
    }
    return v.dump();
}

// The columns a command's rows are shown with (others are left to --json).
std::vector<std::string> columns_for(const std::string& method, const json& first)
{
    static const std::map<std::string, std::vector<std::string>> known = {
        {"system.listMethods", {"name", "params", "help"}},
        {"core.ps", {"pid", "role", "name", "detail", "restarts", "cpu_s"}},
        {"tcp.list", {"id", "proto", "direction", "local", "remote", "via", "owner", "state", "age_s", "idle_s", "bytes_in",
                      "bytes_out", "msgs_in", "msgs_out"}},
        {"tls.list", {"id", "direction", "remote", "via", "owner", "tls_version", "cipher", "peer_subject", "verified",
                      "sni", "resumed", "age_s", "bytes_in", "bytes_out"}},
        {"tls.info", {"domain", "side", "subject", "expires_in_days", "crl_next_update_in_days", "ocsp_status",
                      "certificate"}},
        {"serial.list", {"device", "state", "baudrate", "line", "rx", "tx", "reopens", "dropped"}},
        {"serial.clients", {"conn", "kind", "address", "tls_version", "cipher", "peer_subject", "rx", "tx"}},
        {"listeners", {"listener", "in", "out"}},
    };
    if (auto it = known.find(method); it != known.end())
        return it->second;
    std::vector<std::string> cols;
    for (auto& [k, v] : first.items())
        if (!v.is_structured())
            cols.push_back(k);
    return cols;
}

void table(const std::string& method, const json& rows, const std::string& indent = "")
{
    if (rows.empty()) {
        std::cout << indent << "(none)\n";
        return;
    }
    std::vector<std::string> cols = columns_for(method, rows[0]);
    std::vector<std::vector<std::string>> cells;
    std::vector<size_t> width(cols.size());
    for (size_t c = 0; c < cols.size(); c++)
        width[c] = cols[c].size();
    for (const json& r : rows) {
        std::vector<std::string> line;
        for (size_t c = 0; c < cols.size(); c++) {
            std::string s = r.contains(cols[c]) ? cell(cols[c], r[cols[c]]) : "-";
            width[c] = std::max(width[c], s.size());
            line.push_back(std::move(s));
        }
        cells.push_back(std::move(line));
    }
    auto print = [&](const std::vector<std::string>& line) {
        std::string out = indent;
        for (size_t c = 0; c < line.size(); c++) {
            out += line[c];
            if (c + 1 < line.size())
                out += std::string(width[c] - line[c].size() + 2, ' ');
        }
        std::cout << out << '\n';
    };
    std::vector<std::string> head;
    for (auto& c : cols) {
        std::string h = c;
        for (auto& ch : h)
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        head.push_back(h);
    }
    print(head);
    for (size_t i = 0; i < cells.size(); i++) {
        print(cells[i]);
        // A serial device's clients, under it.
        if (method == "serial.list" && rows[i].contains("clients") && !rows[i]["clients"].empty())
            table("serial.clients", rows[i]["clients"], indent + "    ");
    }
}

bool all_zero(const json& v)
{
    if (v.is_number())
        return v.get<double>() == 0;
    if (v.is_object() || v.is_array()) {
        for (auto& [k, x] : v.items())
            if (!all_zero(x))
                return false;
        return true;
    }
    return false;
}

void keyvals(const json& o, bool all, const std::string& indent = "")
{
    for (auto& [k, v] : o.items()) {
        if (!all && !indent.empty() && all_zero(v))
            continue;   // inside a group, zero counters only with -a
        if (v.is_object()) {
            if (!all && all_zero(v)) {
                std::cout << indent << k << ": (all zero)\n";
                continue;
            }
            std::cout << indent << k << ":\n";
            keyvals(v, all, indent + "  ");
        } else if (v.is_array() && !v.empty() && v[0].is_object()) {
            std::cout << indent << k << ":\n";
            table(k, v, indent + "  ");
        } else {
            std::cout << indent << k << ": " << cell(k, v) << '\n';
        }
    }
}

void show(const std::string& method, const json& result, bool all)
{
    if (result.is_string())
        std::cout << result.get<std::string>() << (result.get<std::string>().ends_with("\n") ? "" : "\n");
    else if (result.is_array() && (result.empty() || result[0].is_object()))
        table(method, result);
    else if (result.is_object())
        keyvals(result, all);
    else
        std::cout << result.dump() << '\n';
}

}  // namespace

int main(int argc, char** argv)
{
    std::string where = std::getenv("SER_CTL") ? std::getenv("SER_CTL") : kDefaultSocket;
    int timeout_s = 10;
    bool as_json = false, all = false;
    std::string method;
    json params = json::array();
    bool opts = true;
    // Options anywhere (serctl stats --json); after "--" everything is an argument.
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (opts && a == "--") {
            opts = false;
        } else if (opts && (a == "-s" || a == "-t")) {
            if (i + 1 >= argc) {
                std::cerr << "serctl: " << a << " needs a value\n" << kUsage;
                return 2;
            }
            std::string v = argv[++i];
            if (a == "-s")
                where = v;
            else
                timeout_s = std::max(1, std::atoi(v.c_str()));
        } else if (opts && (a == "--json" || a == "-j")) {
            as_json = true;
        } else if (opts && (a == "-a" || a == "--all")) {
            all = true;
        } else if (opts && (a == "-h" || a == "--help")) {
            std::cout << kUsage;
            return 0;
        } else if (opts && (a == "--version" || a == "-V")) {
            std::cout << "serctl " << SER_VERSION << '\n';
            return 0;
        } else if (opts && a.size() > 1 && a[0] == '-' && !std::isdigit(static_cast<unsigned char>(a[1]))) {
            std::cerr << "serctl: unknown option " << a << "\n" << kUsage;
            return 2;
        } else if (method.empty()) {
            method = a;
        } else {
            params.push_back(a);
        }
    }
    if (method.empty()) {
        std::cerr << "serctl: no command\n" << kUsage;
        return 2;
    }
    static const std::map<std::string, std::string> alias = {
        {"help", "system.listMethods"}, {"ps", "core.ps"}, {"version", "core.version"}, {"uptime", "core.uptime"}};
    if (auto it = alias.find(method); it != alias.end())
        method = it->second;
    try {
        json r = call(where, timeout_s, method, params);
        if (r.contains("error")) {
            const json& e = r["error"];
            std::cerr << "serctl: " << method << ": " << e.value("message", std::string("error")) << " (code "
                      << e.value("code", 0) << ")\n";
            return 1;
        }
        if (!r.contains("result"))
            die(4, "ser's answer has neither result nor error");
        if (as_json)
            std::cout << r["result"].dump(2, ' ', false, json::error_handler_t::replace) << '\n';
        else
            show(method, r["result"], all);
        return 0;
    } catch (const Failure& f) {
        std::cerr << "serctl: " << f.msg << '\n';
        return f.code;
    }
}
