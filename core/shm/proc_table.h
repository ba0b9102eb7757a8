#pragma once
// The processes of ser as main's supervisor sees them, in shared memory for
// core.ps: one row per child (its role, name, pid while alive, restarts,
// start time). Written by main only, read by anyone; a row's text is fixed at
// start and only the numbers change, each a relaxed atomic. The one field a
// child writes is its own heartbeat (shm/heartbeat.h).

#include "shm/shm.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

struct ProcView {
    std::string role;      // "tcp worker"
    std::string tag;       // "tcp#1"
    std::string detail;    // "127.0.0.1:5060 #0"
    int pid = 0;           // 0 while dead (waiting for its restart)
    uint64_t restarts = 0;
    int64_t started_ms = 0;   // wall clock of the current (or last) start
    int64_t beat_ms = 0;      // monotonic clock of its last heartbeat (or of its start)
};

class ProcTable {
public:
    // Rows for `n` children; nullptr when the mapping is full. Main, before fork.
    static ProcTable* create(Shm& shm, uint32_t n);

    // ---- main only ----
    void describe(uint32_t row, std::string_view role, std::string_view tag, std::string_view detail);
    void started(uint32_t row, int pid, int64_t wall_ms, bool restart);
    void died(uint32_t row);
    // Before each fork of the row's child: its heartbeat starts at `mono_ms`.
    void reset_beat(uint32_t row, int64_t mono_ms);
    void set_main(int pid, int64_t wall_ms);

    // ---- anyone ----
    std::vector<ProcView> read() const;
    // The monotonic time of the row's last heartbeat; 0 out of range.
    int64_t last_beat(uint32_t row) const;
    // The cell the row's child beats into (heartbeat::bind); nullptr out of range.
    std::atomic<int64_t>* beat_cell(uint32_t row) { return row < n_ ? &rows_[row].beat_ms : nullptr; }
    int main_pid() const { return main_pid_.load(std::memory_order_relaxed); }
    int64_t main_started_ms() const { return main_started_.load(std::memory_order_relaxed); }
    uint32_t size() const { return n_; }

private:
    struct Row {
        char role[32], tag[32], detail[96];
        std::atomic<int> pid;
        std::atomic<uint64_t> restarts;
        std::atomic<int64_t> started_ms;
        std::atomic<int64_t> beat_ms;   // written by the child (its loop), read by main
    };
    std::atomic<int> main_pid_;
    std::atomic<int64_t> main_started_;
    uint32_t n_ = 0;
    Row* rows_ = nullptr;
};

}  // namespace ser
