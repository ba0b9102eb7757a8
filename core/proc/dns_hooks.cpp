// The workers' event loops for the resolver: dns_hooks.h.
#include "proc/dns_hooks.h"

#include "clock.h"

#include <algorithm>

namespace ser {

void ConnLoopDns::attach(dns::Resolver& r)
{
    res_ = &r;
    loop_.add_tick([this] { res_->on_timer(); });
}

void ConnLoopDns::dns_watch(int fd, bool readable, bool writable)
{
    if (!readable && !writable) {
        if (fds_.erase(fd))
            loop_.unwatch(fd);
        return;
    }
    if (fds_.insert(fd).second)
        loop_.watch(fd, [this, fd] {
            if (res_)
                res_->on_fd(fd);
        });
    loop_.watch_writable(fd, writable);
}

void PollDns::dns_watch(int fd, bool readable, bool writable)
{
    if (!readable && !writable)
        fds_.erase(fd);
    else
        fds_[fd] = static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
}

void PollDns::add_to(std::vector<pollfd>& set) const
{
    for (const auto& [fd, ev] : fds_)
        set.push_back(pollfd{fd, ev, 0});
}

int PollDns::timeout_ms(int max_ms) const
{
    if (wake_ms_ == 0)
        return max_ms;
    return static_cast<int>(std::clamp<int64_t>(wake_ms_ - now_ms(), 0, max_ms));
}

void PollDns::dispatch(const std::vector<pollfd>& set, size_t from)
{
    if (!res_)
        return;
    for (size_t i = from; i < set.size(); i++)
        if (set[i].revents && fds_.count(set[i].fd))
            res_->on_fd(set[i].fd);
    if (wake_ms_ && now_ms() >= wake_ms_) {
        wake_ms_ = 0;
        res_->on_timer();
    }
}

}  // namespace ser
