#pragma once
// Checks of TLS material that ser -c and every reload share: a certificate's
// validity period and role, a CRL's next update, and whether a certificate's
// chain verifies. A reload refuses what ser -c refuses, so material that
// would not start ser is never swapped in at run time either.

#include "tls_util.h"

#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ser::tls {

struct MaterialIssue {
    bool fatal = false;    // false: a warning (expiring soon)
    std::string text;      // "expired on 2020-05-01 12:00 UTC (2041 days ago)"
};

// Unix seconds of an ASN.1 time; 0 when it is missing or unreadable.
int64_t unix_time(const ASN1_TIME* t);
// "2027-01-31 12:00 UTC".
std::string utc_text(int64_t unix_seconds);

// A leaf certificate used as a server (client=false) or client identity:
// not yet valid or expired are fatal, ending within warn_days a warning;
// with check_role, a certificate whose key usages forbid the role is fatal.
std::vector<MaterialIssue> check_certificate(X509* cert, bool client, bool check_role, int warn_days, time_t now);

// A CRL past its next update: fatal unless warn_only; within warn_days a warning.
std::vector<MaterialIssue> check_crl(const X509_CRL* crl, bool warn_only, int warn_days, time_t now);

// Calls f(cert, chain) for every certificate of ctx (one per key type:
// tls_certificate and tls_certificate2), leaving the first one current.
void for_each_certificate(SSL_CTX* ctx, const std::function<void(X509*, STACK_OF(X509)*)>& f);

// Whether every certificate of ctx and the chain loaded with it verify, for
// its role, against ca_list plus the system's CA directory: "" when they do,
// else OpenSSL's reason ("unable to get local issuer certificate").
std::string chain_problem(SSL_CTX* ctx, const std::string& ca_list, bool client);

// The SIP domain identities of a certificate (RFC 5922 §7.1), lower case:
// the host of each sip:/sips: URI SAN and each DNS SAN; the subject CN only
// when the certificate has neither. `ips` gets its IP SANs as text.
std::vector<std::string> sip_identities(X509* cert, std::vector<std::string>* ips = nullptr);
// RFC 5922 §7.2: `domain` is one of `ids` as a whole DNS name, case-insensitive,
// a trailing dot ignored; no suffix and no wildcard ever matches.
bool identity_matches(const std::vector<std::string>& ids, std::string_view domain);
// "sha256:AB:CD:..." of the DER certificate.
std::string fingerprint(X509* cert);

// The passphrase tls_private_key_pass names ("file:PATH": the file's first
// line; "env:VAR"): true and `pass` set, or false and `err` saying why. The
// caller wipes `pass` (OPENSSL_cleanse) once the key is read.
bool read_key_pass(const std::string& spec, std::string& pass, std::string& err);

// Reads the PEM private key at `path`, decrypting it with the passphrase
// `spec` names when spec is not empty; never prompts. nullptr and `err`
// ("wrong passphrase", "encrypted, and no tls_private_key_pass") on failure.
EvpPkeyPtr read_private_key(const std::string& path, const std::string& spec, std::string& err);

}  // namespace ser::tls
