#include "proc/role.h"

#include "log.h"
#include "proc/runtime.h"

namespace ser {

const Role* RoleTable::server_of(const Runtime& rt, const ListenAddr& la) const
{
    for (const Role& r : roles_)
        if (r.serves && r.serves(rt, la))
            return &r;
    return nullptr;
}

std::string child_title(const Role& r, const ChildName& n)
{
    return "ser: " + r.name + (n.detail.empty() ? "" : " " + n.detail);
}

StatsSlot child_stats(const ChildEnv& env)
{
    std::optional<StatsSlot> slot = env.rt.stats->slot(env.stats_slot);
    if (!slot)
        LOG_ERR("no statistics slot %u (the block has %u): this process's counts are not seen", env.stats_slot,
                env.rt.stats->slots());
    StatsSlot stats = slot.value_or(StatsSlot());
    Stats::bind_local(stats);
    return stats;
}

}  // namespace ser
