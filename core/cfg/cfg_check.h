#pragma once
// Gives meaning to the AST of a ser.cfg: every name is looked up in a table,
// every value converted and range-checked, addresses resolved, route blocks
// checked. The result is a Config plus diagnostics "file:line:col: message".

#include "cfg/cfg_ast.h"
#include "cfg/config.h"

#include <string>
#include <vector>

namespace ser::cfg {

struct Diag {
    enum class Level { Error, Warning, Notice };
    Level level = Level::Error;
    Loc loc;
    std::string msg;
    std::string str() const;   // "file:line:col: error: msg"
};

struct CheckOptions {
    bool resolve_hosts = true;   // resolve host names of listen= and blocks
    bool check_files = true;     // open certificate/key/CA/CRL files (TLS)
};

struct CheckResult {
    Config config;
    std::vector<Diag> diags;
    bool ok() const;             // no Error among diags
};

// Collects diagnostics for one check run; shared by the cfg_*.cpp passes.
class Diags {
public:
    void error(const Loc& l, std::string m) { add(Diag::Level::Error, l, std::move(m)); }
    void warning(const Loc& l, std::string m) { add(Diag::Level::Warning, l, std::move(m)); }
    void notice(const Loc& l, std::string m) { add(Diag::Level::Notice, l, std::move(m)); }
    // A warning about a value several blocks inherit from one line: said
    // once per line (the first warning there that contains `key`).
    void warning_once(const Loc& l, std::string_view key, std::string m)
    {
        for (const Diag& d : list_)
            if (d.level == Diag::Level::Warning && d.loc.str() == l.str() && d.msg.find(key) != std::string::npos)
                return;
        warning(l, std::move(m));
    }
    std::vector<Diag> take() { return std::move(list_); }
private:
    void add(Diag::Level lv, const Loc& l, std::string m) { list_.push_back(Diag{lv, l, std::move(m)}); }
    std::vector<Diag> list_;
};

// Checks a parsed file; `path` is the main config file (its directory is CFG_DIR).
CheckResult check(const File& ast, const std::string& path, const CheckOptions& opt = {});

// Parses and checks `path`; a syntax error is returned as an Error diag.
CheckResult load_config(const std::string& path, const CheckOptions& opt = {});

// Same, from text in memory (tests, the embedded default config).
CheckResult load_config_text(std::string_view text, const std::string& name,
                             const CheckOptions& opt = {});

// The closest of `candidates` to `word` by edit distance, or "" if none is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

// --- passes, each in its own file ---------------------------------------

// cfg_params.cpp: one assignment at top level, inside tls_domain or serial.
enum class Ctx { Global, TlsDomain, Serial };
struct ParamTargets {
    Config* cfg = nullptr;
    TlsParams* tls = nullptr;
    SerialCfg* serial = nullptr;
};
void apply_param(const Assign& a, Ctx ctx, ParamTargets t, const CheckOptions& opt, Diags& d);
// Names of every parameter valid in `ctx` (for "did you mean").
std::vector<std::string_view> param_names(Ctx ctx);

// cfg_listen.cpp: listen=/connect= values and address keys of tls_domain blocks.
bool parse_listen(const Value& v, uint16_t default_port, bool resolve, ListenCfg& out, Diags& d);
bool parse_addr_port(const Value& v, bool resolve, std::string& addr, int& family,
                     uint16_t& port, Diags& d);

// cfg_routes.cpp: checks route blocks against the action and condition tables.
void check_routes(Config& cfg, Diags& d);

// tls/tls_config.cpp (or the no-TLS stub): files and TLS-only checks.
bool tls_compiled_in();
void check_tls_material(const Config& cfg, const CheckOptions& opt, Diags& d);

}  // namespace ser::cfg
