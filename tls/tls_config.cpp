// TLS checks of a config, run by ser -c and at start before fork: the files of
// every TLS domain in use are readable, the key matches the certificate, the
// CA list and CRL parse, the cipher list is one OpenSSL accepts.
#include "cfg/cfg_check.h"
#include "tls_init.h"
#include "tls_material.h"
#include "tls_ocsp.h"
#include "tls_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

namespace ser::cfg {

bool tls_compiled_in() { return true; }

namespace {

using tls::drain_errors;

// A loc for diagnostics about one domain: its block, or the config file for the default.
struct Where {
    Loc loc;
    std::string what;   // "tls_domain[1.2.3.4:5061]" or "default TLS domain"
    const TlsParams* params = nullptr;
    bool client = false;       // the identity is used to connect out
    bool check_role = true;    // the certificate was chosen for this role
    int warn_days = 30;        // tls_expiry_warn_days
    // Where `param` was given (the block, or the listener, when it is a default).
    const Loc& at(std::string_view param) const
    {
        if (params) {
            auto it = params->set_at.find(param);
            if (it != params->set_at.end())
                return it->second;
        }
        return loc;
    }
};

// Opens `path`, the value of `param`, for PEM reads; null once it has
// reported that the file cannot be read.
tls::BioPtr open_param(const std::string& path, const char* param, const Where& w, Diags& d)
{
    ERR_clear_error();
    auto bio = tls::open_pem(path);
    if (!bio)
        d.error(w.at(param), w.what + ": " + param + " \"" + path + "\" cannot be read: " + std::strerror(errno));
    return bio;
}

bool load_cert(const std::string& path, const Where& w, const char* param, Diags& d, tls::X509Ptr& out)
{
    auto bio = open_param(path, param, w, d);
    if (!bio)
        return false;
    out.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!out) {
        d.error(w.at(param), w.what + ": " + param + " \"" + path + "\" holds no PEM certificate (" + drain_errors() + ")");
        return false;
    }
    return true;
}

// Validity and role of the certificate, a CRL's next update: fatal ones are
// errors, the rest warnings (tls_material.h holds the rules a reload shares).
void report(const std::vector<tls::MaterialIssue>& issues, const Loc& at, const std::string& prefix, Diags& d)
{
    for (const auto& i : issues) {
        if (i.fatal)
            d.error(at, prefix + i.text);
        else
            d.warning(at, prefix + i.text);
    }
}

// One pair: `key_param` ("tls_private_key" or "tls_private_key2") decrypts
// with tls_private_key_pass when given, matches `cert` and is mode 600.
void check_key(const TlsParams& p, const std::string& key_file, const char* key_param, const std::string& cert_file,
               const char* cert_param, const Where& w, X509* cert, Diags& d)
{
    if (!open_param(key_file, key_param, w, d))
        return;
    std::string why;
    tls::EvpPkeyPtr key = tls::read_private_key(key_file, p.private_key_pass, why);
    if (!key) {
        bool pass = why.rfind("tls_private_key_pass:", 0) == 0;
        d.error(w.at(pass ? "tls_private_key_pass" : key_param),
                w.what + ": " + (pass ? why : std::string(key_param) + " \"" + key_file + "\" " + why));
        return;
    }
    if (cert && X509_check_private_key(cert, key.get()) != 1) {
        drain_errors();
        d.error(w.at(key_param), w.what + ": " + key_param + " \"" + key_file + "\" does not match " + cert_param + " \"" +
                                     cert_file + "\"");
    }
    struct stat st;
    if (stat(key_file.c_str(), &st) == 0 && (st.st_mode & 077))
        d.warning(w.at(key_param), w.what + ": " + key_param + " \"" + key_file + "\" is readable by group or others (mode " +
                                       std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                                       std::to_string(st.st_mode & 7) + "); chmod 600 it");
}

void check_pass_file(const TlsParams& p, const Where& w, Diags& d)
{
    if (p.private_key_pass.rfind("file:", 0) != 0)
        return;
    struct stat ps;
    std::string pf = p.private_key_pass.substr(5);
    if (stat(pf.c_str(), &ps) == 0 && (ps.st_mode & 077))
        d.warning(w.at("tls_private_key_pass"), w.what + ": tls_private_key_pass \"" + pf +
                                                    "\" is readable by group or others; chmod 600 it");
}

// tls_certificate2 / tls_private_key2: both or neither, and a key type of its own.
void check_second(const TlsParams& p, const Where& w, X509* first, Diags& d)
{
    if (p.certificate2.empty() != p.private_key2.empty()) {
        d.error(w.at(p.certificate2.empty() ? "tls_private_key2" : "tls_certificate2"),
                w.what + ": tls_certificate2 and tls_private_key2 go together");
        return;
    }
    if (p.certificate2.empty())
        return;
    tls::X509Ptr cert;
    if (!load_cert(p.certificate2, w, "tls_certificate2", d, cert))
        return;
    check_key(p, p.private_key2, "tls_private_key2", p.certificate2, "tls_certificate2", w, cert.get(), d);
    report(tls::check_certificate(cert.get(), w.client, w.check_role, w.warn_days, time(nullptr)),
           w.at("tls_certificate2"), w.what + ": tls_certificate2 \"" + p.certificate2 + "\" ", d);
    if (first && EVP_PKEY_get_base_id(X509_get0_pubkey(first)) == EVP_PKEY_get_base_id(X509_get0_pubkey(cert.get())))
        d.error(w.at("tls_certificate2"), w.what + ": tls_certificate2 \"" + p.certificate2 +
                                              "\" has the same key type as tls_certificate: one would replace the "
                                              "other; give one ECDSA and one RSA certificate");
}

void check_ca_list(const TlsParams& p, const Where& w, Diags& d)
{
    auto bio = open_param(p.ca_list, "tls_ca_list", w, d);
    if (!bio)
        return;
    int n = 0;
    while (tls::X509Ptr c{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)})
        n++;
    ERR_clear_error();  // the read past the last certificate always leaves an error
    if (n == 0)
        d.error(w.at("tls_ca_list"), w.what + ": tls_ca_list \"" + p.ca_list + "\" holds no PEM certificate");
}

