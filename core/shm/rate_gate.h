#pragma once
// A rate limit shared by every process: at most `limit` admissions per
// second of wall time, counted in one word of shared memory (the second and
// the count so far, swapped with compare-and-exchange: no lock, no syscall).
// A fixed one-second window: a burst at a boundary may see up to twice the
// limit within a second, never more. limit 0 admits everything.

#include <atomic>
#include <cstdint>

namespace ser {

struct RateGate {
    std::atomic<uint64_t> window{0};   // second << 32 | admitted in that second
    uint32_t limit = 0;

    bool allow(int64_t now_s)
    {
        if (limit == 0)
            return true;
        uint64_t sec = static_cast<uint32_t>(now_s);
        uint64_t cur = window.load(std::memory_order_relaxed);
        for (;;) {
            uint64_t next;
            if ((cur >> 32) != sec)
                next = sec << 32 | 1;
            else if ((cur & 0xffffffffu) < limit)
                next = cur + 1;
            else
                return false;
            if (window.compare_exchange_weak(cur, next, std::memory_order_relaxed))
                return true;
        }
    }
};

}  // namespace ser
