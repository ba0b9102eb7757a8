// SRV order, NAPTR choice and the answer cache: dns_select.h.
#include "proxy/dns_select.h"

#include <algorithm>
#include <cctype>

namespace ser::dns {
namespace {

bool iequal(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); i++)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// The weighted draw of RFC 2782 over recs[first, last): each round, a random
// number in [0, sum of the weights left] picks the first record whose running
// sum reaches it; records of weight 0 go first in the list, so they win only
// a draw of 0 (or when they are all that is left).
void weighted_shuffle(std::vector<SrvRecord>& recs, size_t first, size_t last, std::mt19937& rng)
{
    std::stable_partition(recs.begin() + static_cast<long>(first), recs.begin() + static_cast<long>(last),
                          [](const SrvRecord& r) { return r.weight == 0; });
    for (size_t i = first; i + 1 < last; i++) {
        uint64_t sum = 0;
        for (size_t j = i; j < last; j++)
            sum += recs[j].weight;
        uint64_t pick = std::uniform_int_distribution<uint64_t>(0, sum)(rng);
        uint64_t run = 0;
        size_t chosen = i;
        for (size_t j = i; j < last; j++) {
            run += recs[j].weight;
            if (run >= pick) {
                chosen = j;
                break;
            }
        }
        std::swap(recs[i], recs[chosen]);
        // What stays unchosen keeps the zero-weights-first order.
        std::stable_partition(recs.begin() + static_cast<long>(i + 1), recs.begin() + static_cast<long>(last),
                              [](const SrvRecord& r) { return r.weight == 0; });
    }
}

}  // namespace

std::vector<SrvRecord> srv_order(std::vector<SrvRecord> recs, std::mt19937& rng)
{
    if (recs.size() == 1 && (recs[0].target == "." || recs[0].target.empty()))
        return {};
    std::stable_sort(recs.begin(), recs.end(),
                     [](const SrvRecord& a, const SrvRecord& b) { return a.priority < b.priority; });
    for (size_t first = 0; first < recs.size();) {
        size_t last = first;
        while (last < recs.size() && recs[last].priority == recs[first].priority)
            last++;
        weighted_shuffle(recs, first, last, rng);
        first = last;
    }
    return recs;
}

std::vector<NaptrChoice> naptr_choices(std::vector<NaptrRecord> recs, bool secure)
{
    std::stable_sort(recs.begin(), recs.end(), [](const NaptrRecord& a, const NaptrRecord& b) {
        return a.order != b.order ? a.order < b.order : a.preference < b.preference;
    });
    std::vector<NaptrChoice> out;
    for (const NaptrRecord& r : recs) {
        if (!iequal(r.flags, "s") || r.replacement.empty() || r.replacement == ".")
            continue;
        std::optional<Proto> p;
        if (iequal(r.service, "SIPS+D2T"))
            p = Proto::Tls;
        else if (!secure && iequal(r.service, "SIP+D2U"))
            p = Proto::Udp;
        else if (!secure && iequal(r.service, "SIP+D2T"))
            p = Proto::Tcp;
        if (p)
            out.push_back({*p, r.replacement});
    }
    return out;
}

std::string srv_name(Proto p, std::string_view host)
{
    const char* prefix = p == Proto::Tls ? "_sips._tcp." : p == Proto::Tcp ? "_sip._tcp." : "_sip._udp.";
    return prefix + std::string(host);
}

std::string Cache::key(std::string_view name, Type t)
{
    std::string k = std::to_string(static_cast<unsigned>(t)) + ":";
    for (char c : name)
        k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (k.size() > 1 && k.back() == '.')
        k.pop_back();
    return k;
}

const Answer* Cache::find(std::string_view name, Type t, int64_t now_ms)
{
    auto it = map_.find(key(name, t));
    if (it == map_.end())
        return nullptr;
    if (it->second->expires_ms <= now_ms) {
        lru_.erase(it->second);
        map_.erase(it);
        return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return &it->second->answer;
}

void Cache::put(std::string_view name, Type t, Answer a, uint32_t ttl_s, int64_t now_ms)
{
    if (cap_ == 0 || ttl_s == 0)
        return;
    std::string k = key(name, t);
    int64_t exp = now_ms + int64_t{ttl_s} * 1000;
    if (auto it = map_.find(k); it != map_.end()) {
        it->second->answer = std::move(a);
        it->second->expires_ms = exp;
        lru_.splice(lru_.begin(), lru_, it->second);
        return;
    }
    if (map_.size() >= cap_) {
        // An expired entry first (the oldest in use order), else the least recently used.
        auto victim = std::prev(lru_.end());
        for (auto i = lru_.rbegin(); i != lru_.rend(); ++i)
            if (i->expires_ms <= now_ms) {
                victim = std::prev(i.base());
                break;
            }
        map_.erase(victim->key);
        lru_.erase(victim);
    }
    lru_.push_front(Entry{k, std::move(a), exp});
    map_[k] = lru_.begin();
}

uint32_t negative_ttl(std::optional<uint32_t> soa_min, std::optional<uint32_t> soa_ttl, uint32_t fallback_s,
                      uint32_t cap_s)
{
    uint32_t t = fallback_s;
    if (soa_min)
        t = soa_ttl ? std::min(*soa_min, *soa_ttl) : *soa_min;
    return std::min(t, cap_s);
}

}  // namespace ser::dns
