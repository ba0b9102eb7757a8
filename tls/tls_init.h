#pragma once
// Process-wide OpenSSL set-up and the building of one SSL_CTX from TLS settings.

#include "cfg/config.h"
#include "tls_util.h"

#include <string>

namespace ser::tls {

// init_tls: OpenSSL's global set-up, once in main before anything else TLS.
bool init_tls();
// destroy_tls: the matching tear-down at exit.
void destroy_tls();

// The session id context of a domain: a digest of its unique name, so
// sessions never resume across domains. Fills all SSL_MAX_SID_CTX_LENGTH bytes.
void session_context_of(const std::string& domain_name, unsigned char* out);

// The names of the TLS 1.2-and-older suites of ctx whose key exchange is not
// ephemeral (no forward secrecy), comma-separated; empty when there is none.
std::string without_forward_secrecy(const SSL_CTX* ctx);

// Builds the SSL_CTX of one domain. Without tls_ciphers_list it offers only
// ECDHE with AES-GCM or ChaCha20-Poly1305 on TLS 1.2 (and TLS 1.3's suites). `client` selects the connecting side.
// On failure returns nullptr and sets `err` ("<name>: SSL_CTX_use_PrivateKey_file(x) failed: ...").
// `primary`, when given, gets the certificate of tls_certificate (owned by the
// context; null without one), told apart from tls_certificate2's.
SslCtxPtr make_ctx(const TlsParams& p, bool client, const std::string& name, std::string& err,
                   X509** primary = nullptr);

}  // namespace ser::tls
