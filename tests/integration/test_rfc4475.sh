#!/bin/sh
# The torture corpora through a running ser over UDP (tests/sip): every valid
# request of RFC 4475 §3.1.1 and RFC 5118 reaches a sink byte for byte, apart
# from ser's Via on top, Max-Forwards one less and the received= of the
# sender's Via; the valid responses (not ours) and nothing else reach it.
# The invalid messages of RFC 4475 §3.1.2 get the 400 naming the defect or
# nothing, as tests/unit/proxy/test_proxy_torture.cpp decides per message,
# and the metrics count each by defect. With reply_to_invalid=no nothing is
# answered.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
TOP=${SER_TOP:-.}

run_case() { # $1 = reply_to_invalid value
    P=$(free_port); SINK=$(free_port); M=$(free_port)
    cat >"$T/ser.cfg" <<CFG
debug=3
children=1
reply_to_invalid=$1
listen=udp:127.0.0.1:$P
metrics_listen="127.0.0.1:$M"
route {
    forward(127.0.0.1, $SINK);
}
CFG
    start_ser "$T/ser.cfg"
    wait_port tcp "$M" 10 || fail "no metrics endpoint"
    python3 "$T/torture.py" "$TOP/tests/sip" "$P" "$SINK" "$M" "$1" || fail "torture run (reply_to_invalid=$1)"
    stop_ser
}

# The driver lives in the temp dir: the repository's serial/ would shadow pyserial.
cat >"$T/torture.py" <<'PY'
import os, re, socket, sys, time, urllib.request

top, port, sink_port, mport, reply = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ser = ('127.0.0.1', port)
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(('127.0.0.1', sink_port))
sink.settimeout(5)
cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
cli.bind(('127.0.0.1', 0))
cli.settimeout(5)
bad = 0

def fail(msg):
    global bad
    print('FAIL: ' + msg)
    bad += 1

def load(d):
    d = os.path.join(top, d)
    return {f[:-4]: open(os.path.join(d, f), 'rb').read() for f in sorted(os.listdir(d)) if f.endswith('.sip')}

HDR_END = b'\r\n\r\n'
RECEIVED = re.compile(rb';\s*received\s*=\s*(\[[^\]]*\]|[^;,\s]*)', re.I)
MAXFWD = re.compile(rb'^(max-forwards[ \t]*:[ \t]*)(\d+)', re.I | re.M)
CLEN = re.compile(rb'^(?:content-length|l)[ \t]*:[ \t]*(\d+)', re.I | re.M)
OURS = re.compile(rb'^Via: SIP/2\.0/UDP 127\.0\.0\.1:%d;branch=z9hG4bK[0-9a-f]+\r\n' % port, re.M)

def expected(msg):
    head = msg[:msg.index(HDR_END) + 4]
    m = CLEN.search(head)
    if m:
        msg = msg[:len(head) + int(m.group(1))]   # dblreq: the second request is not part of it
    msg = MAXFWD.sub(lambda m: m.group(1) + str(int(m.group(2)) - 1).encode(), msg, count=1)
    return RECEIVED.sub(b'', msg)

# Valid requests: forwarded; responses: not (their top Via is not ours).
valid = dict(load('rfc4475/valid'))
valid.update({'rfc5118/' + k: v for k, v in load('rfc5118').items()})
requests = 0
for name, msg in valid.items():
    cli.sendto(msg, ser)
    if msg.startswith(b'SIP/2.0 '):
        continue
    requests += 1
    try:
        got, _ = sink.recvfrom(65535)
    except socket.timeout:
        fail(name + ': not forwarded')
        continue
    n = len(OURS.findall(got))
    stripped = OURS.sub(b'', got, count=1)
    if n != 1 or not got.startswith(msg.split(b'\r\n', 1)[0] + b'\r\n'):
        fail(name + ': no Via of ours')
    elif RECEIVED.sub(b'', stripped) != expected(msg):
        fail(name + ': forwarded differently:\n%r\n%r' % (RECEIVED.sub(b'', stripped), expected(msg)))
# Bounded: a probe sent last arrives after anything the responses could have caused.
probe = valid['lwsdisp'].replace(b'lwsdisp.1234abcd', b'probe.after.responses')
cli.sendto(probe, ser)
got, _ = sink.recvfrom(65535)
if b'probe.after.responses' not in got:
    fail('a response was forwarded: %r' % got[:80])
if not bad:
    print('ok: %d valid requests forwarded byte-exact but for our Via, Max-Forwards and received=; '
          'the responses were not' % requests)

