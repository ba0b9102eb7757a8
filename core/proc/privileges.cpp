#include "proc/privileges.h"

#include "cfg/cfg_check.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>

namespace ser {

std::string drop_privileges(const std::string& user, const std::string& group)
{
    if (user.empty() && group.empty())
        return {};
    gid_t gid = 0;
    uid_t uid = getuid();
    if (!group.empty()) {
        struct group* gr = getgrnam(group.c_str());
        if (!gr)
            return "unknown group \"" + group + "\"";
        gid = gr->gr_gid;
    }
    if (!user.empty()) {
        struct passwd* pw = getpwnam(user.c_str());
        if (!pw)
            return "unknown user \"" + user + "\"";
        uid = pw->pw_uid;
        if (group.empty())
            gid = pw->pw_gid;
    }
    // Started as that user already: initgroups/setgid would fail with EPERM
    // for want of a capability the drop is meant to get rid of anyway.
    if (geteuid() != 0 && uid == geteuid() && gid == getegid())
        return {};
    if (!user.empty() && initgroups(user.c_str(), gid) != 0)
        return std::string("initgroups failed: ") + std::strerror(errno);
    if (setgid(gid) != 0)
        return std::string("setgid failed: ") + std::strerror(errno);
    if (!user.empty() && setuid(uid) != 0)
        return std::string("setuid failed: ") + std::strerror(errno);
    return {};
}

std::vector<ReloadFile> tls_reload_files(const Config& cfg)
{
    std::vector<ReloadFile> out;
    if (!cfg::tls_compiled_in() || cfg.disable_tls)
        return out;
    bool used = !cfg.tls_domains.empty();
    for (const auto& l : cfg.listens)
        used = used || l.proto == Proto::Tls;
    for (const auto& s : cfg.serials)
        for (const auto& e : s.listens)
            used = used || e.tls;
    if (!used)
        return out;
    std::set<std::string> seen;
    auto add = [&](const TlsParams& p, const std::string& domain, const cfg::Loc& block) {
        // The passphrase file too: a reload reads it again.
        std::string pass_file = p.private_key_pass.rfind("file:", 0) == 0 ? p.private_key_pass.substr(5) : "";
        const std::pair<const char*, const std::string*> files[] = {
            {"tls_certificate", &p.certificate}, {"tls_private_key", &p.private_key},
            {"tls_certificate2", &p.certificate2}, {"tls_private_key2", &p.private_key2},
            {"tls_ca_list", &p.ca_list}, {"tls_crl", &p.crl}, {"tls_ocsp_response", &p.ocsp_response},
            {"tls_private_key_pass", &pass_file}};
        struct stat st;
        for (const auto& [param, path] : files) {
            if (path->empty() || stat(path->c_str(), &st) != 0 || !seen.insert(*path).second)
                continue;
            auto at = p.set_at.find(std::string_view(param));
            out.push_back(ReloadFile{param, domain, *path, at != p.set_at.end() ? at->second : block});
        }
    };
    add(cfg.tls, "default TLS domain", cfg::Loc{cfg.file, 1, 1});
    for (const auto& d : cfg.tls_domains)
        add(d.params,
            std::string(d.client ? "tls_client_domain[" : "tls_domain[") + d.addr + ":" + std::to_string(d.port) + "]",
            d.loc);
    return out;
}

std::vector<ReloadFile> unreadable_after_drop(const std::string& user, const std::string& group,
                                              const std::vector<ReloadFile>& files)
{
    std::vector<ReloadFile> out;
    if ((user.empty() && group.empty()) || files.empty())
        return out;
    int fds[2];
    if (pipe(fds) != 0)
        return out;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return out;
    }
    if (pid == 0) {
        // The child reports the index of each file it cannot read, then exits
        // without running main's destructors (shared memory, sockets).
        close(fds[0]);
        if (!drop_privileges(user, group).empty())
            _exit(2);
        for (uint32_t i = 0; i < files.size(); i++)
            if (access(files[i].path.c_str(), R_OK) != 0 &&
                write(fds[1], &i, sizeof i) != static_cast<ssize_t>(sizeof i))
                _exit(3);
        _exit(0);
    }
    close(fds[1]);
    uint32_t i;
    ssize_t n;
    while ((n = read(fds[0], &i, sizeof i)) == static_cast<ssize_t>(sizeof i) || (n < 0 && errno == EINTR))
        if (n > 0 && i < files.size())
            out.push_back(files[i]);
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        out.clear();
    return out;
}

std::vector<cfg::Diag> check_readable_after_drop(const Config& cfg, const std::string& user,
                                                 const std::string& group)
{
    std::vector<cfg::Diag> out;
    if (getuid() != 0 || (user.empty() && group.empty()))
        return out;
    std::string who = user.empty() ? "group " + group : "user " + user + (group.empty() ? "" : " group " + group);
    // The group to make the files readable by: -g, else the user's own group.
    std::string grp = group;
    if (grp.empty())
        if (const passwd* pw = getpwnam(user.c_str()))
            if (const struct group* g = getgrgid(pw->pw_gid))
                grp = g->gr_name;
    for (const auto& f : unreadable_after_drop(user, group, tls_reload_files(cfg)))
        out.push_back(cfg::Diag{cfg::Diag::Level::Warning, f.loc,
                                f.param + " \"" + f.path + "\" (" + f.domain + ") is not readable by " + who +
                                    ": a reload (SIGHUP, a file change, tls.reload) after the privilege drop "
                                    "will fail on it; make it group-readable by the ser group: chgrp " +
                                    (grp.empty() ? "GROUP" : grp) + " '" + f.path + "' && chmod g+r '" + f.path +
                                    "' (and let that group search its directory)"});
    return out;
}

}  // namespace ser
