// OpenSSL set-up, SSL_CTX construction from the SER TLS parameters, and the
// registration of the TLS transport (tls_register, called by main before fork).
#include "tls_init.h"

#include "log.h"
#include "tls_domain.h"
#include "tls_material.h"
#include "io/tls_hooks.h"
#include "tls_server.h"
#include "io/transport.h"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ser::tls {
namespace {

int g_keylog_fd = -1;   // tls_keylog_file, opened by main before fork

void keylog_line(const SSL*, const char* line)
{
    // One write per line, O_APPEND: lines of several processes never interleave.
    std::string l = std::string(line) + "\n";
    if (write(g_keylog_fd, l.data(), l.size()) < 0) {
        // Nothing to do: a full disk must not end a handshake.
    }
}

std::string failed(const std::string& name, const std::string& call)
{
    std::string why = drain_errors();
    return name + ": " + call + " failed" + (why.empty() ? "" : ": " + why);
}

// ECDHE key exchange with AEAD only (TLS 1.3 suites as OpenSSL has them):
// forward secret, no CBC. Anything else only when tls_ciphers_list asks.
constexpr const char* kDefaultCiphers = "ECDHE+AESGCM:ECDHE+CHACHA20";
// The explicit legacy opt-in (TLS 1.0/1.1) has no AEAD: ECDHE with CBC then.
constexpr const char* kLegacyCiphers = "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:@SECLEVEL=0";

bool set_versions(SSL_CTX* ctx, TlsMethod m)
{
    int lo = TLS1_2_VERSION, hi = 0;
    switch (m) {
    case TlsMethod::Sslv23: break;
    case TlsMethod::Tlsv1: lo = hi = TLS1_VERSION; break;
    case TlsMethod::Tlsv1_1: lo = hi = TLS1_1_VERSION; break;
    case TlsMethod::Tlsv1_2: lo = hi = TLS1_2_VERSION; break;
    case TlsMethod::Tlsv1_3: lo = hi = TLS1_3_VERSION; break;
    }
    // TLS 1.0/1.1 sign with SHA-1, which OpenSSL 3 refuses above security level 0:
    // the explicit legacy opt-in has to lower it for that domain alone.
    if (lo < TLS1_2_VERSION)
        SSL_CTX_set_security_level(ctx, 0);
    if (!SSL_CTX_set_cipher_list(ctx, lo < TLS1_2_VERSION ? kLegacyCiphers : kDefaultCiphers))
        return false;
    return SSL_CTX_set_min_proto_version(ctx, lo) && SSL_CTX_set_max_proto_version(ctx, hi);
}

bool load_crls(SSL_CTX* ctx, const std::string& path)
{
    BioPtr bio = open_pem(path);
    if (!bio)
        return false;
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int n = 0;
    while (X509CrlPtr crl{PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)}) {
        if (!X509_STORE_add_crl(store, crl.get()))
            return false;
        n++;
    }
    ERR_clear_error();
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    return n > 0;
}

// One certificate (with its chain) and key; OpenSSL keeps one per key type.
bool load_pair(SSL_CTX* ctx, const std::string& cert, const std::string& key_file, const char* cert_param,
               const char* key_param, const TlsParams& p, const std::string& name, std::string& err)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
        err = failed(name, "SSL_CTX_use_certificate_chain_file(" + cert + ")");
        return false;
    }
    std::string why;
    EvpPkeyPtr key = read_private_key(key_file, p.private_key_pass, why);
    if (!key) {
        err = name + ": " + (why.rfind("tls_private_key_pass:", 0) == 0 ? why : std::string(key_param) + " \"" + key_file + "\" " + why);
        return false;
    }
    if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            drain_errors();
            err = name + ": " + key_param + " \"" + key_file + "\" does not match " + cert_param + " \"" + cert +
                  "\" (a certificate renewed with a new key: put both in place)";
            return false;
        }
        err = failed(name, std::string("SSL_CTX_use_PrivateKey(") + key_file + ")");
        return false;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        err = failed(name, "SSL_CTX_check_private_key(" + key_file + ")");
        return false;
    }
    return true;
}

