#include "log.h"

#include "clock.h"

#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace ser::log {
namespace {

int g_level = 2;          // Notice
std::atomic<int>* g_shared_level = nullptr;
bool g_stderr = true;
char g_role[32] = "main";

int facility_of(const char* name)
{
    static const struct { const char* n; int f; } map[] = {
        {"LOG_DAEMON", LOG_DAEMON}, {"LOG_USER", LOG_USER}, {"LOG_LOCAL0", LOG_LOCAL0},
        {"LOG_LOCAL1", LOG_LOCAL1}, {"LOG_LOCAL2", LOG_LOCAL2}, {"LOG_LOCAL3", LOG_LOCAL3},
        {"LOG_LOCAL4", LOG_LOCAL4}, {"LOG_LOCAL5", LOG_LOCAL5}, {"LOG_LOCAL6", LOG_LOCAL6},
        {"LOG_LOCAL7", LOG_LOCAL7}};
    for (const auto& m : map)
        if (std::strcmp(m.n, name) == 0)
            return m.f;
    return LOG_DAEMON;
}

int syslog_prio(Level l)
{
    switch (l) {
    case Level::Alert: return LOG_ALERT;
    case Level::Crit: return LOG_CRIT;
    case Level::Err: return LOG_ERR;
    case Level::Warn: return LOG_WARNING;
    case Level::Notice: return LOG_NOTICE;
    case Level::Info: return LOG_INFO;
    case Level::Debug: return LOG_DEBUG;
    }
    return LOG_INFO;
}

const char* level_name(Level l)
{
    switch (l) {
    case Level::Alert: return "ALERT";
    case Level::Crit: return "CRIT";
    case Level::Err: return "ERROR";
    case Level::Warn: return "WARNING";
    case Level::Notice: return "NOTICE";
    case Level::Info: return "INFO";
    case Level::Debug: return "DEBUG";
    }
    return "?";
}

}  // namespace

void init(int debug_level, bool to_stderr, const char* facility)
{
    g_level = debug_level;
    if (g_shared_level)
        g_shared_level->store(debug_level, std::memory_order_relaxed);
    g_stderr = to_stderr;
    if (!to_stderr)
        openlog("ser", LOG_PID | LOG_NDELAY, facility_of(facility));
}

void share_level(std::atomic<int>* shared)
{
    shared->store(g_level, std::memory_order_relaxed);
    g_shared_level = shared;
}

void set_level(int debug_level)
{
    g_level = debug_level;
    if (g_shared_level)
        g_shared_level->store(debug_level, std::memory_order_relaxed);
}

int level()
{
    return g_shared_level ? g_shared_level->load(std::memory_order_relaxed) : g_level;
}

void set_role(const char* role)
{
    std::snprintf(g_role, sizeof g_role, "%s", role);
}

bool enabled(Level l)
{
    return static_cast<int>(l) <= (g_shared_level ? g_shared_level->load(std::memory_order_relaxed) : g_level);
}

namespace flood {
namespace {

struct Site {
    const char* fmt = nullptr;
    int64_t window_start = 0;
    int in_window = 0;
    uint64_t held = 0;
};
Site g_sites[kSites];

}  // namespace

void reset()
{
    for (Site& x : g_sites)
        x = Site{};
}

bool allow(const char* site, int64_t now, Held* repeated, int* n_repeated, int max_repeated)
{
    *n_repeated = 0;
    Site* mine = nullptr;
    Site* free_slot = nullptr;
    for (Site& x : g_sites) {
        // Any site whose window is over and that held lines back says so now.
        if (x.fmt && x.held && now - x.window_start >= kWindowMs && *n_repeated < max_repeated) {
            repeated[(*n_repeated)++] = Held{x.fmt, x.held};
            x.held = 0;
        }
        if (x.fmt == site)
            mine = &x;
        else if (!x.fmt && !free_slot)
            free_slot = &x;
    }
    if (!mine) {
        if (!free_slot)
            return true;   // table full: this site goes unlimited
        mine = free_slot;
        mine->fmt = site;
        mine->window_start = now;
    }
    if (now - mine->window_start >= kWindowMs) {
        mine->window_start = now;
        mine->in_window = 0;
    }
    if (mine->in_window >= kBurst) {
        mine->held++;
        return false;
    }
    mine->in_window++;
    return true;
}

}  // namespace flood

namespace {

void emit(Level l, const char* msg)
{
    if (!g_stderr) {
        syslog(syslog_prio(l), "%s: %s", g_role, msg);
        return;
    }
    // One write(2) per line so lines of different processes never interleave.
    char line[2200];
    int n = std::snprintf(line, sizeof line, "%s[%d] %s: %s\n", g_role, static_cast<int>(getpid()),
                          level_name(l), msg);
    if (n > 0)
        (void)!::write(2, line, static_cast<size_t>(n) < sizeof line ? n : sizeof line - 1);
}

}  // namespace

namespace {

void vwrite(Level l, bool limited, const char* fmt, va_list ap)
{
    if (limited) {
        flood::Held rep[8];
        int n_rep = 0;
        bool ok = flood::allow(fmt, now_ms(), rep, &n_rep, 8);
        for (int i = 0; i < n_rep; i++) {
            char note[256];
            std::snprintf(note, sizeof note, "last message repeated %llu times: \"%.160s\"",
                          static_cast<unsigned long long>(rep[i].count), rep[i].site);
            emit(Level::Notice, note);
        }
        if (!ok)
            return;
    }
    char msg[2048];
    int len = std::vsnprintf(msg, sizeof msg, fmt, ap);
    // Script log() texts end in "\n" as in SER; the line break is ours to add.
    for (len = std::min<int>(len, sizeof msg - 1); len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'); len--)
        msg[len - 1] = '\0';
    emit(l, msg);
}

}  // namespace

void write(Level l, const char* fmt, ...)
{
    // Errors, warnings and notices: what a flood is made of. Info and debug
    // lines are asked for (debug=3/4) one per event and are never held back,
    // unless the call site says a peer can make them at will (write_limited).
    va_list ap;
    va_start(ap, fmt);
    vwrite(l, l == Level::Err || l == Level::Warn || l == Level::Notice, fmt, ap);
    va_end(ap);
}

void write_limited(Level l, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwrite(l, true, fmt, ap);
    va_end(ap);
}

}  // namespace ser::log
