#pragma once
// A BIO over the transport below (plain TCP): the SSL object reads and writes
// through it (HAProxy ha_ssl_read, Envoy io_handle_bio), so TLS never touches
// the socket and the same TLS code runs over anything a Transport moves bytes
// on. In unit tests the layer below is a BIO pair instead.

#include "io/transport.h"
#include "tls_util.h"

namespace ser::tls {

// Where a transport BIO sends its bytes; owned by the TLS connection and
// outliving its BIO.
struct LowerLink {
    Transport* lower = nullptr;
    StreamConn* conn = nullptr;
    int first_byte = -1;   // the first byte read through it (a TLS record type, or not TLS at all)
};

// A new BIO whose reads and writes go to link.lower on link.conn: Again
// becomes a retry (SSL_ERROR_WANT_*), Closed an end of file, Error a failure.
// nullptr when OpenSSL cannot make one.
BIO* transport_bio(LowerLink& link);

}  // namespace ser::tls