void check_crl(const TlsParams& p, const Where& w, Diags& d)
{
    auto bio = open_param(p.crl, "tls_crl", w, d);
    if (!bio)
        return;
    tls::X509CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    if (!crl) {
        d.error(w.at("tls_crl"), w.what + ": tls_crl \"" + p.crl + "\" holds no PEM CRL (" + drain_errors() + ")");
        return;
    }
    if (p.ca_list.empty())
        d.warning(w.at("tls_crl"), w.what + ": tls_crl without tls_ca_list: nothing can be checked against it");
    do {
        report(tls::check_crl(crl.get(), p.crl_expired_warn, w.warn_days, time(nullptr)), w.at("tls_crl"),
               w.what + ": tls_crl \"" + p.crl + "\" ", d);
        crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    } while (crl);
    ERR_clear_error();
}

// tls_ocsp_response: a file that is missing is an error; one that cannot be
// stapled (not about this certificate, stale, status unknown) a warning.
void check_ocsp(const TlsParams& p, const Where& w, X509* cert, Diags& d)
{
    const Loc& at = w.at("tls_ocsp_response");
    std::string what = w.what + ": tls_ocsp_response \"" + p.ocsp_response + "\" ";
    if (w.client) {
        d.error(at, what + "is for servers: a client domain staples nothing");
        return;
    }
    if (access(p.ocsp_response.c_str(), R_OK) != 0) {
        d.error(at, what + "cannot be read: " + std::strerror(errno));
        return;
    }
    if (!cert)
        return;
    tls::OcspStaple s;
    std::string why = tls::load_ocsp_for_file(p.ocsp_response, p.certificate, p.ca_list, s);
    if (!why.empty())
        d.warning(at, what + why + ": it is not stapled");
    else if (!tls::stapled(s, time(nullptr)))
        d.warning(at, what + "is past its next update (" + tls::utc_text(s.next_update) + "): it is not stapled");
    else if (s.status == "revoked")
        d.warning(at, what + "says the certificate is REVOKED: clients that check it will refuse ser");
}

void check_ciphers(const TlsParams& p, const Where& w, Diags& d)
{
    if (p.ciphers_list.empty())
        return;
    ERR_clear_error();
    tls::SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
    if (!ctx)
        return;
    if (SSL_CTX_set_cipher_list(ctx.get(), p.ciphers_list.c_str()) != 1) {
        drain_errors();
        d.error(w.at("tls_ciphers_list"), w.what + ": tls_ciphers_list \"" + p.ciphers_list +
                           "\" selects no cipher OpenSSL knows (see: openssl ciphers -v 'LIST')");
        return;
    }
    std::string weak = tls::without_forward_secrecy(ctx.get());
    if (!weak.empty())
        d.warning_once(w.at("tls_ciphers_list"), "without forward secrecy",
                       w.what + ": tls_ciphers_list allows suites without forward secrecy (" + weak +
                           "): a stolen key decrypts recorded sessions");
}

