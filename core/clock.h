#pragma once
// The two clocks of ser: one for deadlines, one for timestamps people read.

#include <cstdint>

namespace ser {

// Milliseconds of CLOCK_MONOTONIC: for deadlines and intervals (a clock step
// neither fires nor stretches a timeout).
int64_t now_ms();
// Milliseconds since the epoch: for timestamps shown to people (tcp.list).
int64_t wall_ms();

}  // namespace ser
