#pragma once
// The proxy's unit-test harness: a FakeSender that records what was sent
// where, and a Harness of one Proxy over one script that counts into its own
// statistics. Shared by the proxy fixtures.
#include "cfg/cfg_check.h"
#include "proxy/proxy.h"
#include "shm/shm.h"
#include "shm/stats.h"

#include "../test_util.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ser::test {

inline SockAddr addr(std::string_view ip, uint16_t port)
{
    return *SockAddr::from_numeric(ip, port);
}

struct Sent {
    SendTarget t;
    std::string data;
};

class FakeSender : public Sender {
public:
    FakeSender()
    {
        ls_.push_back(ListenAddr{Proto::Udp, addr("127.0.0.1", 5060), "127.0.0.1:5060"});
        ls_.push_back(ListenAddr{Proto::Tcp, addr("127.0.0.1", 5060), "127.0.0.1:5060"});
        ls_.push_back(ListenAddr{Proto::Tls, addr("127.0.0.1", 5061), "127.0.0.1:5061"});
    }
    bool send(const SendTarget& t, std::string_view data) override
    {
        if (ok)
            sent.push_back(Sent{t, std::string(data)});
        else
            refused++;
        return ok;
    }
    const ListenAddr* pick_listener(Proto p, const SockAddr& dst) const override
    {
        for (const ListenAddr& l : ls_)
            if (l.proto == p && l.addr.family() == dst.family())
                return &l;
        return nullptr;
    }
    const std::vector<ListenAddr>& listeners() const override { return ls_; }

    std::vector<ListenAddr> ls_;
    std::vector<Sent> sent;
    bool ok = true;
    int refused = 0;
};

// One proxy over one script and a FakeSender, counting into slot 0 of its own statistics.
struct Harness {
    explicit Harness(std::string_view script, std::string_view globals = "")
    {
        cfg::CheckOptions opt;
        opt.check_files = false;
        std::string text = "listen=udp:127.0.0.1:5060\nlisten=tcp:127.0.0.1:5060\n" + std::string(globals) + "\n" +
                           std::string(script);
        auto res = cfg::load_config_text(text, "test.cfg", opt);
        std::string diags;
        for (const auto& d : res.diags)
            diags += d.str() + "\n";
        CPPUNIT_ASSERT_MESSAGE(diags, res.ok());
        cfg = std::move(res.config);
        CPPUNIT_ASSERT(counts);
        proxy = std::make_unique<Proxy>(cfg, sender, *counts->slot(0));
        ri.src = addr("10.0.0.1", 5062);
        ri.dst = addr("127.0.0.1", 5060);
        ri.listener = &sender.ls_[0];
    }
    // Feeds msg (LF line ends become CRLF) and returns what was sent.
    const std::vector<Sent>& feed(std::string_view msg, Proto proto = Proto::Udp, uint32_t conn = 0)
    {
        return feed_raw(crlf(msg), proto, conn);
    }
    // Feeds msg exactly as given.
    const std::vector<Sent>& feed_raw(std::string msg, Proto proto = Proto::Udp, uint32_t conn = 0)
    {
        sender.sent.clear();
        ri.proto = proto;
        ri.conn_id = conn;
        buf = std::move(msg);
        proxy->on_message(buf, ri);
        return sender.sent;
    }
    const std::string& out(size_t i = 0) const { return sender.sent.at(i).data; }
    StatsSnapshot stats() const { return counts->sum(); }

    std::optional<Shm> shm = Shm::create(1 << 16);
    Stats* counts = shm ? Stats::create(*shm, 1, 3) : nullptr;
    Config cfg;
    FakeSender sender;
    std::unique_ptr<Proxy> proxy;
    RecvInfo ri;
    std::string buf;
};

}  // namespace ser::test
