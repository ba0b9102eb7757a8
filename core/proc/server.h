#pragma once
// Starting the server: shared memory, listeners, privileges, the children and
// the supervisor loop. Called by main after the config checked clean.

#include "cfg/config.h"
#include "proc/options.h"
#include "proc/role.h"

namespace ser {

// Sets up the runtime for `roles`, forks every role's children and supervises
// them until SIGTERM/SIGINT; returns the process exit code. Main process only.
int run_server(const Config& cfg, const Options& opt, const RoleTable& roles);

}  // namespace ser
