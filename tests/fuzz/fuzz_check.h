#pragma once
// What every fuzz target shares: a check that stops the run (libFuzzer
// saves the input as a crash) and quiet logging.
#include "log.h"

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                  \
        }                                                                                  \
    } while (0)

namespace ser::fuzz {

// Below Alert: no log line at all (a fuzzer's input makes a lot of them).
inline void quiet_log()
{
    log::init(-4, true, "daemon");
}

}  // namespace ser::fuzz
