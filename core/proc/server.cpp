// The main process after the config checked clean: set up the runtime, drop
// privileges, fork the children of every registered role, and supervise them:
// a child that dies is logged and restarted with back-off; one whose heartbeat
// stands still for worker_stall_timeout is killed and then restarted the same
// way; SIGTERM/SIGINT stop everything. Nothing here knows a particular role.
#include "proc/server.h"

#include "clock.h"
#include "log.h"
#include "proc/privileges.h"
#include "proc/proc_title.h"
#include "proc/runtime.h"
#include "proc/tls_watch.h"
#include "io/transport.h"
#include "shm/heartbeat.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <vector>

namespace ser {
namespace {

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_hup = 0;
volatile sig_atomic_t g_usr1 = 0;

void on_stop(int) { g_stop = 1; }
void on_hup(int) { g_hup = 1; }
void on_usr1(int) { g_usr1 = 1; }
void on_chld(int) {}

// One child process of a role, alive or waiting for its restart.
struct Child {
    const Role* role = nullptr;
    size_t index = 0;            // within its role
    ChildName name;
    uint32_t stats_slot = 0;     // its slot in Runtime::stats
    pid_t pid = 0;
    int64_t started_ms = 0;
    int64_t restart_at_ms = 0;   // when dead: earliest restart
    int64_t backoff_ms = 100;
    bool spawned_before = false; // a start after this is a restart (core.ps)
    bool stall_killed = false;   // main sent it SIGKILL for a stall; not reaped yet
};

void set_signals()
{
    struct sigaction sa{};
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, nullptr);
    sa.sa_handler = on_chld;
    sigaction(SIGCHLD, &sa, nullptr);
    // SER and Kamailio operators send USR1 for the statistics: main logs
    // them; nothing else of a packager's habit (USR2, PIPE) ends ser.
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, nullptr);
    signal(SIGUSR2, SIG_IGN);
    signal(SIGALRM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
}

bool spawn(Runtime& rt, Child& ch)
{
    pid_t parent = getpid();
    // Its heartbeat starts now: a child gets the whole stall timeout to
    // reach its loop.
    if (rt.procs)
        rt.procs->reset_beat(ch.stats_slot - 1, now_ms());
    pid_t pid = fork();
    if (pid < 0) {
        LOG_ERR("fork failed: %s", std::strerror(errno));
        return false;
    }
    if (pid == 0) {
        // A child never outlives main, even when main is killed with SIGKILL.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)   // main died before the line above took effect
            _exit(0);
        // Ctrl-C reaches the whole process group; stopping is main's call,
        // and main stops its children with SIGTERM.
        signal(SIGINT, SIG_IGN);
        signal(SIGUSR1, SIG_IGN);   // main answers it for all
        g_stop = 0;
        log::set_role(ch.name.tag.c_str());
        heartbeat::bind(rt.procs ? rt.procs->beat_cell(ch.stats_slot - 1) : nullptr);
        set_proc_title(child_title(*ch.role, ch.name), ("ser: " + ch.name.tag).c_str());
        ChildEnv env{rt, ch.index, g_stop, g_hup, ch.stats_slot};
        _exit(ch.role->run(env));
    }
    ch.pid = pid;
    ch.started_ms = now_ms();
    if (rt.procs)
        rt.procs->started(ch.stats_slot - 1, pid, wall_ms(), ch.spawned_before);
    ch.spawned_before = true;
    return true;
}

void daemonize()
{
    pid_t pid = fork();
    if (pid < 0) {
        LOG_CRIT("fork failed: %s", std::strerror(errno));
        _exit(1);
    }
    if (pid > 0)
        _exit(0);
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        close(null);
    }
}

void reap_and_restart(Runtime& rt, std::vector<Child>& kids)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (auto& ch : kids) {
            if (ch.pid != pid)
                continue;
            if (g_stop) {   // going down anyway: neither an error nor a restart
                ch.pid = 0;
                continue;
            }
            int64_t now = now_ms();
            if (ch.stall_killed)
                LOG_NOTICE("%s (pid %d) reaped after its stall; restarting", ch.name.tag.c_str(), pid);
            else if (WIFSIGNALED(st))
                LOG_ERR("%s (pid %d) killed by signal %d; restarting", ch.name.tag.c_str(), pid, WTERMSIG(st));
            else
                LOG_ERR("%s (pid %d) exited with %d; restarting", ch.name.tag.c_str(), pid, WEXITSTATUS(st));
            // Back-off doubles while a child keeps dying young, up to 10 s. A
            // stalled child comes back after the shortest one: the stall
            // timeout already spaces its restarts, and its service is down.
            ch.backoff_ms = now - ch.started_ms < 10000 && !ch.stall_killed
                                ? std::min<int64_t>(ch.backoff_ms * 2, 10000) : 100;
            ch.restart_at_ms = now + ch.backoff_ms;
            ch.pid = 0;
            ch.stall_killed = false;
            if (rt.procs)
                rt.procs->died(ch.stats_slot - 1);
            if (ch.role->on_died)
                ch.role->on_died(rt, ch.index);
        }
    }
    for (auto& ch : kids)
        if (ch.pid == 0 && !g_stop && now_ms() >= ch.restart_at_ms)
            spawn(rt, ch);
}

