// libFuzzer target: one UDP datagram through the proxy (Proxy::on_message as
// the UDP receiver calls it) with a sender that keeps what would leave.
// Whatever is sent — a forwarded request, a routed response, a local reply —
// must be a message that frames exactly: it parses, and its header block plus
// Content-Length bytes is all of it (nothing smuggled after the body); sent
// on a stream it carries Content-Length and the stream framer cuts it whole.
//
// The first input byte picks the script (UDP forward with record_route and
// local replies, or forward_tcp); the rest is the datagram. Scripts only name
// numeric next hops: the fuzzer must not make the proxy ask DNS.
#include "cfg/cfg_check.h"
#include "proxy/proxy.h"
#include "shm/shm.h"
#include "shm/stats.h"
#include "sip/sip_framing.h"
#include "sip/sip_msg.h"

#include "fuzz_check.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace ser;

namespace {

SockAddr numeric(std::string_view ip, uint16_t port)
{
    return *SockAddr::from_numeric(ip, port);
}

class CaptureSender final : public Sender {
public:
    CaptureSender()
    {
        ls_.push_back(ListenAddr{Proto::Udp, numeric("127.0.0.1", 5060), "127.0.0.1:5060"});
        ls_.push_back(ListenAddr{Proto::Tcp, numeric("127.0.0.1", 5060), "127.0.0.1:5060"});
        ls_.push_back(ListenAddr{Proto::Udp, numeric("::1", 5060), "[::1]:5060"});
    }
    bool send(const SendTarget& t, std::string_view data) override
    {
        sent.push_back({t.proto, std::string(data)});
        return true;
    }
    const ListenAddr* pick_listener(Proto p, const SockAddr& dst) const override
    {
        for (const ListenAddr& l : ls_)
            if (l.proto == p && l.addr.family() == dst.family())
                return &l;
        return nullptr;
    }
    const std::vector<ListenAddr>& listeners() const override { return ls_; }

    struct Out {
        Proto proto;
        std::string data;
    };
    std::vector<ListenAddr> ls_;
    std::vector<Out> sent;
};

const char* const kScripts[] = {
    "route {\n"
    "  if (!mf_process_maxfwd_header(\"10\")) { sl_send_reply(\"483\", \"Too Many Hops\"); break; };\n"
    "  if (uri == myself) {\n"
    "    if (method == \"OPTIONS\") { sl_send_reply(\"200\", \"OK\"); break; };\n"
    "    if (method != \"ACK\") { sl_send_reply(\"404\", \"Not Found\"); };\n"
    "    break;\n"
    "  };\n"
    "  record_route();\n"
    "  forward(10.0.0.2, 5070);\n"
    "}\n",
    "route { forward_tcp(10.0.0.2, 5070); }\n",
};
constexpr size_t kNScripts = sizeof kScripts / sizeof kScripts[0];

struct Instance {
    Config cfg;
    CaptureSender sender;
    std::unique_ptr<Proxy> proxy;
};

struct World {
    std::optional<Shm> shm = Shm::create(1 << 16);
    Stats* stats = shm ? Stats::create(*shm, 1, 3) : nullptr;
    std::unique_ptr<Instance> inst[kNScripts];

    World()
    {
        FUZZ_CHECK(stats);
        for (size_t i = 0; i < kNScripts; i++) {
            cfg::CheckOptions opt;
            opt.check_files = false;
            std::string text = std::string("listen=udp:127.0.0.1:5060\nlisten=tcp:127.0.0.1:5060\n") + kScripts[i];
            cfg::CheckResult r = cfg::load_config_text(text, "fuzz.cfg", opt);
            if (!r.ok()) {
                for (const auto& d : r.diags)
                    std::fprintf(stderr, "%s\n", d.str().c_str());
                FUZZ_CHECK(r.ok());
            }
            inst[i] = std::make_unique<Instance>();
            inst[i]->cfg = std::move(r.config);
            inst[i]->proxy = std::make_unique<Proxy>(inst[i]->cfg, inst[i]->sender, *stats->slot(0));
        }
    }
};

// Every message sent: header block plus Content-Length bytes, all of it
// (on UDP, RFC 3261 §20.14 lets a message without Content-Length end with
// its datagram).
// A forwarded one (a request sent on as a request, a routed response) also
// parses again as ser parsed it; a local reply may echo a malformed header
// of the request it answers (RFC 3261 §8.2.6.2 copies them), so only its
// framing is checked.
void check_sent(const CaptureSender::Out& o, bool forwarded, size_t max)
{
    sip::Frame f = sip::next_frame(o.data, max);
    if (o.proto == Proto::Udp && f.status == sip::FrameStatus::Error && f.error == "missing Content-Length on stream")
        f = sip::Frame{sip::FrameStatus::Message, o.data.size(), {}};
    if (f.status != sip::FrameStatus::Message || f.length != o.data.size())
        std::fprintf(stderr, "sent message does not frame (%s, %zu of %zu bytes):\n%s\n", f.error.c_str(), f.length,
                     o.data.size(), o.data.c_str());
    FUZZ_CHECK(f.status == sip::FrameStatus::Message);
    FUZZ_CHECK(f.length == o.data.size());
    if (!forwarded)
        return;
    sip::SipMsg m;
    sip::ParseResult r = sip::parse_message(o.data, m, max);
    if (!r.ok)
        std::fprintf(stderr, "forwarded message does not parse (%s):\n%s\n", r.error.c_str(), o.data.c_str());
    FUZZ_CHECK(r.ok);
    if (proto_is_stream(o.proto) || m.content_length >= 0)
        FUZZ_CHECK(m.content_length >= 0 && m.headers_end + static_cast<size_t>(m.content_length) == o.data.size());
    FUZZ_CHECK(m.body_end() == o.data.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static bool quiet = (fuzz::quiet_log(), true);
    static World w;
    (void)quiet;
    if (size < 1)
        return 0;
    Instance& in = *w.inst[data[0] % kNScripts];
    // As the UDP receiver: tiny datagrams are skipped, big ones dropped.
    std::string dgram(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (dgram.size() <= 4 || dgram.size() >= static_cast<size_t>(in.cfg.udp_max_msg_size))
        return 0;
    RecvInfo ri;
    ri.proto = Proto::Udp;
    ri.src = numeric("10.0.0.1", 5062);
    ri.dst = numeric("127.0.0.1", 5060);
    ri.listener = &in.sender.ls_[0];
    in.sender.sent.clear();
    in.proxy->on_message(dgram, ri);
    const size_t max = 1 << 20;   // framing is the point here, not the peer's size limit
    sip::SipMsg inmsg;
    bool in_ok = sip::parse_message(dgram, inmsg, static_cast<size_t>(in.cfg.udp_max_msg_size)).ok;
    for (const CaptureSender::Out& o : in.sender.sent) {
        bool out_request = o.data.compare(0, 8, "SIP/2.0 ") != 0;
        check_sent(o, in_ok && (!inmsg.is_request || out_request), max);
    }
    return 0;
}
