#pragma once
// RAII owners for OpenSSL handles and the error-queue drain. SSL_free and its
// kin appear nowhere else in ser.

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace ser::tls {

template <auto F>
struct Free {
    template <typename T>
    void operator()(T* p) const { F(p); }
};

using SslPtr = std::unique_ptr<SSL, Free<SSL_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, Free<SSL_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, Free<X509_CRL_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;

// Empties OpenSSL's error queue of this thread and returns its entries joined
// by "; " (reason strings only, never key material); "" if it was empty.
std::string drain_errors();

// Opens a PEM file for reading; nullptr (and errno set) when it cannot.
BioPtr open_pem(const std::string& path);

}  // namespace ser::tls
