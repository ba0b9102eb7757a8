#include "log.h"

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

void write(Level l, const char* fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int len = std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    // Script log() texts end in "\n" as in SER; the line break is ours to add.
    for (len = std::min<int>(len, sizeof msg - 1); len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'); len--)
        msg[len - 1] = '\0';
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

}  // namespace ser::log