// The stall check, once per turn of main's loop. A child whose heartbeat has
// not moved for worker_stall_timeout is stuck (a loop that never comes back,
// a call that blocks, SIGSTOP): it is killed with SIGKILL, which also ends a
// stopped process, and reap_and_restart then treats it as any child that
// died (on_died, back-off, restart). Its listening sockets stay open in main,
// so what the kernel queued on them waits for the new child.
//
// At most one child is killed per second, the one stalled longest: a child
// stopped while holding a shared lock (the connection table's) stalls the
// others that wait for the lock too, and they move again once its death
// releases the lock. After a TLS reload (SIGHUP) each child rebuilds its
// contexts inside its loop: `grace_until` stretches the limit by what that
// took main.
struct StallWatch {
    int64_t quiet_until = 0;   // no kill before this (monotonic ms)
    int64_t grace_until = 0;   // heartbeats count from at least this

    void check(Runtime& rt, std::vector<Child>& kids)
    {
        int64_t limit = rt.cfg->worker_stall_timeout * 1000LL;
        int64_t now = now_ms();
        if (limit <= 0 || !rt.procs || now < quiet_until)
            return;
        Child* worst = nullptr;
        int64_t worst_age = limit;
        for (auto& ch : kids) {
            if (ch.pid <= 0 || ch.stall_killed)
                continue;
            int64_t age = now - std::max(rt.procs->last_beat(ch.stats_slot - 1), grace_until);
            if (age > worst_age) {
                worst = &ch;
                worst_age = age;
            }
        }
        if (!worst)
            return;
        LOG_ERR("%s (pid %d) stalled for %lld ms (worker_stall_timeout=%d s); killing and restarting",
                worst->name.tag.c_str(), worst->pid, static_cast<long long>(worst_age), rt.cfg->worker_stall_timeout);
        kill(worst->pid, SIGKILL);
        worst->stall_killed = true;
        Stats::local().count(Stat::WorkersStalled);
        quiet_until = now + 1000;
    }
};

void stop_children(std::vector<Child>& kids)
{
    for (auto& ch : kids)
        if (ch.pid > 0)
            kill(ch.pid, SIGTERM);
    int64_t deadline = now_ms() + 2000;
    size_t alive = kids.size();
    while (alive > 0 && now_ms() < deadline) {
        alive = 0;
        for (auto& ch : kids) {
            if (ch.pid > 0 && waitpid(ch.pid, nullptr, WNOHANG) == ch.pid)
                ch.pid = 0;
            alive += ch.pid > 0;
        }
        if (alive)
            poll(nullptr, 0, 20);
    }
    for (auto& ch : kids)
        if (ch.pid > 0) {
            LOG_WARN("%s (pid %d) did not stop in 2 s: killing it", ch.name.tag.c_str(), ch.pid);
            kill(ch.pid, SIGKILL);
            waitpid(ch.pid, nullptr, 0);
        }
}

// Raises the descriptor limit to its hard maximum; warns when a worker could
// still run out before the connection table is full.
void raise_fd_limit(const Config& cfg)
{
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t need = static_cast<rlim_t>(cfg.tcp_max_connections) + 256;
    if (rl.rlim_cur < need)
        LOG_WARN("tcp_max_connections=%d but a process may open only %llu files: connections beyond that are "
                 "refused; raise the limit (ulimit -n, LimitNOFILE=)", cfg.tcp_max_connections,
                 static_cast<unsigned long long>(rl.rlim_cur));
}

}  // namespace

