#!/bin/sh
# run-default.sh — what `make run` does: start ser in the foreground, logging to
# stderr, on its embedded default configuration (etc/ser.cfg), from the
# top of the source tree so the config's relative paths resolve.
#   tools/run-default.sh [SER_BINARY]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
ser=${1:-$top/ser}
cd "$top"
echo "ser: starting on the embedded etc/ser.cfg (Ctrl-C stops it)."
echo "ser: try, from another terminal:  sipsak -s sip:ping@127.0.0.1:5060 -v"
exec "$ser" -D -E
