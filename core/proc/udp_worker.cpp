#include "proc/udp_worker.h"

#include "log.h"
#include "shm/heartbeat.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace ser {

int run_udp_receiver(Runtime& rt, size_t udp_idx, size_t k, StatsSlot stats, const DgramHandler& h,
                     const volatile sig_atomic_t& stop, PollDns* dns)
{
    const UdpListener& u = rt.udp[udp_idx];
    const ListenAddr& la = rt.listen_addrs[u.listen_idx];
    int li = static_cast<int>(u.listen_idx);
    int fd = u.fds[k];
    // One byte more than the limit tells an oversized datagram from one that fits.
    size_t cap = static_cast<size_t>(rt.cfg->udp_max_msg_size) + 1;
    std::unique_ptr<char[]> buf(new char[cap]);
    RecvInfo ri;
    ri.proto = Proto::Udp;
    ri.dst = la.addr;
    ri.listener = &la;
    // poll, then read until the socket is empty: under load one wake-up
    // serves several datagrams. (A blocking recvfrom per datagram saves the
    // poll and the empty read but wakes once per datagram; measured with
    // bench/cpu_per_msg.sh udp 1000 20000: 10.8 us/msg against 9.4.)
    std::vector<pollfd> set;
    while (!stop) {
        heartbeat::beat();   // main's stall check (shm/heartbeat.h); poll waits at most 500 ms
        set.assign(1, pollfd{fd, POLLIN, 0});
        if (dns)
            dns->add_to(set);
        int pr = poll(set.data(), set.size(), dns ? dns->timeout_ms(500) : 500);
        if (dns && pr >= 0)
            dns->dispatch(set, 1);
        if (pr <= 0 || !set[0].revents)
            continue;
        for (int i = 0; i < 256 && !stop; i++) {
            ri.src.len = sizeof ri.src.ss;
            ssize_t n = recvfrom(fd, buf.get(), cap, MSG_TRUNC, ri.src.sa(), &ri.src.len);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                    LOG_ERR("recvfrom on %s failed: %s", la.addr.str().c_str(), std::strerror(errno));
                break;
            }
            // RFC 5626 keep-alives on UDP are STUN, and a lone CRLF is noise: skip tiny datagrams.
            if (n <= 4)
                continue;
            stats.msg_in(Proto::Udp, li);
            if (static_cast<size_t>(n) >= cap) {
                stats.count(DropReason::TooLarge);
                LOG_INFO("datagram of %zd bytes from %s over udp_max_msg_size: dropped", n, ri.src.str().c_str());
                continue;
            }
            h(std::string_view(buf.get(), static_cast<size_t>(n)), ri);
        }
    }
    return 0;
}

}  // namespace ser