int run_server(const Config& cfg, const Options& opt, const RoleTable& roles)
{
    set_proc_title("ser: main", nullptr);
    // Until the handlers are in place (after set-up, which may take a while
    // with many TLS domains), a reload or statistics signal must not end ser.
    for (int sig : {SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE})
        signal(sig, SIG_IGN);
    bool to_stderr = opt.log_stderr || cfg.log_stderror;
    log::init(cfg.debug + opt.debug_bump, to_stderr, cfg.log_facility.c_str());
    raise_fd_limit(cfg);
    Runtime rt;
    rt.run_user = opt.user.empty() ? cfg.user : opt.user;
    rt.run_group = opt.group.empty() ? cfg.group : opt.group;
    std::string err = rt.setup(cfg, opt.shm_mb, roles);
    if (!err.empty()) {
        LOG_CRIT("%s", err.c_str());
        if (!to_stderr)
            std::fprintf(stderr, "ser: %s\n", err.c_str());
        return 1;
    }
    if (!opt.foreground && cfg.fork)
        daemonize();
    std::string pid_file = opt.pid_file.empty() ? cfg.pid_file : opt.pid_file;
    if (!pid_file.empty()) {
        std::ofstream(pid_file) << getpid() << '\n';
    }
    err = drop_privileges(opt.user.empty() ? cfg.user : opt.user, opt.group.empty() ? cfg.group : opt.group);
    if (!err.empty()) {
        LOG_CRIT("%s", err.c_str());
        return 1;
    }
    set_signals();
    std::vector<Child> kids;
    for (const Role& r : roles.roles())
        for (size_t i = 0, n = r.count(rt); i < n; i++)
            kids.push_back(Child{&r, i, r.child_name(rt, i)});
    // Statistics slot 0 is main's; a child keeps its slot across restarts.
    for (size_t k = 0; k < kids.size(); k++) {
        kids[k].stats_slot = static_cast<uint32_t>(k + 1);
        if (rt.procs)
            rt.procs->describe(static_cast<uint32_t>(k), kids[k].role->name, kids[k].name.tag, kids[k].name.detail);
    }
    if (rt.procs)
        rt.procs->set_main(getpid(), wall_ms());
    if (rt.log_level)
        log::share_level(rt.log_level);   // log.level reaches every process
    for (auto& ch : kids)
        if (!spawn(rt, ch))
            g_stop = 1;
    LOG_NOTICE("ser %s started: %zu processes, %zu listeners", SER_VERSION, kids.size(), rt.listen_addrs.size());
    std::vector<std::string> tls_files;
    if (find_transport(Proto::Tls))
        for (const ReloadFile& f : tls_reload_files(cfg))
            tls_files.push_back(f.path);
    TlsWatch watch(std::move(tls_files), cfg.tls_reload_check);
    TlsExpiry expiry;
    StallWatch stalls;
    while (!g_stop) {
        pollfd pf{watch.fd(), POLLIN, 0};
        // A signal ends the wait at once (poll is never restarted).
        if (poll(&pf, watch.fd() >= 0 ? 1 : 0, watch.timeout_ms(now_ms(), 100)) > 0)
            watch.on_readable(now_ms());
        reap_and_restart(rt, kids);
        stalls.check(rt, kids);
        if (find_transport(Proto::Tls))
            expiry.check(cfg, wall_ms() / 1000);
        bool files_changed = watch.due(now_ms());
        if (g_usr1) {
            g_usr1 = 0;
            for (const std::string& l : stats_log_lines(rt.stats->sum()))
                LOG_NOTICE("%s", l.c_str());
        }
        if (g_hup || files_changed) {
            bool asked = g_hup;
            g_hup = 0;
            watch.begin_attempt();
            // Main builds first: what fails here is logged once and reaches no
            // worker; what builds is loaded by every process, and main keeps it
            // too, so a worker forked later starts with it.
            int64_t reload_start = now_ms();
            std::string err = reload_transports();
            if (!err.empty()) {
                LOG_ERR("TLS reload %s refused, the old certificates stay in use: %s%s",
                        asked ? "(SIGHUP)" : "after a file change", err.c_str(),
                        asked ? "" : "; the files are tried again when they change");
                continue;
            }
            LOG_NOTICE("TLS material reloaded (%s): new connections get it, open ones keep theirs",
                       asked ? "SIGHUP" : "files changed");
            // Each child now rebuilds what main just built, in its loop.
            stalls.grace_until = now_ms() + 2 * (now_ms() - reload_start);
            for (auto& ch : kids)
                if (ch.pid > 0)
                    kill(ch.pid, SIGHUP);
        }
    }
    LOG_NOTICE("stopping");
    stop_children(kids);
    if (!pid_file.empty())
        unlink(pid_file.c_str());
    return 0;
}

}  // namespace ser
