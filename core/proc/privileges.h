#pragma once
// Giving up root after the listeners are bound (-u/-g, user=/group=), and the
// check that the TLS files a reload re-reads stay readable afterwards.

#include "cfg/cfg_check.h"
#include "cfg/config.h"

#include <string>
#include <vector>

namespace ser {

// Switches the calling process to `user` and `group` (either may be empty; a
// user without a group takes the user's primary group, and its supplementary
// groups either way). "" on success, else the reason for the operator. A
// process that already runs as them (systemd's User=) has nothing to do.
// Main, before fork.
std::string drop_privileges(const std::string& user, const std::string& group);

// One file a SIGHUP reload reads again: the parameter, its domain and path.
struct ReloadFile {
    std::string param;     // "tls_private_key"
    std::string domain;    // "default TLS domain", "tls_domain[127.0.0.1:5061]"
    std::string path;
    cfg::Loc loc;          // where the parameter was set (else its block, else the file)
};

// The TLS files of every domain the running server uses (as tls_register
// decides it), each once; files that do not exist are left out (start-up has
// already refused a missing file that is needed).
std::vector<ReloadFile> tls_reload_files(const Config& cfg);

// Which of `files` a process dropped to user/group could not read: a child
// makes the same drop and tries access(R_OK) on each, so modes, owners,
// supplementary groups, ACLs and directory permissions all count. Empty when
// the child cannot drop (main then fails on its own drop with the reason).
// Main, before its own drop.
std::vector<ReloadFile> unreadable_after_drop(const std::string& user, const std::string& group,
                                              const std::vector<ReloadFile>& files);

// A warning for each TLS file that root reads at start but the process dropped
// to user/group (-u/-g, else the config's user=/group=) could not read again on
// SIGHUP. Given as config diagnostics, so that ser -c says it too and it shows
// whatever debug= is. Main, before the drop.
std::vector<cfg::Diag> check_readable_after_drop(const Config& cfg, const std::string& user,
                                                 const std::string& group);

}  // namespace ser
