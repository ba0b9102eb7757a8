#!/bin/sh
# The man pages (man/*.[158]) format without a single warning from man/groff,
# and they keep up with the programs: ser(8) documents every flag `ser -h`
# lists, ser-certs(1) every command of `ser-certs --help`, serctl(8) every
# command of the control socket, ser.cfg(5) the parameter names of each part.
. "$(dirname "$0")/lib.sh"
command -v man >/dev/null || { echo "man (man-db) not installed"; exit 77; }
cd "$SER_TOP" || fail "no source tree at $SER_TOP"

pages="man/ser.8 man/ser.cfg.5 man/serctl.8 man/ser-certs.1"
for p in $pages; do
    [ -f "$p" ] || fail "$p missing"
    w=$(MANWIDTH=80 man --warnings -l -E UTF-8 "$p" 2>&1 >/dev/null)
    [ -z "$w" ] || fail "$p: man --warnings says: $w"
    MANWIDTH=80 man -l -E UTF-8 "$p" 2>/dev/null >"$T/$(basename "$p").txt"
    [ "$(wc -l <"$T/$(basename "$p").txt")" -gt 40 ] || fail "$p renders to almost nothing"
done
ok "4 man pages render without warnings"

# documented PAGE WORD...: each WORD appears in the rendered PAGE.
documented() {
    _page=$T/$1.txt; shift
    for _w in "$@"; do
        grep -q -F -- "$_w" "$_page" || fail "$(basename "$_page" .txt) does not mention $_w"
    done
}

# A flag counts when an entry of OPTIONS starts with it ("-f" alone is in "pre-forked").
flags=$("$SER_BIN" -h | sed -n 's/^  \(-[A-Za-z]\).*/\1/p')
[ "$(echo "$flags" | wc -w)" -ge 10 ] || fail "ser -h lists only: $flags"
for f in $flags; do
    grep -q -E -- "^       $f([ ,]|\$)" "$T/ser.8.txt" || fail "ser(8) has no OPTIONS entry for $f"
done
documented ser.8 --help --version --ser2sock SIGHUP SIGTERM SIGINT SIGUSR1 ser.cfg
ok "ser(8) documents every flag of ser -h ($(echo $flags | tr -d '\n')), --help/--version and the signals"

cmds=$(tools/ser-certs --help | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p;s/^  \([a-z][a-z]*\)$/\1/p' | sort -u)
[ "$(echo "$cmds" | wc -w)" -ge 7 ] || fail "ser-certs --help lists only: $cmds"
# shellcheck disable=SC2086
documented ser-certs.1 $cmds --key-type --days --cn --force --p12-pass --reason SER_CERTS_P12_PASS
ok "ser-certs(1) documents every command of ser-certs --help: $(echo $cmds)"

documented serctl.8 core.version core.uptime core.ps core.shmmem tcp.list tls.list tls.info \
    tls.reload serial.list stats.reset conn.close log.level metrics system.listMethods --json \
    SER_CTL
serctl=$(dirname "$SER_BIN")/serctl
if [ -x "$serctl" ]; then
    opts=$("$serctl" --help 2>&1 | sed -n 's/^  \(--*[A-Za-z]*\) .*/\1/p')
    [ -n "$opts" ] || fail "serctl --help lists no option"
    for o in $opts; do
        grep -q -E -- "^       $o([ ,]|\$)" "$T/serctl.8.txt" || fail "serctl(8) has no OPTIONS entry for $o"
    done
fi
ok "serctl(8) documents the control commands${opts:+ and every option of serctl --help ($(echo $opts))}"

documented ser.cfg.5 listen children tcp_children tcp_max_connections ctl_socket ctl_mode metrics_listen tls_certificate \
    tls_private_key tls_ca_list tls_crl tls_verify tls_require_certificate tls_domain \
    tls_client_domain tls_server_name baudrate allow banner terminal_init rfc2217 framing route forward \
    sl_send_reply
ok "ser.cfg(5) covers globals, TLS, serial blocks and routes"
