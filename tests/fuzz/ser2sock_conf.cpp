// libFuzzer target: the ser2sock.conf reader of `ser --ser2sock`
// (serial::ser2sock::read_conf), then the whole translation as ser runs it
// (translate(): the conf file read from disk, turned into a serial block and
// checked by core/cfg), without resolving names or opening TLS files. Every
// setting read keeps the value of a line of the file and a line number in it.
#include "serial/ser2sock_compat.h"

#include "fuzz_check.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace ser;
namespace s2s = ser::serial::ser2sock;

namespace {

// The conf file translate() reads: one per fuzzing process, rewritten per input.
std::string conf_path()
{
    char tmpl[] = "/tmp/ser-fuzz-ser2sock.XXXXXX";
    int fd = mkstemp(tmpl);
    FUZZ_CHECK(fd >= 0);
    close(fd);
    return tmpl;
}

void write_file(const std::string& path, std::string_view text)
{
    FILE* f = std::fopen(path.c_str(), "wb");
    FUZZ_CHECK(f);
    FUZZ_CHECK(std::fwrite(text.data(), 1, text.size(), f) == text.size());
    std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static bool quiet = (fuzz::quiet_log(), true);
    static const std::string path = conf_path();
    static const int removed = std::atexit([] { unlink(path.c_str()); });
    (void)quiet;
    (void)removed;
    std::string_view text(reinterpret_cast<const char*>(data), size);

    s2s::Settings s;
    cfg::Diags d;
    s2s::read_conf(text, "fuzz.conf", s, d);
    size_t lines = 1;
    for (char c : text)
        lines += c == '\n';
    for (const auto& [key, set] : s.keys) {
        FUZZ_CHECK(!key.empty());
        FUZZ_CHECK(set.loc.line >= 1 && static_cast<size_t>(set.loc.line) <= lines);
        FUZZ_CHECK(set.value.size() <= text.size());
    }
    for (const cfg::Diag& x : d.take())
        FUZZ_CHECK(!x.str().empty());

    write_file(path, text);
    s2s::Paths paths;
    paths.conf = path;
    paths.crl = "/nonexistent/ser-fuzz.crl";
    paths.pid_file = "/nonexistent/ser-fuzz.pid";
    cfg::CheckOptions opt;
    opt.resolve_hosts = false;
    opt.check_files = false;
    Ser2sockLaunch l = s2s::translate({}, paths, opt);
    if (l.exit_code < 0 && !l.res.ok()) {
        bool error = false;
        for (const cfg::Diag& x : l.res.diags)
            error = error || x.level == cfg::Diag::Level::Error;
        FUZZ_CHECK(error);
    }
    return 0;
}
