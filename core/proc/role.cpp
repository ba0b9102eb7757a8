#include "proc/role.h"

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

}  // namespace ser
