// libFuzzer target: the RFC 2217 / telnet option parser of a serial bridge
// client (serial::Rfc2217Session) over a fake device. The client's bytes may
// arrive cut anywhere ("sequences may span calls"): whole, split at any one
// byte boundary, or a byte at a time, the session must do the same — the
// same bytes to the device, the same line changes in the same place among
// them, the same replies. Then device bytes go back through to_client(),
// which must double every IAC (or hold them while the client suspended the
// flow), and poll() answers the client's masks.
#include "serial/rfc2217.h"

#include "fuzz_check.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace ser;
using namespace ser::serial;

namespace {

// A device that takes everything (a baud above 4 Mbit/s excepted) and writes
// down what it was asked, with the device bytes so far as the place.
class FakePort final : public ComPort {
public:
    LineSettings ls{9600, 8, Parity::None, 1, FlowControl::None, true};
    bool dtr = true, rts = true, brk = false;
    std::string device;       // every data byte for the device, in order
    std::string calls;        // "set@N", "sig@N", "purge@N", N = device.size() then

    bool line(LineSettings& out) override
    {
        out = ls;
        return true;
    }
    void set_line(const LineSettings& want) override
    {
        calls += "set@" + std::to_string(device.size()) + "=" + std::to_string(want.baud) + "," +
                 std::to_string(want.databits) + "," + std::to_string(static_cast<int>(want.parity)) + "," +
                 std::to_string(want.stopbits) + "," + std::to_string(static_cast<int>(want.flow)) + ";";
        if (want.baud <= 4000000)
            ls = want;
    }
    bool signal(Signal s, bool set, bool on) override
    {
        calls += "sig@" + std::to_string(device.size()) + ";";
        bool& v = s == Signal::Dtr ? dtr : s == Signal::Rts ? rts : brk;
        if (set)
            v = on;
        return v;
    }
    uint8_t modem_lines() override { return 0x30; }
    uint8_t line_state() override { return 0; }
    void purge(uint8_t which) override { calls += "purge@" + std::to_string(device.size()) + "=" + std::to_string(which) + ";"; }
    void write(std::string_view data) override { device.append(data); }
};

struct Result {
    std::string device, calls, replies;
    uint64_t discarded = 0;
    bool suspended = false;
    bool operator==(const Result&) const = default;
};

Result run(std::string_view in, const std::vector<size_t>& cuts, bool check_after)
{
    FakePort port;
    Rfc2217Session s(port, "fuzz", "ser fuzz /dev/null", 4096);
    Result r;
    r.replies = s.greeting();
    size_t at = 0;
    auto feed = [&](std::string_view piece) {
        Rfc2217Session::Out out;
        s.input(piece, out);
        port.write(out.device);   // as the bridge does with what is left
        r.replies += out.reply;
    };
    for (size_t c : cuts) {
        feed(in.substr(at, c - at));
        at = c;
    }
    feed(in.substr(at));
    r.device = port.device;
    r.calls = port.calls;
    r.discarded = s.discarded_subnegs();
    r.suspended = s.suspended();
    if (check_after) {
        // Device bytes back to the client: the input again as device data.
        std::string esc;
        bool ok = s.to_client(in, esc);
        if (!s.suspended()) {
            FUZZ_CHECK(ok);
            std::string undone;
            for (size_t i = 0; i < esc.size(); i++) {
                undone += esc[i];
                if (static_cast<uint8_t>(esc[i]) == telnet::kIac) {
                    FUZZ_CHECK(i + 1 < esc.size() && static_cast<uint8_t>(esc[i + 1]) == telnet::kIac);
                    i++;
                }
            }
            FUZZ_CHECK(undone == in);
            FUZZ_CHECK(iac_escape(in) == esc);
        } else {
            FUZZ_CHECK(esc.empty() || ok);
        }
        uint8_t modem = in.empty() ? 0 : static_cast<uint8_t>(in[0]);
        uint8_t line = in.size() < 2 ? 0 : static_cast<uint8_t>(in[1]);
        s.poll(modem, line);
    }
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static bool quiet = (fuzz::quiet_log(), true);
    (void)quiet;
    if (size > 2048)
        return 0;   // the splits below cost O(size^2)
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const Result whole = run(in, {}, true);
    std::vector<size_t> every;
    for (size_t k = 1; k < size; k++) {
        FUZZ_CHECK(run(in, {k}, false) == whole);
        every.push_back(k);
    }
    FUZZ_CHECK(run(in, every, false) == whole);
    return 0;
}
