#include "proc/proc_title.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace ser {
namespace {

char* g_area = nullptr;   // argv[0]'s original storage, then what followed it
size_t g_size = 0;
// The moved strings: reachable from here for as long as the process runs.
char** g_argv_copy = nullptr;
char** g_env_copy = nullptr;

}  // namespace

void proc_title_init(int argc, char** argv)
{
    if (g_area || argc < 1 || !argv || !argv[0])
        return;
    // The area: argv's strings, then the environment's as long as each
    // starts where the previous one ended (the kernel lays them out so).
    char* start = argv[0];
    char* end = start;
    for (int i = 0; i < argc; i++)
        if (argv[i] == end)
            end += std::strlen(argv[i]) + 1;
    size_t nenv = 0;
    for (char** e = environ; e && *e; e++, nenv++)
        if (*e == end)
            end += std::strlen(*e) + 1;
    g_env_copy = new char*[nenv + 1];
    for (size_t i = 0; i < nenv; i++)
        g_env_copy[i] = strdup(environ[i]);
    g_env_copy[nenv] = nullptr;
    environ = g_env_copy;
    g_argv_copy = new char*[argc];
    for (int i = 0; i < argc; i++)
        argv[i] = g_argv_copy[i] = strdup(argv[i]);
    // glibc's names for error messages point into argv[0] too.
    program_invocation_name = argv[0];
    const char* slash = std::strrchr(argv[0], '/');
    program_invocation_short_name = slash ? const_cast<char*>(slash + 1) : argv[0];
    g_area = start;
    g_size = static_cast<size_t>(end - start);
}

void set_proc_title(const std::string& title, const char* comm)
{
    if (g_area && g_size > 1) {
        size_t n = std::min(title.size(), g_size - 1);
        std::memcpy(g_area, title.data(), n);
        // NUL to the end: the last byte of argv stays NUL, so the kernel
        // reports the area as it is and ps shows only the title.
        std::memset(g_area + n, 0, g_size - n);
    }
    if (comm)
        prctl(PR_SET_NAME, comm, 0, 0, 0);
}

}  // namespace ser
