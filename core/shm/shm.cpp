#include "shm/shm.h"

#include "log.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

namespace ser {

std::optional<Shm> Shm::create(size_t bytes)
{
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return std::nullopt;
    return Shm(p, bytes);
}

Shm::~Shm()
{
    if (base_)
        munmap(base_, size_);
}

void* Shm::alloc_bytes(size_t bytes, size_t align)
{
    size_t start = (used_ + align - 1) & ~(align - 1);
    if (start + bytes > size_)
        return nullptr;
    used_ = start + bytes;
    return static_cast<char*>(base_) + start;  // mmap memory is already zero
}

void RobustMutex::init()
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&m_, &a);
    pthread_mutexattr_destroy(&a);
}

void RobustMutex::lock()
{
    int rc = pthread_mutex_lock(&m_);
    if (rc == EOWNERDEAD) {
        // The previous holder died inside its critical section. Take the lock
        // over rather than stop every process. The sections are a few stores
        // long; a death inside add() or unlink() can at worst leave one slot
        // off the free list (capacity shrinks by one) — counted in this log line.
        LOG_WARN("shared lock recovered from a process that died holding it");
        pthread_mutex_consistent(&m_);
    } else if (rc != 0) {
        LOG_CRIT("pthread_mutex_lock failed: %s", std::strerror(rc));
    }
}

}  // namespace ser
