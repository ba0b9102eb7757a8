// libFuzzer target: the control socket's JSON-RPC 2.0 request handling
// (ctl::Rpc::handle) with every real command registered (ctl::add_methods)
// over a Runtime that has its shared memory, connection table and counters
// but no children. The input is one line as the control role gets it from
// its line framer (trailing LF and CR trimmed, blank lines ignored). The
// answer is nothing (notifications) or JSON text: one response object, or
// an array of them, each with "jsonrpc":"2.0" and a result or an error.
#include "cfg/cfg_check.h"
#include "ctl/ctl_methods.h"
#include "ctl/ctl_rpc.h"
#include "proc/runtime.h"

#include "fuzz_check.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace ser;
using ser::ctl::json;

namespace {

struct World {
    Config cfg;
    Runtime rt;
    ctl::Rpc rpc;

    World()
    {
        cfg::CheckOptions opt;
        opt.resolve_hosts = false;
        opt.check_files = false;
        cfg::CheckResult r = cfg::load_config_text(
            "listen=udp:127.0.0.1:5060\nlisten=tcp:127.0.0.1:5060\ntcp_max_connections=64\n"
            "route { forward(10.0.0.2, 5070); }\n",
            "fuzz.cfg", opt);
        FUZZ_CHECK(r.ok());
        cfg = std::move(r.config);
        FUZZ_CHECK(rt.map_shared_memory(cfg, 4).empty());
        rt.stats = Stats::create(*rt.shm, 1 + kSpareStatsSlots, 0);
        FUZZ_CHECK(rt.stats);
        ctl::add_methods(rpc, rt);
    }
};

void check_response(const json& r)
{
    FUZZ_CHECK(r.is_object());
    FUZZ_CHECK(r.contains("jsonrpc") && r["jsonrpc"] == "2.0");
    FUZZ_CHECK(r.contains("id"));
    FUZZ_CHECK(r.contains("result") != r.contains("error"));
    if (r.contains("error")) {
        const json& e = r["error"];
        FUZZ_CHECK(e.is_object() && e.contains("code") && e["code"].is_number_integer());
        FUZZ_CHECK(e.contains("message") && e["message"].is_string());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static bool quiet = (fuzz::quiet_log(), true);
    static World w;
    (void)quiet;
    std::string line(reinterpret_cast<const char*>(data), size);
    // One frame of the control role's line framer, as Control::frame trims it.
    if (size_t lf = line.find('\n'); lf != std::string::npos)
        line.resize(lf);
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos)
        return 0;
    std::string out = w.rpc.handle(line);
    fuzz::quiet_log();   // log.level may have changed it
    if (out.empty())
        return 0;
    FUZZ_CHECK(out.back() == '\n');
    json r = json::parse(out, nullptr, false);
    FUZZ_CHECK(!r.is_discarded());
    if (r.is_array()) {
        FUZZ_CHECK(!r.empty());
        for (const json& one : r)
            check_response(one);
    } else {
        check_response(r);
    }
    return 0;
}
