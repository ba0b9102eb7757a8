#pragma once
// Starting the server: shared memory, listeners, privileges, the children and
// the supervisor loop. Called by main after the config checked clean.

#include "cfg/config.h"
#include "proc/options.h"

namespace ser {

// Runs until SIGTERM/SIGINT; returns the process exit code. Main process only.
int run_server(const Config& cfg, const Options& opt);

}  // namespace ser
