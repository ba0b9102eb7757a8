#pragma once
// The one logger of ser: levels as in SER (debug= -3..4), to stderr (-E or
// log_stderror) or syslog. Every line carries the process role and pid.

#include <atomic>
#include <cstdarg>
#include <cstdint>

namespace ser::log {

enum class Level : int { Alert = -3, Crit = -2, Err = -1, Warn = 1, Notice = 2, Info = 3, Debug = 4 };

// Set once in main (and re-read in children after fork: it is plain memory).
void init(int debug_level, bool to_stderr, const char* facility);
// Role printed in each line, e.g. "main", "udp#1", "tcp#0"; set after fork.
void set_role(const char* role);
bool enabled(Level l);
// From now on the level lives at `shared` (shared memory, placed before
// fork): set_level in any process changes it for every process at once.
void share_level(std::atomic<int>* shared);
void set_level(int debug_level);
int level();
void write(Level l, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// write() with the flood limit below at any level: for info lines a peer can
// cause at will (one per malformed message), which must not flood the log.
void write_limited(Level l, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Floods: each call site (its format string) may log kBurst lines per
// kWindowMs; the rest of the window is counted, and "last message repeated N
// times" follows once the window is over (with that site's next line, or any
// later line). Only errors, warnings and notices are limited: info and debug
// lines (asked for with debug=3/4) and critical ones never are. Per
// process, a fixed table of kSites sites (a site beyond it is not limited).
namespace flood {
inline constexpr int kBurst = 10;
inline constexpr int64_t kWindowMs = 1000;
inline constexpr int kSites = 64;
// Whether the line of `site` at `now_ms` is written; when a past window of
// that site (or of any site whose window is over) held lines back, `repeated`
// gets their counts and formats, to be said first. Exposed for tests.
struct Held {
    const char* site;
    uint64_t count;
};
bool allow(const char* site, int64_t now_ms, Held* repeated, int* n_repeated, int max_repeated);
void reset();
}  // namespace flood

}  // namespace ser::log

// Level-checked logging; arguments are not evaluated when the level is off.
#define SER_LOG(lvl, ...) do { if (::ser::log::enabled(lvl)) ::ser::log::write(lvl, __VA_ARGS__); } while (0)
#define LOG_CRIT(...)   SER_LOG(::ser::log::Level::Crit, __VA_ARGS__)
#define LOG_ERR(...)    SER_LOG(::ser::log::Level::Err, __VA_ARGS__)
#define LOG_WARN(...)   SER_LOG(::ser::log::Level::Warn, __VA_ARGS__)
#define LOG_NOTICE(...) SER_LOG(::ser::log::Level::Notice, __VA_ARGS__)
#define LOG_INFO(...)   SER_LOG(::ser::log::Level::Info, __VA_ARGS__)
// An info line a peer can cause at will, limited like a notice.
#define LOG_INFO_LIMITED(...) do { if (::ser::log::enabled(::ser::log::Level::Info)) ::ser::log::write_limited(::ser::log::Level::Info, __VA_ARGS__); } while (0)
#define LOG_DBG(...)    SER_LOG(::ser::log::Level::Debug, __VA_ARGS__)
