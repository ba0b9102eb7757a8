#pragma once
// The only contact between core/ and tls/: implemented by tls/tls_init.cpp
// with TLS=1 and by tls/stub/tls_stub.cpp without it.

#include "cfg/config.h"
#include "io/msg_io.h"

#include <string>
#include <vector>

namespace ser {

// Builds every TLS domain's context from the config and registers the TLS
// transport (stacked on the registered plain TCP transport); "" on success or
// a fatal error for the operator. Main, before fork; cfg outlives every process.
std::string tls_register(const Config& cfg, const std::vector<ListenAddr>& listeners);

// The TLS library ser was compiled against and the one it runs with, e.g.
// "OpenSSL: built with OpenSSL 3.0.15 3 Sep 2024, running with OpenSSL 3.0.16 11 Feb 2025";
// "" in a build without TLS. Any process, any time.
std::string tls_library_versions();

}  // namespace ser
