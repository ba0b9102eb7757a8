#!/bin/sh
# install-deps.sh — install, with apt-get, the build and test dependencies of ser
# that are missing. Safe to run repeatedly: it only acts when something is absent.
#
#   tools/install-deps.sh          build + test dependencies
#   tools/install-deps.sh --build  only what `make` needs
#   tools/install-deps.sh --bench  build + test + what `make bench` runs beside ser
set -eu

BUILD_PKGS="g++ make bison flex libssl-dev openssl pkg-config nlohmann-json3-dev libc-ares-dev"
TEST_PKGS="libcppunit-dev clang libclang-rt-14-dev sip-tester socat sipsak ncat iproute2 procps kamailio kamailio-tls-modules sslscan python3 curl python3-serial ser2net prometheus man-db systemd haproxy dnsmasq"

# The anchors and the profilers of bench/ (kamailio, sipp, socat, ser2net are test peers too).
BENCH_PKGS="stunnel4 linux-perf strace valgrind"

pkgs="$BUILD_PKGS"
case "${1:-}" in
    --build) ;;
    --bench) pkgs="$pkgs $TEST_PKGS $BENCH_PKGS" ;;
    *) pkgs="$pkgs $TEST_PKGS" ;;
esac

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-deps: need root to install:$missing" >&2; exit 1
    fi
else
    SUDO=""
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# Kamailio, ser2net, haproxy, dnsmasq, stunnel and prometheus (for promtool) are only test and bench peers: keep their packages from
# starting a service that would hold a port (policy-rc.d tells invoke-rc.d not
# to start anything).
policy=""
case "$missing" in *kamailio*|*ser2net*|*haproxy*|*prometheus*|*dnsmasq*|*stunnel*)
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod 755 /usr/sbin/policy-rc.d
        policy=/usr/sbin/policy-rc.d
    fi;;
esac
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null || rc=$?
[ -n "$policy" ] && $SUDO rm -f "$policy"
[ "${rc:-0}" -eq 0 ] || { echo "install-deps: apt-get install failed" >&2; exit 1; }
echo "install-deps: done" >&2