# Invalid: replies must come back here, not to the Via's port 5060 (the
# well-known port another run may hold): ";rport" goes on the first Via line.
VERDICT = {  # name: reason phrase of the 400 or None (dropped); forwarded ones are not sent here
    'badinv01': None, 'clerr': 'body shorter than Content-Length', 'scalar02': 'bad Content-Length',
    'scalarlg': 'bad CSeq', 'scalar1': None, 'quotbal': 'bad To header', 'ltgtruri': 'bad Request-URI',
    'lwsruri': 'bad Request-URI', 'lwsstart': 'bad Request-URI', 'trws': 'whitespace after SIP version',
    'escruri': 'headers in Request-URI', 'baddn': 'bad From header', 'badvers': None,
    'mismatch01': 'CSeq method does not match request method',
    'mismatch02': 'CSeq method does not match request method', 'bigcode': None,
    'multi01': 'multiple CSeq headers', 'mcl01': 'conflicting Content-Length headers', 'insuf': None,
}
VIA = re.compile(rb'^(Via[ \t]*:[^\r]*?)(\r\n)', re.M)
invalid = load('rfc4475/invalid')
marker = invalid['mismatch01']
answered = 0
with_rport = lambda m: VIA.sub(lambda v: v.group(1) + b';rport' + v.group(2), m, count=1)
for name, why in VERDICT.items():
    cli.sendto(with_rport(invalid[name]), ser)
    if reply == 'no':
        continue   # checked below, once ser has counted them all
    if why is None:
        # Dropped: the next answer is the marker's, sent after it.
        cli.sendto(with_rport(marker), ser)
        got, _ = cli.recvfrom(65535)
        if b'Call-ID: mismatch01' not in got:
            fail(name + ': answered though it should be dropped: %r' % got[:60])
        continue
    try:
        got, _ = cli.recvfrom(65535)
    except socket.timeout:
        fail(name + ': no 400')
        continue
    line = got.split(b'\r\n', 1)[0].decode('utf-8', 'replace')
    if line != 'SIP/2.0 400 Bad Request (%s)' % why:
        fail('%s: got "%s"' % (name, line))
    answered += 1

def scrape():
    return urllib.request.urlopen('http://127.0.0.1:%d/metrics' % mport, timeout=5).read().decode()
if reply == 'no':
    # Bounded: until every one of them is counted as dropped; then nothing may be waiting.
    deadline = time.time() + 10
    while time.time() < deadline:
        n = sum(int(x) for x in re.findall(r'^ser_invalid_messages_total\{[^}]*outcome="dropped"\} (\d+)', scrape(), re.M))
        if n >= len(VERDICT):
            break
        time.sleep(0.05)
    cli.setblocking(False)
    try:
        got = cli.recv(65535)
        fail('answered with reply_to_invalid=no: %r' % got[:60])
    except BlockingIOError:
        pass
metrics = scrape()
def count(reason, outcome):
    m = re.search(r'^ser_invalid_messages_total\{reason="%s",outcome="%s"\} (\d+)' % (reason, outcome), metrics, re.M)
    return int(m.group(1)) if m else -1
if reply == 'yes':
    for reason, outcome, n in [('cseq_method', 'answered', 2 + 5), ('request_uri', 'answered', 4),
                               ('duplicate', 'answered', 2), ('via', 'dropped', 1), ('from', 'dropped', 1),
                               ('start_line', 'dropped', 2), ('cseq', 'dropped', 1), ('body', 'answered', 1)]:
        if count(reason, outcome) != n:
            fail('metrics: %s %s = %d, expected %d' % (reason, outcome, count(reason, outcome), n))
    if not bad:
        print('ok: %d invalid requests answered with the 400 naming the defect, the rest dropped; '
              'the metrics count each by defect' % answered)
else:
    if count('via', 'dropped') != 1 or count('cseq_method', 'dropped') != 2 or count('cseq_method', 'answered') != 0:
        fail('metrics with reply_to_invalid=no: via dropped %d, cseq_method dropped %d, answered %d'
             % (count('via', 'dropped'), count('cseq_method', 'dropped'), count('cseq_method', 'answered')))
    if not bad:
        print('ok: reply_to_invalid=no answers none of the %d invalid requests, and counts each drop by defect' % len(VERDICT))
sys.exit(1 if bad else 0)
PY

run_case yes
grep -q 'INFO.*invalid request from udp 127.0.0.1:[0-9]*: CSeq method does not match request method; answering 400' \
    "$T/ser.log" || fail "no info line for a 400"
grep -q 'INFO.*invalid message from udp 127.0.0.1:[0-9]* dropped (.*): bad Via' "$T/ser.log" ||
    fail "no info line for a dropped invalid message"
grep -q 'INFO: 200 response from udp 127.0.0.1:[0-9]*: top Via 192.0.2.198 is not ours; dropped' "$T/ser.log" ||
    fail "no info line for the dropped response unreason"
ok "each 400 and each drop is logged at info with the peer"
run_case no
