// The supervisor's process rows in shared memory (see proc_table.h).
#include "shm/proc_table.h"

#include <algorithm>
#include <cstring>

namespace ser {
namespace {

template <size_t N>
void put(char (&dst)[N], std::string_view s)
{
    size_t n = std::min(s.size(), N - 1);
    std::memcpy(dst, s.data(), n);
    dst[n] = '\0';
}

constexpr auto R = std::memory_order_relaxed;

}  // namespace

ProcTable* ProcTable::create(Shm& shm, uint32_t n)
{
    auto* t = shm.alloc<ProcTable>();
    auto* rows = n ? shm.alloc<Row>(n) : nullptr;
    if (!t || (n && !rows))
        return nullptr;
    t->n_ = n;
    t->rows_ = rows;
    return t;
}

void ProcTable::describe(uint32_t row, std::string_view role, std::string_view tag, std::string_view detail)
{
    if (row >= n_)
        return;
    put(rows_[row].role, role);
    put(rows_[row].tag, tag);
    put(rows_[row].detail, detail);
}

void ProcTable::started(uint32_t row, int pid, int64_t wall_ms, bool restart)
{
    if (row >= n_)
        return;
    Row& r = rows_[row];
    if (restart)
        r.restarts.store(r.restarts.load(R) + 1, R);
    r.started_ms.store(wall_ms, R);
    r.pid.store(pid, R);
}

void ProcTable::died(uint32_t row)
{
    if (row < n_)
        rows_[row].pid.store(0, R);
}

void ProcTable::reset_beat(uint32_t row, int64_t mono_ms)
{
    if (row < n_)
        rows_[row].beat_ms.store(mono_ms, R);
}

int64_t ProcTable::last_beat(uint32_t row) const
{
    return row < n_ ? rows_[row].beat_ms.load(R) : 0;
}

void ProcTable::set_main(int pid, int64_t wall_ms)
{
    main_pid_.store(pid, R);
    main_started_.store(wall_ms, R);
}

std::vector<ProcView> ProcTable::read() const
{
    std::vector<ProcView> out;
    for (uint32_t i = 0; i < n_; i++) {
        const Row& r = rows_[i];
        ProcView v;
        v.role = std::string(r.role, strnlen(r.role, sizeof r.role));
        v.tag = std::string(r.tag, strnlen(r.tag, sizeof r.tag));
        v.detail = std::string(r.detail, strnlen(r.detail, sizeof r.detail));
        v.pid = r.pid.load(R);
        v.restarts = r.restarts.load(R);
        v.started_ms = r.started_ms.load(R);
        v.beat_ms = r.beat_ms.load(R);
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace ser
