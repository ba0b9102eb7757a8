#pragma once
// Shared memory: one anonymous shared mapping made in main before fork, sized
// at start (-m / shm_mem_size) and never grown. A bump allocator hands out
// pieces of it during start-up; nothing is allocated after fork.

#include <pthread.h>

#include <cstddef>
#include <optional>

namespace ser {

class Shm {
public:
    // Maps `bytes` of shared memory; nullopt (errno set) on failure.
    static std::optional<Shm> create(size_t bytes);
    Shm(Shm&& o) noexcept : base_(o.base_), size_(o.size_), used_(o.used_) { o.base_ = nullptr; }
    Shm(const Shm&) = delete;
    ~Shm();

    // Zeroed storage for `n` objects of T; nullptr when the mapping is full.
    template <typename T>
    T* alloc(size_t n = 1) { return static_cast<T*>(alloc_bytes(sizeof(T) * n, alignof(T))); }
    size_t size() const { return size_; }
    size_t used() const { return used_; }

private:
    Shm(void* base, size_t size) : base_(base), size_(size) {}
    void* alloc_bytes(size_t bytes, size_t align);
    void* base_ = nullptr;
    size_t size_ = 0;
    size_t used_ = 0;
};

// A process-shared mutex that survives its holder dying: the next locker
// takes it over (EOWNERDEAD) and marks it consistent. Lives in shared memory.
class RobustMutex {
public:
    void init();
    void lock();
    void unlock() { pthread_mutex_unlock(&m_); }
private:
    pthread_mutex_t m_;
};

// Holding one of these is the proof a function runs under the lock.
class LockGuard {
public:
    explicit LockGuard(RobustMutex& m) : m_(m) { m_.lock(); }
    ~LockGuard() { m_.unlock(); }
    LockGuard(const LockGuard&) = delete;
private:
    RobustMutex& m_;
};

}  // namespace ser
