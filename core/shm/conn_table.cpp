#include "shm/conn_table.h"

#include <new>

namespace ser {
namespace {

constexpr uint32_t kSlotBits = 20;   // tcp_max_connections <= 1,000,000 < 2^20
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;

uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

}  // namespace

bool tls_reusable(bool outgoing, std::string_view conn_host, std::string_view want)
{
    if (outgoing)
        return conn_host == want;
    return want.empty() || SockAddr::from_numeric(want, 0).has_value();
}

size_t ConnTable::bytes_needed(uint32_t capacity)
{
    return sizeof(ConnTable) + 64 + capacity * (sizeof(TcpConnRecord) + sizeof(uint16_t) + 8) +
           pow2_at_least(capacity) * sizeof(int32_t) + IpCounts::slots_for(capacity) * sizeof(IpCount) + 128;
}

ConnTable* ConnTable::create(Shm& shm, uint32_t capacity)
{
    auto* mem = shm.alloc<ConnTable>();
    auto* recs = shm.alloc<TcpConnRecord>(capacity);
    auto* gens = shm.alloc<uint16_t>(capacity);
    uint32_t nb = pow2_at_least(capacity);
    auto* buckets = shm.alloc<int32_t>(nb);
    uint32_t nips = IpCounts::slots_for(capacity);
    auto* ips = shm.alloc<IpCount>(nips);
    if (!mem || !recs || !gens || !buckets || !ips || capacity == 0 || capacity > kSlotMask)
        return nullptr;
    auto* t = new (mem) ConnTable();
    t->lock_.init();
    t->capacity_ = capacity;
    t->nbuckets_ = nb;
    t->gen_ = gens;
    t->recs_ = recs;
    t->buckets_ = buckets;
    for (uint32_t i = 0; i < nb; i++)
        buckets[i] = -1;
    for (uint32_t i = 0; i < nips; i++)
        new (&ips[i]) IpCount();
    t->ips_ = IpCounts(ips, nips);
    for (uint32_t i = 0; i < capacity; i++) {
        new (&recs[i]) TcpConnRecord();
        recs[i].next_ = (i + 1 < capacity) ? static_cast<int32_t>(i + 1) : -1;
        gens[i] = 1;
    }
    t->free_head_ = 0;
    t->free_tail_ = static_cast<int32_t>(capacity - 1);
    return t;
}

TcpConnRecord* ConnTable::slot_of(uint32_t id, const LockGuard&)
{
    uint32_t slot = id & kSlotMask;
    if (id == 0 || slot >= capacity_)
        return nullptr;
    TcpConnRecord* r = &recs_[slot];
    return (r->state != ConnState::Free && r->id == id) ? r : nullptr;
}

int32_t* ConnTable::bucket_of(const SockAddr& remote, const LockGuard&)
{
    return &buckets_[remote.hash() & (nbuckets_ - 1)];
}

bool ConnTable::count_ip(TcpConnRecord& r, uint32_t limit, Refusal* why, const LockGuard&)
{
    if (limit == 0)
        return true;
    if (ips_.acquire(r.remote, limit) != IpCounts::Result::Ok) {
        if (why)
            *why = Refusal::PerIpLimit;
        return false;
    }
    r.ip_counted_ = true;
    return true;
}

uint32_t ConnTable::add(const TcpConnRecord& in, uint32_t per_ip_limit, Refusal* why)
{
    LockGuard g(lock_);
    if (why)
        *why = Refusal::None;
    if (free_head_ < 0) {
        if (why)
            *why = Refusal::TableFull;
        return 0;
    }
    TcpConnRecord rec = in;
    rec.ip_counted_ = false;
    if (!count_ip(rec, per_ip_limit, why, g))
        return 0;
    int32_t slot = free_head_;
    TcpConnRecord* r = &recs_[slot];
    free_head_ = r->next_;
    if (free_head_ < 0)
        free_tail_ = -1;
    *r = rec;
    if (r->state == ConnState::Free)
        r->state = ConnState::Connecting;
    uint16_t gen = gen_[slot];
    r->id = (static_cast<uint32_t>(gen) << kSlotBits) | static_cast<uint32_t>(slot);
    link(slot, g);
    used_++;
    return r->id;
}

bool ConnTable::set_client(uint32_t id, const SockAddr& client, const SockAddr& via, uint32_t per_ip_limit,
                           Refusal* why)
{
    LockGuard g(lock_);
    if (why)
        *why = Refusal::None;
    TcpConnRecord* r = slot_of(id, g);
    if (!r)
        return false;
    TcpConnRecord moved = *r;
    moved.via = via;
    moved.remote = client;
    if (r->ip_counted_) {
        ips_.release(r->remote);
        moved.ip_counted_ = false;
    }
    if (!count_ip(moved, per_ip_limit, why, g)) {
        if (r->ip_counted_)
            ips_.acquire(r->remote, UINT32_MAX);   // put back what was released
        return false;
    }
    // The remote address keys the hash chain: leave the old one, join the new.
    int32_t slot = static_cast<int32_t>(id & kSlotMask);
    unchain(slot, g);
    *r = moved;
    link(slot, g);
    return true;
}

void ConnTable::link(int32_t slot, const LockGuard& g)
{
    int32_t* b = bucket_of(recs_[slot].remote, g);
    recs_[slot].next_ = *b;
    *b = slot;
}

void ConnTable::unchain(int32_t slot, const LockGuard& g)
{
    TcpConnRecord* r = &recs_[slot];
    int32_t* p = bucket_of(r->remote, g);
    while (*p >= 0 && *p != slot)
        p = &recs_[*p].next_;
    if (*p == slot)
        *p = r->next_;
    r->next_ = -1;
}

void ConnTable::unlink(int32_t slot, const LockGuard& g)
{
    TcpConnRecord* r = &recs_[slot];
    unchain(slot, g);
    if (r->ip_counted_)
        ips_.release(r->remote);
    r->ip_counted_ = false;
    r->state = ConnState::Free;
    r->id = 0;
    if (free_tail_ >= 0)
        recs_[free_tail_].next_ = slot;
    else
        free_head_ = slot;
    free_tail_ = slot;
    // FIFO reuse and 12 bits of generation: an id comes back only after
    // 4095 × capacity connections, so a stale i= alias finds nothing.
    gen_[slot] = static_cast<uint16_t>(gen_[slot] % 4095 + 1);
    used_--;
}

void ConnTable::remove(uint32_t id)
{
    LockGuard g(lock_);
    if (slot_of(id, g))
        unlink(static_cast<int32_t>(id & kSlotMask), g);
}

std::optional<TcpConnRecord> ConnTable::get(uint32_t id)
{
    LockGuard g(lock_);
    TcpConnRecord* r = slot_of(id, g);
    if (!r)
        return std::nullopt;
    return *r;
}

std::optional<TcpConnRecord> ConnTable::find(Proto proto, const SockAddr& remote, std::string_view host)
{
    LockGuard g(lock_);
    for (int32_t s = *bucket_of(remote, g); s >= 0; s = recs_[s].next_) {
        const TcpConnRecord& r = recs_[s];
        if (r.proto != proto || r.state == ConnState::Closing || !(r.remote == remote))
            continue;
        if (proto == Proto::Tls && !tls_reusable(r.outgoing, r.host, host))
            continue;
        return r;
    }
    return std::nullopt;
}

size_t ConnTable::purge_owner(int owner)
{
    LockGuard g(lock_);
    size_t n = 0;
    for (uint32_t i = 0; i < capacity_; i++)
        if (recs_[i].state != ConnState::Free && recs_[i].owner == owner) {
            unlink(static_cast<int32_t>(i), g);
            n++;
        }
    return n;
}

std::vector<TcpConnRecord> ConnTable::snapshot()
{
    LockGuard g(lock_);
    std::vector<TcpConnRecord> out;
    out.reserve(used_);
    for (uint32_t i = 0; i < capacity_; i++)
        if (recs_[i].state != ConnState::Free)
            out.push_back(recs_[i]);
    return out;
}

uint32_t ConnTable::count()
{
    LockGuard g(lock_);
    return used_;
}

uint32_t ConnTable::count_from(const SockAddr& a)
{
    LockGuard g(lock_);
    return ips_.count(a);
}

}  // namespace ser