bool load_identity(SSL_CTX* ctx, const TlsParams& p, const std::string& name, std::string& err, X509** primary)
{
    if (!load_pair(ctx, p.certificate, p.private_key, "tls_certificate", "tls_private_key", p, name, err))
        return false;
    if (primary)
        *primary = SSL_CTX_get0_certificate(ctx);
    if (p.certificate2.empty())
        return true;
    int first = EVP_PKEY_get_base_id(SSL_CTX_get0_privatekey(ctx));
    tls::X509Ptr second;
    if (BioPtr b = open_pem(p.certificate2))
        second.reset(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    EVP_PKEY* second_key = second ? X509_get0_pubkey(second.get()) : nullptr;
    if (second_key && EVP_PKEY_get_base_id(second_key) == first) {
        err = name + ": tls_certificate2 \"" + p.certificate2 + "\" has the same key type as tls_certificate (" +
              OBJ_nid2sn(first) + "): one would replace the other; give one ECDSA and one RSA certificate";
        return false;
    }
    if (!load_pair(ctx, p.certificate2, p.private_key2, "tls_certificate2", "tls_private_key2", p, name, err))
        return false;
    SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);   // the checks walk every certificate from here
    return true;
}

}  // namespace

std::string without_forward_secrecy(const SSL_CTX* ctx)
{
    std::string out;
    STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx);
    for (int i = 0; list && i < sk_SSL_CIPHER_num(list); i++) {
        const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
        int kx = SSL_CIPHER_get_kx_nid(c);
        // TLS 1.3 suites (kx "any") always use (EC)DHE.
        if (kx == NID_kx_ecdhe || kx == NID_kx_dhe || kx == NID_kx_ecdhe_psk || kx == NID_kx_dhe_psk ||
            kx == NID_kx_any)
            continue;
        out += out.empty() ? "" : ", ";
        out += SSL_CIPHER_get_name(c);
    }
    return out;
}

void session_context_of(const std::string& domain_name, unsigned char* out)
{
    static_assert(SSL_MAX_SID_CTX_LENGTH == SHA256_DIGEST_LENGTH);
    SHA256(reinterpret_cast<const unsigned char*>(domain_name.data()), domain_name.size(), out);
}

bool init_tls()
{
    return OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, nullptr) == 1;
}

void destroy_tls()
{
    // OpenSSL 3 frees its globals at exit by itself; nothing of ours is global.
}

