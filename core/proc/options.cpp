#include "proc/options.h"

#include "cfg/default_cfg.h"

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace ser {

std::string default_cfg_file()
{
#ifdef SER_CFG_FILE
    return SER_CFG_FILE;
#else
    return {};
#endif
}

std::string usage_text(const char* prog)
{
    std::string dflt = default_cfg_file();
    if (dflt.empty())
        dflt = "the embedded " + default_cfg_name();
    return std::string("usage: ") + prog + " [options]\n"
           "  -f FILE   configuration file (default: " + dflt + ")\n"
           "  -c        check the configuration and exit (0 = good, 1 = errors)\n"
           "  -D        stay in the foreground (no daemon)\n"
           "  -E        log to stderr instead of syslog\n"
           "  -d        more debug output (repeat for more)\n"
           "  -P FILE   write the main process id to FILE\n"
           "  -u USER   run as USER after binding the listeners\n"
           "  -g GROUP  run as GROUP after binding the listeners\n"
           "  -m MB     shared memory size in MB (overrides shm_mem_size)\n"
           "  -V        print version, build options and OpenSSL versions, and exit (also --version)\n"
           "  -h        print this help and exit (also --help)\n"
           "  --ser2sock ARGS...  run as ser2sock: ARGS and ser2sock.conf are ser2sock's\n"
           "            (first argument only; --ser2sock -h lists them)\n";
}

std::optional<Options> parse_options(int argc, char** argv, std::string& error)
{
    Options o;
    // A drop-in for ser2sock: `ser --ser2sock ...`, or ser under that name.
    const char* base = argc > 0 ? std::strrchr(argv[0], '/') : nullptr;
    base = base ? base + 1 : (argc > 0 ? argv[0] : "");
    if (std::strcmp(base, "ser2sock") == 0 || (argc > 1 && std::strcmp(argv[1], "--ser2sock") == 0)) {
        o.ser2sock = true;
        o.ser2sock_argi = std::strcmp(base, "ser2sock") == 0 ? 1 : 2;
        return o;
    }
    o.cfg_file = default_cfg_file();
    for (int i = 1; i < argc; i++) {
        const char* a = argv[i];
        if (std::strcmp(a, "--ser2sock") == 0) {
            error = "--ser2sock must be the first argument: what follows it is ser2sock's command line";
            return std::nullopt;
        }
        if (a[0] != '-' || a[1] == '\0') {
            error = std::string("unexpected argument \"") + a + "\"";
            return std::nullopt;
        }
        if (a[1] == '-') {
            std::string_view l = a;
            if (l == "--help")
                o.help = true;
            else if (l == "--version")
                o.version = true;
            else {
                error = std::string("unknown option ") + a;
                return std::nullopt;
            }
            continue;
        }
        // Flags may be grouped as in SER: -DDE, -dd.
        for (const char* f = a + 1; *f; f++) {
            auto value = [&](std::string& dst) -> bool {
                if (f[1]) { dst = f + 1; }
                else if (i + 1 < argc) { dst = argv[++i]; }
                else { error = std::string("option -") + *f + " needs a value"; return false; }
                f += std::strlen(f) - 1;
                return true;
            };
            std::string v;
            switch (*f) {
            case 'f': if (!value(o.cfg_file)) return std::nullopt; break;
            case 'P': if (!value(o.pid_file)) return std::nullopt; break;
            case 'u': if (!value(o.user)) return std::nullopt; break;
            case 'g': if (!value(o.group)) return std::nullopt; break;
            case 'm': {
                if (!value(v)) return std::nullopt;
                char* end = nullptr;
                long mb = std::strtol(v.c_str(), &end, 10);
                if (*end || mb < 1 || mb > 65536) {
                    error = "option -m: \"" + v + "\" is not a size in MB (1..65536)";
                    return std::nullopt;
                }
                o.shm_mb = static_cast<int>(mb);
                break;
            }
            case 'c': o.check_only = true; break;
            case 'D': o.foreground = true; break;
            case 'E': o.log_stderr = true; break;
            case 'd': o.debug_bump++; break;
            case 'V': o.version = true; break;
            case 'h': o.help = true; break;
            default:
                error = std::string("unknown option -") + *f;
                return std::nullopt;
            }
        }
    }
    return o;
}

}  // namespace ser
