# tests/integration/ctl_lib.sh — a JSON-RPC client for the control socket,
# sourced after lib.sh: rpc SOCKET METHOD [PARAMS-JSON] prints the response
# line (python3, no serctl: these tests are of the server side).
cat >"$T/rpc.py" <<'PY'
import json, socket, sys
path, method = sys.argv[1], sys.argv[2]
params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else []
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(path)
s.sendall((json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(1 << 20)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
PY
rpc() { python3 "$T/rpc.py" "$@"; }
# jget JSON EXPR: a python expression over r (the parsed response)
jget() { printf '%s' "$1" | python3 -c "import json,sys; r=json.load(sys.stdin); print($2)"; }
