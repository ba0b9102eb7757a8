#!/bin/sh
# make install, as a package build and as a live install, for the flavour
# under test (SER_BIN=build/<variant>/ser; only the installed binary's
# options.o is compiled anew):
# - DESTDIR=$T/root PREFIX=/usr/local: the tree has ser, ser-certs, the
#   configs, the unit with /usr/local paths, the sysusers entry and the man
#   pages; the installed ser reads /usr/local/etc/ser/ser.cfg without -f;
#   `systemd-analyze security` rates the unit under 3.0.
# - PREFIX=$T/prefix: `systemd-analyze verify` passes on the unit (its
#   binary exists there), the installed ser -c checks its default config, and
#   a second install keeps a config the user changed (the new one as .new).
# - ./ser is refreshed on every make, even when it is newer than the flavour's binary.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed"; exit 77; }
variant=$(basename "$(dirname "$SER_BIN")")
[ "$(cd "$(dirname "$SER_BIN")/../.." && pwd)" = "$SER_TOP" ] ||
    { echo "SER_BIN=$SER_BIN is not a build of $SER_TOP (build/<variant>/ser)"; exit 77; }
case $variant in
    tls*) flavour="TLS=1";; plain*) flavour="TLS=0";;
    *) echo "unknown build variant $variant"; exit 77;;
esac
case $variant in *-san) flavour="$flavour SANITIZE=1";; esac
cd "$SER_TOP" || fail "no source tree at $SER_TOP"

# shellcheck disable=SC2086
make -j2 $flavour install DESTDIR="$T/root" PREFIX=/usr/local >"$T/make1.log" 2>&1 ||
    { tail -n 30 "$T/make1.log"; fail "make install DESTDIR=... failed"; }
R=$T/root/usr/local
for f in sbin/ser sbin/serctl bin/ser-certs etc/ser/ser.cfg etc/ser/ser-production.cfg etc/ser/ser-serial.cfg \
         etc/ser/ser-notls.cfg etc/ser/ser2sock.conf lib/systemd/system/ser.service lib/sysusers.d/ser.conf \
         share/man/man8/ser.8 share/man/man8/serctl.8 share/man/man5/ser.cfg.5 share/man/man1/ser-certs.1; do
    [ -f "$R/$f" ] || fail "make install left out /usr/local/$f"
done
[ -x "$R/sbin/ser" ] && [ -x "$R/sbin/serctl" ] && [ -x "$R/bin/ser-certs" ] || fail "programs not executable"
[ "$(stat -c %a "$R/etc/ser/ser.cfg")" = 644 ] || fail "ser.cfg is not mode 644"
cmp -s "$R/sbin/serctl" "build/$variant/serctl" || fail "the installed serctl is not build/$variant/serctl"
grep -q '"\.\./build/certs/' "$R/etc/ser/ser.cfg" && fail "installed ser.cfg still points at build/certs"
if [ "$variant" = "${variant#tls}" ]; then
    cmp -s "$R/etc/ser/ser.cfg" etc/ser-notls.cfg || fail "a build without TLS did not install ser-notls.cfg as ser.cfg"
fi
ok "DESTDIR install: ser, serctl, ser-certs, configs, unit, sysusers entry, 4 man pages"

"$R/sbin/ser" -h >"$T/help" || fail "installed ser -h failed"
grep -q 'default: /usr/local/etc/ser/ser.cfg' "$T/help" || { cat "$T/help"; fail "installed ser -h does not name /usr/local/etc/ser/ser.cfg"; }
# Run from a directory where no config lies, so only the compiled-in path can be read.
(cd "$T" && "$R/sbin/ser" -c) >"$T/c.out" 2>&1 && fail "ser -c succeeded without /usr/local/etc/ser/ser.cfg?"
grep -q '/usr/local/etc/ser/ser\.cfg' "$T/c.out" || { cat "$T/c.out"; fail "installed ser -c did not look for /usr/local/etc/ser/ser.cfg"; }
"$SER_BIN" -h | grep -q 'default: the embedded etc/ser' || fail "the development binary lost its embedded default config"
ok "installed ser defaults to -f /usr/local/etc/ser/ser.cfg; build/$variant/ser still to the embedded config"

