#!/bin/bash
# The DHT through real daemons: five ringnetd processes on 127.0.0.1 form
# a ring, publish their member and name records, and `ringnet dht` and
# `ringnet resolve` work across them:
#
#   - a value put on a is read on c, with a as its writer;
#   - a create of a key a holds fails on b with a conflict naming a;
#   - after a removes its value, c finds nothing;
#   - d resolves b by name and by virtual IP (b's address and endpoint),
#     the second time from its cache;
#   - writing the member record of another member's address is refused,
#     as are a bad namespace and a 600-byte value, each with one line;
#   - the daemon checks what the command line would have (raw JSON);
#   - every daemon exits 0 on SIGTERM, with no ERROR in its log.
#
#   dht.sh RINGNETD RINGNET
#
# Every wait is bounded; the EXIT trap (lib.sh) kills what is left.
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

NAMES=(a b c d e)
N=${#NAMES[@]}
WAIT_S=30

rn_setup
rn_group
for ((i = 0; i < N; i++)); do
	rn_member "${NAMES[$i]}" "10.78.0.$((i + 1))"
done

declare -A PORT=()
start_all()
{
	local base rc name
	base=$(rn_base_port $N)
	rn_conf_star "$base" "${NAMES[@]}"
	for name in "${NAMES[@]}"; do
		rn_start "$name"
		rc=$?
		[ $rc -eq 0 ] || return $rc
	done
	rn_log "started $N daemons on 127.0.0.1:$base-$((base + N - 1))"
}

rn_start_retrying start_all $N

rn_wait_ring $WAIT_S "${NAMES[@]}"
rn_log "ring of $N converged in ${RN_WAITED} s"

# cli NODE ARGS...: ringnet against NODE's daemon; stdout in $RN_DIR/out,
# stderr in $RN_DIR/err, the exit code in RC.
cli()
{
	local node=$1
	shift
	"$RINGNET" -s "$RN_DIR/$node.sock" "$@" >"$RN_DIR/out" 2>"$RN_DIR/err"
	RC=$?
}

# expect_ok WHAT: the last cli call exited 0.
expect_ok()
{
	[ "$RC" -eq 0 ] || rn_fail "$1: exit $RC: $(cat "$RN_DIR/err")"
}

# expect_err WHAT CODE PATTERN: the last cli call exited CODE with one
# line on stderr matching PATTERN.
expect_err()
{
	local lines
	[ "$RC" -eq "$2" ] ||
		rn_fail "$1: exit $RC, want $2: $(cat "$RN_DIR/err") $(cat "$RN_DIR/out")"
	lines=$(wc -l <"$RN_DIR/err")
	[ "$lines" -eq 1 ] || rn_fail "$1: $lines lines on stderr: $(cat "$RN_DIR/err")"
	grep -Eq "$3" "$RN_DIR/err" ||
		rn_fail "$1: stderr '$(cat "$RN_DIR/err")' does not match '$3'"
	rn_log "$1: $(cat "$RN_DIR/err")"
}

# Every daemon publishes its two records about 2 s after joining.
t0=$SECONDS
for name in "${NAMES[@]}"; do
	while :; do
		p=$(rn_json "$name" status dht.published) || p=0
		[ "$p" -ge 2 ] && break
		[ $((SECONDS - t0)) -lt $WAIT_S ] ||
			rn_fail "$name did not publish its records in $WAIT_S s"
		sleep 0.5
	done
done
rn_log "every daemon published its member and name records"

# 1. put on a, get on c: the value and its writer.
cli a dht put app greeting "hello, world"
expect_ok "put on a"
grep -q "stored app/greeting" "$RN_DIR/out" || rn_fail "put said: $(cat "$RN_DIR/out")"
cli c dht get app greeting
expect_ok "get on c"
grep -Eq "^a +10\.78\.0\.1 +[0-9hms]+ +hello, world$" "$RN_DIR/out" ||
	rn_fail "get on c printed: $(cat "$RN_DIR/out")"
cli c dht get --json app greeting
expect_ok "get --json on c"
python3 - "$RN_DIR/out" <<'EOF' || rn_fail "get --json on c: $(cat "$RN_DIR/out")"
import json, sys
r = json.load(open(sys.argv[1]))
v = r["values"]
assert len(v) == 1, v
assert v[0]["value"] == "hello, world" and v[0]["writer"]["name"] == "a"
assert v[0]["writer"]["vip"] == "10.78.0.1" and 0 < v[0]["lease_s"] <= 3600
EOF
rn_log "put on a, get on c: 'hello, world' written by a (10.78.0.1)"

# 2. create: a takes the key, b is refused and told who holds it.
cli a dht create app lock owner-a
expect_ok "create on a"
cli b dht create app lock owner-b
expect_err "create of a held key on b" 1 "conflict: app/lock is held by a \(10\.78\.0\.1\).*owner-a"
cli b dht create --json app lock owner-b
python3 - "$RN_DIR/out" <<'EOF' || rn_fail "create --json on b: $(cat "$RN_DIR/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is False and r["code"] == "conflict", r
assert r["holder"]["writer"]["name"] == "a" and r["holder"]["value"] == "owner-a"
EOF

# 3. remove, then nothing is found.
cli a dht remove app greeting
expect_ok "remove on a"
cli c dht get app greeting
expect_err "get after remove" 1 "not found: app/greeting"

# 4. resolve b from d, by name and by address; the second time cached.
check_resolve()
{
	grep -q "^vip: *10\.78\.0\.2$" "$RN_DIR/out" &&
		grep -q "^name: *b$" "$RN_DIR/out" &&
		grep -q "127\.0\.0\.1:${PORT[b]} (local)" "$RN_DIR/out" ||
		rn_fail "resolve $1 on d printed: $(cat "$RN_DIR/out")"
}
cli d resolve b
expect_ok "resolve b on d"
check_resolve b
grep -q "^cached: *no$" "$RN_DIR/out" || rn_fail "the first resolve was cached"
cli d resolve 10.78.0.2
expect_ok "resolve 10.78.0.2 on d"
check_resolve 10.78.0.2
cli d resolve --json b
expect_ok "resolve --json b on d"
python3 - "$RN_DIR/out" "${PORT[b]}" <<'EOF' || rn_fail "resolve --json: $(cat "$RN_DIR/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["vip"] == "10.78.0.2" and r["name"] == "b" and r["cached"] is True, r
assert {"kind": "local", "endpoint": f"127.0.0.1:{sys.argv[2]}"} in r["endpoints"]
assert len(r["node_pk"]) == 44 and 0 < r["lease_s"] <= 3600
EOF
hits=$(rn_status d dht.cache_hits) || exit 1
[ "$hits" -ge 1 ] || rn_fail "d's resolution cache counted no hit"
cli d resolve nosuchmember
expect_err "resolve of an unknown name" 1 "not found: no member named 'nosuchmember'"
rn_log "d resolved b by name and address: 10.78.0.2, 127.0.0.1:${PORT[b]}"

# 5. Another member's member record is not a's to write.
cli a dht put member 10.78.0.2 x
expect_err "a writing member/10.78.0.2" 1 "permission denied: member/10\.78\.0\.2"
cli a dht put name b 10.78.0.1
expect_err "a writing name/b" 1 "permission denied: name/b"

# 6. Arguments the DHT refuses: one line each, before any request.
cli a dht put Bad_NS k v
expect_err "a bad namespace" 2 "bad namespace 'Bad_NS'"
cli a dht put app big "$(printf 'x%.0s' $(seq 600))"
expect_err "a 600-byte value" 2 "VALUE is 600 bytes; the DHT takes at most 512"
cli a dht get --hex app 0g
expect_err "bad hex" 2 "KEY '0g' is not hex"

# 7. The daemon checks the same for other clients of its socket.
python3 - "$RN_DIR/a.sock" <<'EOF' || rn_fail "raw control requests"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
def ask(req):
    f.write(json.dumps(req) + "\n")
    f.flush()
    return json.loads(f.readline())
r = ask({"cmd": "dht", "op": "put", "ns": "Bad", "key": "k", "value": "v"})
assert not r["ok"] and r["code"] == "inval" and "bad namespace" in r["error"], r
r = ask({"cmd": "dht", "op": "put", "ns": "app", "key": "k", "value": "x" * 600})
assert not r["ok"] and "600 bytes" in r["error"], r
r = ask({"cmd": "dht", "op": "get", "ns": "app", "key_hex": "6b"})
assert not r["ok"] and r["code"] == "notfound", r
r = ask({"cmd": "dht", "op": "frob", "ns": "app", "key": "k"})
assert not r["ok"] and r["code"] == "inval", r
r = ask({"cmd": "resolve", "target": "no such name"})
assert not r["ok"] and r["code"] == "inval", r
EOF
rn_log "bad arguments refused with one line, by the CLI and the daemon"

rn_stop_all "ERROR|WARN: dht" "${NAMES[@]}"
rn_log "all $N exited 0 on SIGTERM, control sockets removed"
echo "PASS"
