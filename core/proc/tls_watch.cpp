// TLS file watching (see tls_watch.h).
#include "proc/tls_watch.h"

#include "cfg/config.h"
#include "io/tls_hooks.h"
#include "log.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace ser {
namespace {

std::string dir_of(const std::string& path)
{
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

TlsWatch::TlsWatch(std::vector<std::string> files, int check_s) : files_(std::move(files)), check_ms_(check_s * 1000)
{
    if (files_.empty())
        return;
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0)
        LOG_WARN("TLS files are not watched (inotify: %s); %s", std::strerror(errno),
                 check_ms_ ? "they are checked every tls_reload_check seconds" : "only SIGHUP and tls.reload reload them");
    add_watches();
    last_ = signature();
}

TlsWatch::~TlsWatch()
{
    if (fd_ >= 0)
        close(fd_);
}

void TlsWatch::add_watches()
{
    if (fd_ < 0)
        return;
    for (const std::string& f : files_) {
        std::vector<std::string> dirs{dir_of(f)};
        char real[PATH_MAX];
        if (realpath(f.c_str(), real))
            dirs.push_back(dir_of(real));
        for (const std::string& d : dirs) {
            if (std::find(dirs_.begin(), dirs_.end(), d) != dirs_.end())
                continue;
            uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB | IN_MODIFY;
            if (inotify_add_watch(fd_, d.c_str(), mask) < 0) {
                LOG_WARN("TLS files in %s are not watched (inotify: %s)%s", d.c_str(), std::strerror(errno),
                         check_ms_ ? "; they are checked every tls_reload_check seconds" : "");
                continue;
            }
            dirs_.push_back(d);
        }
    }
}

std::string TlsWatch::signature() const
{
    std::string s;
    for (const std::string& f : files_) {
        struct stat st;
        if (stat(f.c_str(), &st) != 0) {
            s += "missing:" + std::to_string(errno) + ";";
            continue;
        }
        s += std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
             std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
             std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec) + ";";
    }
    return s;
}

void TlsWatch::on_readable(int64_t now)
{
    alignas(inotify_event) char buf[4096];
    bool any = false;
    // Bounded: the queue holds what arrived; each read takes up to 4 KB of it.
    for (int i = 0; i < 64; i++) {
        ssize_t n = read(fd_, buf, sizeof buf);
        if (n <= 0)
            break;
        any = true;
    }
    if (!any)
        return;
    if (!first_event_)
        first_event_ = now;
    last_event_ = now;
}

bool TlsWatch::due(int64_t now)
{
    if (files_.empty())
        return false;
    bool look = false;
    if (first_event_ && (now - last_event_ >= kQuietMs || now - first_event_ >= kMaxWaitMs)) {
        first_event_ = last_event_ = 0;
        look = true;
    }
    if (check_ms_ && now >= next_check_) {
        next_check_ = now + check_ms_;
        look = true;
    }
    return look && signature() != last_;
}

void TlsWatch::begin_attempt()
{
    last_ = signature();
    add_watches();
}

int TlsWatch::timeout_ms(int64_t now, int cap_ms) const
{
    if (files_.empty())
        return cap_ms;   // nothing is checked: next_check_ never moves
    int64_t t = cap_ms;
    if (first_event_)
        t = std::min<int64_t>(t, std::max<int64_t>(0, std::min(last_event_ + kQuietMs, first_event_ + kMaxWaitMs) - now));
    if (check_ms_)
        t = std::min<int64_t>(t, std::max<int64_t>(0, next_check_ - now));
    return static_cast<int>(t);
}

bool TlsExpiry::due(const std::string& key, int64_t now, int64_t every)
{
    for (auto& [k, at] : last_)
        if (k == key) {
            if (now - at < every)
                return false;
            at = now;
            return true;
        }
    last_.emplace_back(key, now);   // bounded by the domains of the config
    return true;
}

void TlsExpiry::check(const Config& cfg, int64_t now)
{
    if (now < next_)
        return;
    next_ = now + kEveryS;
    constexpr int64_t kDay = 86400, kHour = 3600;
    int64_t window = static_cast<int64_t>(cfg.tls_expiry_warn_days) * kDay;
    for (const TlsDomainInfo& d : tls_domain_info(cfg)) {
        if (d.not_after && d.not_after < now) {
            if (due(d.name + "|cert-expired", now, kDay))
                LOG_ERR("%s: tls_certificate \"%s\" EXPIRED %lld day(s) ago: peers refuse it; put a new one in place "
                        "(ser takes it without a signal)", d.name.c_str(), d.certificate.c_str(),
                        static_cast<long long>((now - d.not_after) / kDay));
        } else if (d.not_after && d.not_after - now < window) {
            if (due(d.name + "|cert-soon", now, kDay))
                LOG_WARN("%s: tls_certificate \"%s\" expires in %lld day(s) (tls_expiry_warn_days=%d): renew it",
                         d.name.c_str(), d.certificate.c_str(), static_cast<long long>((d.not_after - now) / kDay),
                         cfg.tls_expiry_warn_days);
        }
        if (d.crl_next_update && d.crl_next_update < now) {
            if (due(d.name + "|crl-expired", now, kHour))
                LOG_ERR("%s: tls_crl \"%s\" is PAST ITS NEXT UPDATE (%lld hour(s) ago)%s; issue a new CRL "
                        "(ser-certs crl), ser takes it without a signal", d.name.c_str(), d.crl.c_str(),
                        static_cast<long long>((now - d.crl_next_update) / kHour),
                        cfg.tls.crl_expired_warn ? "" : ": every client certificate checked against it is refused");
        } else if (d.crl_next_update && d.crl_next_update - now < window) {
            if (due(d.name + "|crl-soon", now, kDay))
                LOG_WARN("%s: tls_crl \"%s\" reaches its next update in %lld day(s): issue a new one (ser-certs crl)",
                         d.name.c_str(), d.crl.c_str(), static_cast<long long>((d.crl_next_update - now) / kDay));
        }
    }
}

}  // namespace ser
