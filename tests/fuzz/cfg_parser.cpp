// libFuzzer target: ser.cfg text through the Flex lexer and Bison grammar
// (cfg.lex, cfg.y via cfg::parse_text) and then the checker, as `ser -c`
// does (cfg::load_config_text), without resolving names or opening files.
// Whatever the text, the answer is a config or diagnostics; a failed load
// names at least one error.
#include "cfg/cfg_check.h"
#include "cfg/cfg_parse.h"

#include "fuzz_check.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace ser;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static bool quiet = (fuzz::quiet_log(), true);
    (void)quiet;
    std::string text(reinterpret_cast<const char*>(data), size);
    cfg::CheckOptions opt;
    opt.resolve_hosts = false;
    opt.check_files = false;
    cfg::CheckResult r = cfg::load_config_text(text, "fuzz.cfg", opt);
    if (!r.ok()) {
        bool error = false;
        for (const cfg::Diag& d : r.diags) {
            error = error || d.level == cfg::Diag::Level::Error;
            FUZZ_CHECK(!d.str().empty());
        }
        FUZZ_CHECK(error);
    }
    return 0;
}