U=$R/lib/systemd/system/ser.service
grep -q '^ExecStart=/usr/local/sbin/ser -D -f /usr/local/etc/ser/ser.cfg$' "$U" || fail "unit's ExecStart does not use /usr/local"
grep -q '@[A-Z]*@' "$U" && fail "unit keeps a template placeholder: $(grep '@[A-Z]*@' "$U")"
for line in User=ser AmbientCapabilities=CAP_NET_BIND_SERVICE CapabilityBoundingSet=CAP_NET_BIND_SERVICE \
            RuntimeDirectory=ser DevicePolicy=closed 'DeviceAllow=char-ttyUSB rw' SupplementaryGroups=dialout; do
    grep -q -x -F "$line" "$U" || fail "unit has no $line"
done
systemd-analyze security --offline=yes --root="$T/root" ser.service >"$T/sec" 2>&1 ||
    { tail -n 5 "$T/sec"; fail "systemd-analyze security failed"; }
rating=$(sed -n 's/.*Overall exposure level for ser.service: \([0-9.]*\).*/\1/p' "$T/sec")
[ -n "$rating" ] || { tail -n 5 "$T/sec"; fail "no exposure level in systemd-analyze security's output"; }
awk -v r="$rating" 'BEGIN { exit !(r < 3.0) }' || { grep '✗' "$T/sec"; fail "exposure level $rating is not under 3.0"; }
ok "unit: /usr/local paths, User=ser with CAP_NET_BIND_SERVICE only, ttys allowed; exposure level $rating"

# A live install under $T/prefix: its unit names binaries that exist, as verify requires.
P=$T/prefix
# shellcheck disable=SC2086
make -j2 $flavour install PREFIX="$P" >"$T/make2.log" 2>&1 || { tail -n 30 "$T/make2.log"; fail "make install PREFIX=$P failed"; }
systemd-analyze verify --man=no "$P/lib/systemd/system/ser.service" >"$T/verify" 2>&1 ||
    { cat "$T/verify"; fail "systemd-analyze verify failed"; }
[ -s "$T/verify" ] && { cat "$T/verify"; fail "systemd-analyze verify complained"; }
ok "systemd-analyze verify: no complaint"

if grep -q '^listen=tls' "$P/etc/ser/ser.cfg"; then
    "$P/bin/ser-certs" ca -d "$P/etc/ser/certs" >/dev/null &&
        "$P/bin/ser-certs" server localhost -d "$P/etc/ser/certs" --dns localhost --ip 127.0.0.1 >/dev/null ||
        fail "ser-certs could not make the certificates of the installed ser.cfg"
fi
(cd "$T" && "$P/sbin/ser" -c) >"$T/c2.out" 2>&1 || { cat "$T/c2.out"; fail "installed ser -c of its default config failed"; }
grep -q -F "$P/etc/ser/ser.cfg: configuration OK" "$T/c2.out" || { cat "$T/c2.out"; fail "ser -c did not check $P/etc/ser/ser.cfg"; }
ok "installed ser -c, no -f: $P/etc/ser/ser.cfg OK"

echo "# changed by the user" >>"$P/etc/ser/ser.cfg"
cp "$P/etc/ser/ser.cfg" "$T/mine.cfg"
# shellcheck disable=SC2086
make -j2 $flavour install PREFIX="$P" >"$T/make3.log" 2>&1 || { tail -n 30 "$T/make3.log"; fail "second make install failed"; }
cmp -s "$P/etc/ser/ser.cfg" "$T/mine.cfg" || fail "a second make install overwrote the user's ser.cfg"
[ -f "$P/etc/ser/ser.cfg.new" ] || fail "the shipped ser.cfg was not put beside it as ser.cfg.new"
[ ! -e "$P/etc/ser/ser-serial.cfg.new" ] || fail "an unchanged config got a .new copy"
grep -q 'ser.cfg is kept' "$T/make3.log" || fail "make install did not say it kept ser.cfg"
ok "second install keeps the user's ser.cfg, ships ser.cfg.new, leaves unchanged files alone"

# ./ser and ./serctl follow the flavour of every make, not only when
# build/<variant>/ser is newer than ./ser.
# shellcheck disable=SC2086
make -n $flavour ser >"$T/n.log" 2>&1 || fail "make -n ser failed"
for b in ser serctl; do
    grep -q "cmp -s build/$variant/$b $b || cp -f build/$variant/$b $b" "$T/n.log" ||
        { cat "$T/n.log"; fail "make $flavour does not compare ./$b with build/$variant/$b"; }
done
ok "make $flavour always brings ./ser and ./serctl in line with build/$variant/"
