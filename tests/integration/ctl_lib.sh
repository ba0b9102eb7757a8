# tests/integration/ctl_lib.sh — a JSON-RPC client for the control socket,
# sourced after lib.sh: rpc SOCKET METHOD [PARAMS-JSON] prints the response
# line (python3, no serctl: these tests are of the server side). A test's own
# python script in $T can `import ctl_rpc` for result(SOCKET, METHOD) and the
# ok(MSG) / fail(MSG) lines of the test conventions.
cat >"$T/ctl_rpc.py" <<'PY'
import json, socket, sys

def raw(path, method, params=None):
    """The response line to one request."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall((json.dumps({"jsonrpc": "2.0", "method": method, "params": params or [], "id": 1}) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(1 << 20)
        if not d:
            break
        buf += d
    s.close()
    return buf.decode()

def result(path, method, params=None):
    return json.loads(raw(path, method, params))["result"]

def ok(msg):
    print("ok: " + msg, flush=True)

def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)

if __name__ == "__main__":
    sys.stdout.write(raw(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else None))
PY
rpc() { python3 "$T/ctl_rpc.py" "$@"; }
# jget JSON EXPR: a python expression over r (the parsed response)
jget() { printf '%s' "$1" | python3 -c "import json,sys; r=json.load(sys.stdin); print($2)"; }
