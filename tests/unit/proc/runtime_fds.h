#pragma once
// Closes every descriptor Runtime::setup opened (the fixtures of tests/unit/proc
// set up a real Runtime; nothing in ser closes them: main's children inherit them).

#include "proc/runtime.h"

#include <unistd.h>

namespace ser::test {

inline void close_runtime_fds(Runtime& rt)
{
    for (auto& u : rt.udp)
        for (int fd : u.fds)
            close(fd);
    for (auto& s : rt.streams)
        for (int fd : s.fds)
            close(fd);
    for (auto& ch : rt.channels) {
        close(ch.fds[0]);
        close(ch.fds[1]);
    }
    for (auto& fds : rt.serial_listeners)
        for (int fd : fds)
            close(fd);
    for (int fd : rt.listen_locks)
        close(fd);
}

}  // namespace ser::test
