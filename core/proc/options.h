#pragma once
// The command line of ser (SER's flags): -f -c -D -E -d -P -u -g -m -V -h,
// --help / --version, and --ser2sock, after which the command line is ser2sock's.

#include <optional>
#include <string>

namespace ser {

struct Options {
    std::string cfg_file;          // -f, else default_cfg_file(); empty = the embedded default config
    bool check_only = false;       // -c
    bool foreground = false;       // -D
    bool log_stderr = false;       // -E
    int debug_bump = 0;            // each -d adds one
    std::string pid_file;          // -P
    std::string user, group;       // -u / -g
    int shm_mb = 0;                // -m (0 = config's shm_mem_size)
    bool version = false;          // -V
    bool help = false;             // -h
    bool ser2sock = false;         // --ser2sock, or started under the name ser2sock:
    int ser2sock_argi = 0;         //   argv[ser2sock_argi..] is ser2sock's command line
};

// Parses argv; on a bad flag returns nullopt and sets `error`.
std::optional<Options> parse_options(int argc, char** argv, std::string& error);

// The config file read without -f: SER_CFG_FILE when the binary was built
// with it (an installed ser: the Makefile sets it from PREFIX), else "" (a
// development build runs its embedded default config).
std::string default_cfg_file();

// The text printed by -h.
std::string usage_text(const char* prog);

}  // namespace ser
