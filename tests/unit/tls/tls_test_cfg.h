#pragma once
// ser's TLS domains from config text, for the TLS unit tests: the text goes
// through the config checker as `ser -c` runs it (files opened and checked),
// then TlsDomainSet::build makes every SSL_CTX with make_ctx, as main does.

#include "cfg/cfg_check.h"
#include "test_pki.h"
#include "tls/tls_domain.h"
#include "tls/tls_init.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>

namespace ser::test {

// The domain set of `text`; fails the test on a config error or a build error.
inline std::shared_ptr<const tls::TlsDomainSet> domains_of(const std::string& text)
{
    CPPUNIT_ASSERT(tls::init_tls());
    cfg::CheckOptions opt;
    opt.resolve_hosts = false;
    auto res = cfg::load_config_text(text, "tls-unit.cfg", opt);
    std::string diags;
    for (const auto& d : res.diags)
        diags += d.str() + "\n";
    CPPUNIT_ASSERT_MESSAGE(text + "\n" + diags, res.ok());
    std::string err;
    auto set = tls::TlsDomainSet::build(res.config, err);
    CPPUNIT_ASSERT_MESSAGE(text + "\n" + err, set != nullptr);
    return set;
}

// tls_certificate and tls_private_key lines for `id`.
inline std::string identity_cfg(const Identity& id)
{
    return "tls_certificate=\"" + id.cert + "\"\ntls_private_key=\"" + id.key + "\"\n";
}

// tls_ca_list="<ser test CA>"
inline std::string ca_cfg()
{
    return "tls_ca_list=\"" + test_pki().ca + "\"\n";
}

// A ser listening on tls:127.0.0.1:5061 whose tls_domain there presents `id`
// (the usual server certificate by default), trusts "ser test CA" and adds `settings`.
inline std::string server_cfg(const std::string& settings, const Identity& id = test_pki().server)
{
    return "listen=tls:127.0.0.1:5061\n"
           "tls_domain[127.0.0.1:5061] {\n" +
           identity_cfg(id) + ca_cfg() + settings + "}\n";
}

// A ser that only connects: its default client domain presents `id` (none
// when `id` is null) and adds `settings` (tls_verify=1 to check the server).
inline std::string client_cfg(const Identity* id, const std::string& settings = "")
{
    return (id ? identity_cfg(*id) : std::string()) + ca_cfg() + settings;
}

inline SockAddr addr(const char* ip, uint16_t port)
{
    auto a = SockAddr::from_numeric(ip, port);
    CPPUNIT_ASSERT(a);
    return *a;
}

}  // namespace ser::test
