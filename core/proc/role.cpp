#include "proc/role.h"

namespace ser {

const Role* RoleTable::server_of(const Runtime& rt, const ListenAddr& la) const
{
    for (const Role& r : roles_)
        if (r.serves && r.serves(rt, la))
            return &r;
    return nullptr;
}

}  // namespace ser
