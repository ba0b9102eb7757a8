// bench/tlsload — a TLS client for the benchmarks of bench/parts (OpenSSL 3,
// one thread, epoll, non-blocking sockets).
//
// Build (from the top of the tree):
//   g++ -std=c++20 -O2 -Wall -Wextra -o build/tls/bench/tlsload bench/tlsload/*.cpp -lssl -lcrypto
//
// Modes (see usage() in main.cpp):
//   tlsload handshake -c ADDR:PORT [--seconds S | --count N] [--concurrency K]
//           [--tls 1.2|1.3] [--groups LIST] [--resume] [--ca F] [--sni NAME]
//           [--timeout S]
//   tlsload hold -c ADDR:PORT --conns N [--rate R] [--ready-file F]
//           [--tls 1.2|1.3] [--groups LIST] [--ca F] [--sni NAME] [--timeout S]
//   tlsload floor --conns N --cert F --key F [--tls 1.2|1.3] [--groups LIST] [--release-buffers]
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace tlsload {

struct Options {
    std::string mode;
    std::string host = "127.0.0.1";
    int port = 0;
    double seconds = 0;        // handshake: run this long (0: use count)
    long count = 0;            // handshake: this many connections
    int concurrency = 1;       // handshake: connections in flight
    int tls = 0;               // 0 = what both sides speak, else 12 / 13
    std::string groups;        // e.g. "X25519"
    bool resume = false;
    std::string ca, sni;
    double timeout = 10;       // seconds a connection may take (each stage)
    long conns = 0;            // hold / floor
    double rate = 0;           // hold: new connections a second (0: no limit)
    int max_inflight = 200;    // hold: handshakes at once
    std::string ready_file;
    std::string cert, key;     // floor
    bool release_buffers = false;   // floor: SSL_MODE_RELEASE_BUFFERS, as ser sets it
};

double now_s();                       // monotonic clock, seconds
void raise_nofile();                  // RLIMIT_NOFILE soft = hard
std::string ssl_errors();             // drain OpenSSL's error queue
SSL_CTX* client_ctx(const Options& o);   // nullptr on error (printed)
bool set_version(SSL_CTX* ctx, int tls);

int run_handshake(const Options& o);
int run_hold(const Options& o);
int run_floor(const Options& o);

}  // namespace tlsload
