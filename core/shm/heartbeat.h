#pragma once
// A child's heartbeat: once per turn of its event loop (the connection loop,
// the UDP receiver's poll loop) a process stores the monotonic clock into its
// row of the process table, with a relaxed store and no lock. Main reads the
// rows (proc/server.cpp) and kills a child whose beat has not moved for
// worker_stall_timeout: a loop that never comes back, a call that blocks, a
// SIGSTOP. Every loop that beats must wake at least every few hundred
// milliseconds when idle, so an idle child is never taken for a stuck one.

#include "clock.h"

#include <atomic>
#include <cstdint>

namespace ser::heartbeat {

namespace detail {
inline std::atomic<int64_t>* cell = nullptr;
}  // namespace detail

// Where the calling process beats: its process-table row, bound in the child
// right after fork. nullptr (main, the unit tests): beat() does nothing.
inline void bind(std::atomic<int64_t>* cell) { detail::cell = cell; }

// "This process is alive and turning its loop", now.
inline void beat()
{
    if (std::atomic<int64_t>* c = detail::cell)
        c->store(now_ms(), std::memory_order_relaxed);
}

}  // namespace ser::heartbeat
