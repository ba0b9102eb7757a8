#pragma once
// The only contact between core/ and tls/: implemented by tls/tls_init.cpp
// with TLS=1 and by tls/stub/tls_stub.cpp without it.

#include <string>

namespace ser {

struct Runtime;

// Builds every TLS domain's context from the config and registers the TLS
// transport; "" on success or a fatal error for the operator. Main, before fork.
std::string tls_register(Runtime& rt);

}  // namespace ser