SslCtxPtr make_ctx(const TlsParams& p, bool client, const std::string& name, std::string& err, X509** primary)
{
    if (primary)
        *primary = nullptr;
    ERR_clear_error();
    SslCtxPtr ctx(SSL_CTX_new(client ? TLS_client_method() : TLS_server_method()));
    if (!ctx) {
        err = failed(name, "SSL_CTX_new");
        return nullptr;
    }
    if (!set_versions(ctx.get(), p.method)) {
        err = failed(name, "setting tls_method");
        return nullptr;
    }
    if (!p.ciphers_list.empty() && SSL_CTX_set_cipher_list(ctx.get(), p.ciphers_list.c_str()) != 1) {
        err = failed(name, "SSL_CTX_set_cipher_list(" + p.ciphers_list + ")");
        return nullptr;
    }
    // A client presents a certificate only when one is configured and readable.
    bool want_identity = !client || (access(p.certificate.c_str(), R_OK) == 0 && access(p.private_key.c_str(), R_OK) == 0);
    if (want_identity && !load_identity(ctx.get(), p, name, err, primary))
        return nullptr;
    if (!p.ca_list.empty()) {
        if (SSL_CTX_load_verify_locations(ctx.get(), p.ca_list.c_str(), nullptr) != 1) {
            err = failed(name, "SSL_CTX_load_verify_locations(" + p.ca_list + ")");
            return nullptr;
        }
        if (!client)
            SSL_CTX_set_client_CA_list(ctx.get(), SSL_load_client_CA_file(p.ca_list.c_str()));
    }
    if (!p.crl.empty() && !load_crls(ctx.get(), p.crl)) {
        err = failed(name, "loading tls_crl(" + p.crl + ")");
        return nullptr;
    }
    int mode = SSL_VERIFY_NONE;
    if (p.verify)
        mode = SSL_VERIFY_PEER | (!client && p.require_certificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    if (!client && p.optional_no_ca)
        mode = SSL_VERIFY_PEER;   // asked for, never required; verify_callback lets an unknown CA through
    if (p.verify_depth >= 0)
        SSL_CTX_set_verify_depth(ctx.get(), p.verify_depth);
    SSL_CTX_set_verify(ctx.get(), mode, verify_callback);
    // SSL_MODE_RELEASE_BUFFERS: OpenSSL frees a connection's read and write
    // buffers (about 34 KB) whenever they are empty, so an idle connection
    // holds none (bench/ANALYSIS.md, memory per idle TLS connection).
    SSL_CTX_set_mode(ctx.get(),
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    // Read ahead: one read of the socket takes every record that has come
    // (up to the buffer) instead of a read for each record's header and
    // another for its body (bench/ANALYSIS.md, TLS forwarding).
    SSL_CTX_set_read_ahead(ctx.get(), 1);
    if (g_keylog_fd >= 0)
        SSL_CTX_set_keylog_callback(ctx.get(), keylog_line);
    // Renegotiation buys nothing for SIP and costs a server CPU on demand;
    // compression leaks plaintext lengths (CRIME). OpenSSL 3 has compression
    // off already: say so here anyway, so no build option turns it on.
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    if (!client)
        SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (!client) {
        // Resumed sessions must stay within the domain that verified them.
        unsigned char sid[SSL_MAX_SID_CTX_LENGTH];
        session_context_of(name, sid);
        SSL_CTX_set_session_id_context(ctx.get(), sid, sizeof sid);
        SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(ctx.get(), 20000);
        // One TLS 1.3 ticket per handshake, not OpenSSL's two: a SIP peer
        // holds one connection and resumes it with one ticket; each ticket
        // is a session encoded, encrypted and sent (bench/ANALYSIS.md).
        SSL_CTX_set_num_tickets(ctx.get(), 1);
    } else {
        SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    }
    return ctx;
}

}  // namespace ser::tls

namespace ser {

std::string tls_register(const Config& cfg, const std::vector<ListenAddr>& listeners)
{
    if (cfg.disable_tls)
        return {};
    bool needed = !cfg.tls_domains.empty();
    for (const auto& l : listeners)
        needed = needed || l.proto == Proto::Tls;
    for (const auto& s : cfg.serials)
        for (const auto& e : s.listens)
            needed = needed || e.tls;
    if (!needed)
        return {};
    if (!tls::init_tls())
        return "OpenSSL initialisation failed: " + tls::drain_errors();
    if (!cfg.tls_keylog_file.empty() && tls::g_keylog_fd < 0) {
        tls::g_keylog_fd = open(cfg.tls_keylog_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (tls::g_keylog_fd < 0)
            return "tls_keylog_file \"" + cfg.tls_keylog_file + "\" cannot be opened: " + std::strerror(errno);
        LOG_WARN("tls_keylog_file=\"%s\": THE KEYS OF EVERY TLS SESSION ARE WRITTEN TO IT; whoever reads it decrypts "
                 "all recorded traffic. For debugging only: remove it from ser.cfg and delete the file",
                 cfg.tls_keylog_file.c_str());
    }
    std::string err;
    auto domains = tls::TlsDomainSet::build(cfg, err);
    if (!domains)
        return err;
    size_t n = domains->size();
    register_transport(Proto::Tls, &tls::tls_transport_init(cfg, tcp_transport(), std::move(domains)));
    LOG_INFO("TLS: %zu domain(s) ready", n);
    return {};
}

std::string tls_library_versions()
{
    // The two differ when the system's libssl was upgraded after the build.
    return std::string("OpenSSL: built with ") + OPENSSL_VERSION_TEXT + ", running with " + tls_library_version();
}

}  // namespace ser