void check_domain(const TlsParams& p, const Where& w, bool need_cert, const CheckOptions& opt, Diags& d)
{
    check_ciphers(p, w, d);
    if (p.require_certificate && !p.verify)
        d.warning(w.at("tls_require_certificate"), w.what + ": tls_require_certificate=1 has no effect without tls_verify=1");
    if (p.optional_no_ca && w.client)
        d.error(w.at("tls_require_certificate"), w.what + ": tls_require_certificate=optional_no_ca is for servers");
    if (p.verify && p.ca_list.empty() && !p.optional_no_ca)
        d.warning(w.at("tls_verify"), w.what + ": tls_verify=1 without tls_ca_list: no peer certificate can verify");
    if (!opt.check_files)
        return;
    tls::X509Ptr cert;
    if (need_cert || !p.certificate.empty()) {
        if (load_cert(p.certificate, w, "tls_certificate", d, cert)) {
            check_key(p, p.private_key, "tls_private_key", p.certificate, "tls_certificate", w, cert.get(), d);
            check_pass_file(p, w, d);
            report(tls::check_certificate(cert.get(), w.client, w.check_role, w.warn_days, time(nullptr)),
                   w.at("tls_certificate"), w.what + ": tls_certificate \"" + p.certificate + "\" ", d);
        }
    }
    check_second(p, w, cert.get(), d);
    if (!p.ca_list.empty())
        check_ca_list(p, w, d);
    if (!p.crl.empty())
        check_crl(p, w, d);
    if (!p.ocsp_response.empty())
        check_ocsp(p, w, cert.get(), d);
}

}  // namespace

void check_tls_material(const Config& cfg, const CheckOptions& opt, Diags& d)
{
    if (!cfg.tls_keylog_file.empty())
        d.warning(Loc{cfg.file, 1, 1}, "tls_keylog_file=\"" + cfg.tls_keylog_file +
                                            "\": the keys of every TLS session will be written to it (debugging only)");
    // The default domain serves every TLS listener without a tls_domain of its
    // own, so its files must be good whenever such a listener exists.
    std::set<std::pair<std::string, uint16_t>> covered;
    for (const auto& dom : cfg.tls_domains)
        if (!dom.client)
            covered.insert({dom.addr, dom.port});
    bool default_used = false;
    Loc first_listen{cfg.file, 1, 1};
    for (const auto& l : cfg.listens)
        if (l.proto == Proto::Tls && !covered.count({l.addr, l.port})) {
            if (!default_used)
                first_listen = l.loc;
            default_used = true;
        }
    for (const auto& s : cfg.serials)
        for (const auto& l : s.listens) {
            if (l.tls && !covered.count({l.addr, l.port}))
                default_used = true;
            // tls_handshake_rate is counted at the SIP workers' accept only.
            if (!l.tls)
                continue;
            const TlsParams* p = &cfg.tls;
            for (const auto& dom : cfg.tls_domains)
                if (!dom.client && dom.addr == l.addr && dom.port == l.port)
                    p = &dom.params;
            if (p->handshake_rate > 0 && p != &cfg.tls)
                d.error(l.loc, "tls_handshake_rate is not available on serial listeners (tls:" + l.addr + ":" +
                                   std::to_string(l.port) + "); remove it from that tls_domain (max_clients and allow= bound a device's clients)");
            else if (p->handshake_rate > 0)
                d.warning(l.loc, "tls_handshake_rate limits the SIP TLS listeners only; the serial listener tls:" + l.addr +
                                     ":" + std::to_string(l.port) + " is not limited (max_clients and allow= bound its clients)");
        }
    if (default_used)
        check_domain(cfg.tls, Where{first_listen, "default TLS domain", &cfg.tls, false, true, cfg.tls_expiry_warn_days},
                     true, opt, d);
    else
        check_ciphers(cfg.tls, Where{first_listen, "default TLS domain", &cfg.tls}, d);
    for (const auto& dom : cfg.tls_domains) {
        std::string name = std::string(dom.client ? "tls_client_domain[" : "tls_domain[") + dom.addr + ":" +
                           std::to_string(dom.port) + "]";
        // A client domain needs a certificate only when it was given one.
        bool need = !dom.client;
        TlsParams p = dom.params;
        if (dom.client && p.certificate == cfg.tls.certificate && p.certificate == cfg.dir + "cert.pem" &&
            access(p.certificate.c_str(), R_OK) != 0)
            p.certificate.clear();
        bool own_cert = !dom.client || dom.params.certificate != cfg.tls.certificate;
        check_domain(p, Where{dom.loc, name, &p, dom.client, own_cert, cfg.tls_expiry_warn_days}, need, opt, d);
    }
}

}  // namespace ser::cfg
