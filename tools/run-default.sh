#!/bin/sh
# run-default.sh — what `make run` does: start ser in the foreground, logging to
# stderr, on its embedded default configuration, from the top of the source
# tree so the config's relative paths resolve. A TLS build first makes a test
# CA, a server certificate for localhost/127.0.0.1 and a client certificate in
# build/certs/ (once; never committed), as etc/ser.cfg expects.
#   tools/run-default.sh [--certs-only] [SER_BINARY]
#   --certs-only: make the certificates (if missing) and exit.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
certs_only=0
[ "${1:-}" = --certs-only ] && { certs_only=1; shift; }
ser=${1:-$top/ser}
cd "$top"
certs=build/certs
if "$ser" -V | grep -q '(TLS'; then
    if [ ! -f "$certs/localhost.pem" ]; then
        echo "ser: making a test CA and certificates in $certs/ (first run only)"
        tools/ser-certs ca -d "$certs" --cn "ser test CA" >/dev/null
        tools/ser-certs server localhost -d "$certs" --dns localhost --ip 127.0.0.1 --ip ::1 >/dev/null
        tools/ser-certs client client -d "$certs" >/dev/null
    fi
    [ $certs_only = 1 ] && exit 0
    cat <<MSG
ser: starting on the embedded etc/ser.cfg: udp+tcp 127.0.0.1:5060, tls 127.0.0.1:5061
     (mutual TLS). Ctrl-C stops it. To prove it works, from another terminal:

  printf 'OPTIONS sip:ping@127.0.0.1:5061 SIP/2.0\\r\\nVia: SIP/2.0/TLS 127.0.0.1;rport;branch=z9hG4bK-1\\r\\nFrom: <sip:me@127.0.0.1>;tag=1\\r\\nTo: <sip:ping@127.0.0.1>\\r\\nCall-ID: first-run\\r\\nCSeq: 1 OPTIONS\\r\\nContent-Length: 0\\r\\n\\r\\n' | openssl s_client -connect 127.0.0.1:5061 -CAfile $certs/ca.pem -cert $certs/client.pem -key $certs/client.key -quiet -ign_eof

  (ser answers "SIP/2.0 200 OK"; Ctrl-C ends s_client), or over UDP:  sipsak -s sip:ping@127.0.0.1:5060 -v

MSG
else
    [ $certs_only = 1 ] && exit 0
    echo "ser: starting on the embedded etc/ser-notls.cfg: udp+tcp 127.0.0.1:5060. Ctrl-C stops it."
    echo "ser: try, from another terminal:  sipsak -s sip:ping@127.0.0.1:5060 -v"
fi
exec "$ser" -D -E
