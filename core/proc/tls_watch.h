#pragma once
// Watching the TLS files for a reload without a signal. inotify watches the
// directory of each file (and of what a symbolic link points to), so a new
// file renamed into place — as certbot and ACME clients do — is seen as well
// as one rewritten in place; a periodic stat of the files (tls_reload_check)
// covers file systems where inotify sees nothing (NFS, some containers).
// A change is acted on once the files have been quiet for a moment, and
// only when what the files are (device, inode, size, times) differs from
// what the last attempt read: a broken file is tried, and logged, once per
// change, never again until it changes.

#include <cstdint>
#include <string>
#include <vector>

namespace ser {

class TlsWatch {
public:
    // `files`: the paths a reload reads; `check_s`: seconds between
    // periodic checks (0 = none). Nothing is watched when files is empty.
    TlsWatch(std::vector<std::string> files, int check_s);
    ~TlsWatch();
    TlsWatch(const TlsWatch&) = delete;
    TlsWatch& operator=(const TlsWatch&) = delete;

    // The inotify descriptor to poll for reading, or -1.
    int fd() const { return fd_; }
    // Reads the pending events (after fd() polled readable).
    void on_readable(int64_t now_ms);
    // True when the files differ from the last attempt and have been quiet
    // long enough (or the periodic check found them changed).
    bool due(int64_t now_ms);
    // Records the files as they are now, right before a reload (good or
    // refused) reads them; a change after this is a change again. Also
    // watches the directories of new link targets.
    void begin_attempt();
    // How long main may sleep before due() could change, in milliseconds.
    int timeout_ms(int64_t now_ms, int cap_ms) const;

    // Quiet time after the last event, and the longest an event waits.
    static constexpr int kQuietMs = 250;
    static constexpr int kMaxWaitMs = 1000;

private:
    std::string signature() const;
    void add_watches();

    std::vector<std::string> files_;
    std::vector<std::string> dirs_;   // already watched
    int check_ms_;
    int fd_ = -1;
    std::string last_;
    int64_t first_event_ = 0, last_event_ = 0;   // 0 = nothing pending
    int64_t next_check_ = 0;
};

// The run-time side of certificate and CRL expiry, in main: a warning once a
// day per certificate or CRL inside tls_expiry_warn_days, an error once a day
// for an expired certificate, and once an hour for a CRL past its next update
// (with tls_crl_expired=refuse it refuses every client certificate).
class TlsExpiry {
public:
    // Reads the files afresh at most every kEveryS seconds (and at the first call).
    void check(const struct Config& cfg, int64_t now_s);
    static constexpr int kEveryS = 600;

private:
    bool due(const std::string& key, int64_t now_s, int64_t every_s);
    std::vector<std::pair<std::string, int64_t>> last_;   // what was logged, when
    int64_t next_ = 0;
};

}  // namespace ser
