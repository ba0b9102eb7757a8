#pragma once
// OCSP stapling, server side: a DER OCSP response kept in a file beside the
// certificate (tls_ocsp_response; made by the CA's responder, `openssl ocsp
// -respout` or `ser-certs ocsp`) is read with the certificate, checked, and
// sent to clients that ask for the status (status_request) until its next
// update. A stale response, or one that is not about this certificate, is
// never stapled: a client that requires a good one would refuse it.

#include "tls_util.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ser::tls {

struct OcspStaple {
    std::vector<unsigned char> der;   // the response as read; empty: nothing to staple
    int64_t this_update = 0, next_update = 0;   // unix seconds; next_update 0: none given
    std::string status;               // "good", "revoked", "unknown"
};

// Reads `path` and checks it against `cert` (issued by `issuer`). Returns ""
// and fills `out` when it is a successful response about cert; otherwise why
// not ("not an OCSP response", "about another certificate", ...), and `out`
// stays empty. Staleness is not checked here: stapled() looks at the time.
std::string load_ocsp(const std::string& path, X509* cert, X509* issuer, OcspStaple& out);

// load_ocsp for the files as they are on disk (ser -c, tls.info): the leaf
// and chain of `cert_file`, its issuer there or in `ca_list`.
std::string load_ocsp_for_file(const std::string& path, const std::string& cert_file, const std::string& ca_list,
                               OcspStaple& out);

// The issuer of `leaf` among the chain loaded with it and the CA list; null
// when neither holds it. The caller frees it.
X509* find_issuer(X509* leaf, STACK_OF(X509)* chain, const std::string& ca_list);

// Whether `s` may be stapled at `now`: there is one, its status is good or
// revoked, and its next update (if any) has not passed.
bool stapled(const OcspStaple& s, int64_t now);

// The status callback of a server context: staples the domain's response.
int ocsp_status_callback(SSL* ssl, void* arg);

}  // namespace ser::tls
