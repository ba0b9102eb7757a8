#pragma once
// The contact between main and serial/ (the serial bridge is a role that
// sits on proc): implemented by serial/serial_bridge.cpp and
// serial/ser2sock_compat.cpp.

#include "cfg/cfg_check.h"
#include "proc/options.h"

#include <string>

namespace ser {

class RoleTable;

// Registers the "serial bridge" role: one child per serial "DEV" { ... }
// block; its set-up step claims and binds every listen= of every block.
// Main, before Runtime::setup.
void register_serial_bridges(RoleTable& roles);

// What `ser --ser2sock ARGS` (or ser started under the name ser2sock) runs:
// ser2sock's command line and its ser2sock.conf turned into a checked
// Config with one serial block, and the Options to run it with.
struct Ser2sockLaunch {
    int exit_code = -1;          // >= 0: print `message` and exit (-h, a bad option)
    std::string message;         // for stdout when exit_code is 0, else stderr
    cfg::CheckResult res;        // the Config and every diagnostic (conf lines and options)
    Options opt;                 // foreground, log to stderr, pid file
    bool quiet_notices = true;   // notices are shown with -g 1 and up
};

// Reads args[0..n-1] as ser2sock's command line (what follows --ser2sock)
// and the conf file it names (-f, default /etc/ser2sock/ser2sock.conf).
// Main, before anything else is set up.
Ser2sockLaunch ser2sock_launch(int n, char** args);

}  // namespace ser
