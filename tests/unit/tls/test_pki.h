#pragma once
// The certificates of the TLS unit tests, made in process with the OpenSSL
// API once per run of the test binary, as PEM files in a temporary directory
// that is removed at exit. In process rather than tools/ser-certs because the
// tests need identities the tool refuses to make on purpose (an expired one).

#include <string>

namespace ser::test {

// A certificate and its private key, as PEM file paths.
struct Identity {
    std::string cert;
    std::string key;
};

// Every identity the TLS tests use. All keys are ECDSA P-256 unless said.
struct TestPki {
    std::string dir;        // the temporary directory holding everything below

    // "ser test CA": the CA that every test domain trusts (tls_ca_list).
    std::string ca;
    std::string ca_key;     // its private key (PEM), for tests that sign (OCSP responses)
    // "other CA": an unrelated CA that nothing trusts.
    std::string other_ca;
    // The CRL of "ser test CA" (tls_crl): revokes `revoked` and nothing else.
    std::string crl;

    // CN sip.example.com, SAN DNS:sip.example.com, DNS:localhost, IP:127.0.0.1;
    // serverAuth; from "ser test CA". The usual listener certificate.
    Identity server;
    // CN rsa.example.com, SAN DNS:rsa.example.com; RSA 2048 key; serverAuth; from "ser test CA".
    Identity server_rsa;
    // CN a.example.com / b.example.com, SAN DNS of the same name; serverAuth;
    // from "ser test CA". The two SNI-selected domains of one listener.
    Identity server_a;
    Identity server_b;
    // CN ignored.example.com, SAN URI:sip:trunk.example.com only; serverAuth
    // + clientAuth; from "ser test CA". A SIP domain certificate of RFC 5922.
    Identity sip_uri;
    // CN wild, SAN DNS:*.example.com; serverAuth; from "ser test CA". RFC 5922
    // matches no wildcard.
    Identity wildcard;
    // CN alice; clientAuth; from "ser test CA", valid now.
    Identity client;
    // CN old-alice; clientAuth; from "ser test CA"; expired yesterday (valid 60 to 1 days ago).
    Identity expired;
    // CN mallory; clientAuth; from "other CA".
    Identity foreign;
    // CN bob; clientAuth; from "ser test CA", valid, but listed in `crl`.
    Identity revoked;
};

// The identities of this run, made on first use. Fails the calling test
// (CppUnit assertion) when OpenSSL cannot make them.
const TestPki& test_pki();

}  // namespace ser::test
