#!/bin/sh
# The layers of core/ (DESIGN.md "Layout") include only downwards:
#   core/*.h (log, clock, net, proto) < cfg < shm < sip < io < route < proxy < proc
# tls/ sits on io: it may include the root, cfg, shm, io and itself, never
# sip, route, proxy or proc; nothing in core/ includes tls/ (core reaches TLS
# only through io/tls_hooks.h). A violation names the file and the include.
. "$(dirname "$0")/lib.sh"
cd "$SER_TOP" || fail "no source tree at $SER_TOP"

rank() {
    case $1 in
        root) echo 0;; cfg) echo 1;; shm) echo 2;; sip) echo 3;; io) echo 4;;
        tls) echo 4;; route) echo 5;; proxy) echo 6;; proc) echo 7;; *) echo 99;;
    esac
}
layer_of_file() { # core/io/x.cpp -> io, core/log.h -> root, tls/x.cpp -> tls
    case $1 in
        core/*/*) f=${1#core/}; echo "${f%%/*}";;
        core/*) echo root;;
        tls/*) echo tls;;
    esac
}
layer_of_include() { # "io/net.h" -> io, "log.h" -> root (from core/); tls-local names -> tls
    case $1 in
        */*) echo "${1%%/*}";;
        *) [ -f "core/$1" ] && echo root || echo local;;
    esac
}

bad=0 checked=0
for f in $(find core tls -name '*.h' -o -name '*.cpp' | grep -v '^tls/stub/' | sort); do
    from=$(layer_of_file "$f")
    rf=$(rank "$from")
    for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
        checked=$((checked + 1))
        to=$(layer_of_include "$inc")
        [ "$to" = local ] && continue          # same folder
        [ "$to" = "$from" ] && continue
        rt=$(rank "$to")
        if [ "$from" = tls ] && [ "$rt" -gt 4 ]; then
            echo "tls includes a layer above io: $f -> $inc"; bad=$((bad + 1))
        elif [ "$from" != tls ] && [ "$rt" -ge "$rf" ]; then
            echo "include points up or sideways: $f ($from) -> $inc ($to)"; bad=$((bad + 1))
        fi
    done
done
grep -rn '#include "tls/' core >/dev/null && { grep -rn '#include "tls/' core; bad=$((bad + 1)); }
[ "$checked" -gt 100 ] || fail "only $checked includes found: is the tree there?"
[ "$bad" -eq 0 ] || fail "$bad include(s) break the layering"
ok "$checked includes of core/ and tls/ point only down the layers"
