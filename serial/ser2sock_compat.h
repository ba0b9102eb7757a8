#pragma once
// ser --ser2sock: ser2sock's command line (-p -s -i -b -d -0 -t -g -c -w -e
// -f -P) and its ser2sock.conf become a ser Config with one serial block.
// Nothing is checked twice: the settings are turned into the AST a ser.cfg
// with that block would give, and core/cfg's checker does the rest (ports,
// baud rates, TLS files), reporting at the conf line or option they came from.
//
//   conf file (default /etc/ser2sock/ser2sock.conf) --read_conf-->  Settings
//   argv (wins over the file)                        --parse_args-->  Settings
//   Settings --build_ast--> cfg::File --cfg::check--> Config

#include "proc/serial_hook.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ser::serial::ser2sock {

// One setting as given: its value and where, for messages.
struct Setting {
    std::string value;
    cfg::Loc loc;           // the conf line, or "command line: -p 10000" (line 0)
    std::string origin;     // "port = 10000" or "-p 10000"
};

// ser2sock's settings by their conf-file names (device, port, ...); the
// command-line-only ones apart.
struct Settings {
    std::map<std::string, Setting, std::less<>> keys;
    std::string conf_path;      // -f, else the default
    bool conf_given = false;    // -f was on the command line
    bool conf_read = false;
    int debug_level = 0;        // -g (ser2sock's 0..3)
    bool help = false;          // -h, -help
    bool foreground = false;    // ser's -D
    bool log_stderr = false;    // ser's -E

    const Setting* get(std::string_view key) const;
};

// Where ser2sock keeps its files; tests point them elsewhere.
struct Paths {
    std::string conf = "/etc/ser2sock/ser2sock.conf";
    std::string crl = "/etc/ser2sock/ser2sock.crl";           // used with -e when it exists
    std::string pid_file = "/var/run/ser2sock.pid";           // with -d, unless -P / pid_file
};

// Every key ser2sock's conf file knows.
const std::vector<std::string_view>& conf_keys();

// Reads conf-file text as ser2sock does (key = value lines, # and ; comments,
// [sections]); unknown keys and odd lines are warnings at their file:line.
void read_conf(std::string_view text, const std::string& path, Settings& s, cfg::Diags& d);

// Reads ser2sock's command line (args without the program name) into `s`.
// False, with the reason in `err`, on an option ser2sock (or ser) does not know.
bool parse_args(const std::vector<std::string>& args, Settings& s, std::string& err);

// The whole translation: args, then the conf file they name, then the check.
Ser2sockLaunch translate(const std::vector<std::string>& args, const Paths& paths,
                         const cfg::CheckOptions& opt = {});

// The text of -h.
std::string usage_text();

}  // namespace ser::serial::ser2sock
