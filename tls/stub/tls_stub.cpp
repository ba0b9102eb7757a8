// Built instead of tls/*.cpp when ser is compiled without TLS (make TLS=0).
#include "cfg/cfg_check.h"

namespace ser::cfg {

bool tls_compiled_in() { return false; }

void check_tls_material(const Config&, const CheckOptions&, Diags&) {}

}  // namespace ser::cfg

#include "io/tls_hooks.h"

namespace ser {

std::string tls_register(const Config&, const std::vector<ListenAddr>&) { return {}; }
std::vector<TlsDomainInfo> tls_domain_info(const Config&) { return {}; }
std::string tls_library_version() { return {}; }

std::string tls_library_versions() { return {}; }

}  // namespace ser
