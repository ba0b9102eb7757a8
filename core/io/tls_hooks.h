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

// What tls.info shows of one domain: its certificate and CRL as the files
// now on disk say (read afresh; nothing secret: the key is never opened).
struct TlsDomainInfo {
    std::string name;           // "default", "tls_domain[127.0.0.1:5061]", "tls_client_domain[...]"
    bool client = false;
    std::string certificate;    // file
    std::string subject, issuer;
    std::vector<std::string> sans;   // "DNS:sip.example.com", "IP:192.0.2.1"
    int64_t not_before = 0, not_after = 0;   // unix seconds; 0 when unknown
    std::string ca_list, crl;   // files
    int64_t crl_next_update = 0;             // unix seconds; 0 when none
    std::string ocsp;           // tls_ocsp_response file, "" when none
    std::string ocsp_status;    // "good", "revoked", or why it is not stapled
    int64_t ocsp_next_update = 0;            // unix seconds; 0 when none or unusable
    std::string error;          // why a file could not be read
};
// Every domain of cfg (empty without TLS or with disable_tls).
std::vector<TlsDomainInfo> tls_domain_info(const Config& cfg);
// "OpenSSL 3.0.15 3 Sep 2024" (the library running), or "" without TLS.
std::string tls_library_version();
// The TLS library ser was compiled against and the one it runs with, e.g.
// "OpenSSL: built with OpenSSL 3.0.15 3 Sep 2024, running with OpenSSL 3.0.16 11 Feb 2025";
// "" in a build without TLS. Any process, any time.
std::string tls_library_versions();

}  // namespace ser
