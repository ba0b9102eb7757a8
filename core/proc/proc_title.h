#pragma once
// The process title that ps shows (`ps -o args`, /proc/PID/cmdline), set as
// nginx (ngx_setproctitle) and Kamailio do: the text is written over the
// argv area, extended over the environment strings that follow it once those
// are moved away; and the comm name (`ps -o comm`, top) set with
// prctl(PR_SET_NAME).

#include <string>

namespace ser {

// First thing in main(), once: copies argv's strings and the environment out
// of the area set_proc_title overwrites (argv[] and environ then point at the
// copies, which live until exit). Not thread-safe; nothing else runs yet.
void proc_title_init(int argc, char** argv);

// Shows `title` as the whole command line, cut to the area's size (nothing
// when proc_title_init was not called), and, unless `comm` is nullptr, sets
// the comm name to `comm` (the kernel keeps 15 bytes). Any process.
void set_proc_title(const std::string& title, const char* comm);

}  // namespace ser
