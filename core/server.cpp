#include "server.h"

#include <iostream>

namespace ser {

int run_server(const Config&, const Options&)
{
    std::cerr << "ser: the server core is not built yet; use -c to check a configuration\n";
    return 1;
}

}  // namespace ser
