#!/bin/bash
# Only members talk (docs/security.md §1): real ringnetd processes on
# 127.0.0.1 refuse whoever is not a member of their group.
#
#   refuse.sh RINGNETD RINGNET
#
# A ring of three members (n1, n2, n3), then:
#   (a) x, a daemon of ANOTHER group, with a consistent group key, node
#       key and certificate of its own (so it starts), bootstrapping from
#       the ring's members: after 15 s it has joined nothing (state is not
#       joined, no link is up), it appears in no member's `peers --json`
#       or `ring --json`, and the members counted its handshakes as
#       refused: sec.hs_other_group > 0;
#   (b) ringnetd with an expired certificate, with a tampered one (one
#       base64 character of the file changed inside the name, so that it
#       still decodes but its signature fails), and with a certificate of
#       another group than the configured group file: each exits 2 at
#       start with one line that names the certificate file and says what
#       is wrong, before opening any socket, so it never joins.
# The ring stays whole throughout, and every daemon exits 0 on SIGTERM.
#
# Not here: a RUNNING member whose certificate is bad (it expires while
# the daemon runs, or a modified daemon presents a forged one) is refused
# by the others in the handshake and counted (hs_expired, hs_bad_sig,
# hs_other_group). That path is tested in tests/unit/test_sec.c with
# whole nodes (test_refuses_expired, test_refuses_tampered,
# test_refuses_other_group), because ringnetd itself refuses to start
# with such a certificate, as (b) shows.
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

WAIT_S=60    # for the ring to form
OUTSIDER_S=15

rn_setup
D=$RN_DIR
rn_group
for i in 1 2 3; do rn_member "n$i" "10.77.0.$i"; done
rn_group_in other
RN_GROUP_SECRET=$D/other/group.secret rn_member x 10.77.0.9

# ---- the ring -------------------------------------------------------------

start_ring()
{
	local rc
	BASE=$(rn_base_port 4)
	rn_conf n1 "$BASE"
	rn_conf n2 $((BASE + 1)) "127.0.0.1:$BASE"
	rn_conf n3 $((BASE + 2)) "127.0.0.1:$BASE" "127.0.0.1:$((BASE + 1))"
	for name in n1 n2 n3; do
		rn_start "$name"
		rc=$?
		[ $rc -eq 0 ] || return $rc
	done
}

rn_start_retrying start_ring 3
rn_log "ring members on 127.0.0.1:$BASE-$((BASE + 2))"
rn_wait_ring $WAIT_S n1 n2 n3
rn_log "ring of 3 converged in ${RN_WAITED} s"

# ---- (a) a daemon of another group ----------------------------------------

rn_conf x $((BASE + 3)) "127.0.0.1:$BASE" "127.0.0.1:$((BASE + 1))" \
	"127.0.0.1:$((BASE + 2))"
sed -i 's|^group = group.pub$|group = other/group.pub|' "$D/x.conf"
"$RINGNETD" -c "$D/x.conf" --check >"$D/x.check" 2>&1 ||
	rn_fail "x's own files do not belong together: $(cat "$D/x.check")"
rn_start x || rn_fail "x could not bind 127.0.0.1:$((BASE + 3))"
X_ID=$(rn_status x id) || exit 1
rn_log "x (another group, id ${X_ID:0:12}) started; watching $OUTSIDER_S s"

# x_absent: x is in no member's peers or ring (by id or by name), now.
x_absent()
{
	local name cmd f
	for name in n1 n2 n3; do
		for cmd in peers ring; do
			f=$D/$name.$cmd.json
			"$RINGNET" -s "$D/$name.sock" "$cmd" --json >"$f" ||
				rn_fail "$name did not answer '$cmd'"
			grep -q "$X_ID" "$f" &&
				rn_fail "x of another group is in $name's $cmd: $(cat "$f")"
		done
		grep -qE '"name": "x"' "$D/$name.peers.json" &&
			rn_fail "a peer named x is in $name's peers"
	done
	return 0
}

t0=$SECONDS
while [ $((SECONDS - t0)) -lt $OUTSIDER_S ]; do
	x_absent
	sleep 1
done
x_absent

state=$(rn_status x state) || exit 1
up=$(rn_status x links.up) || exit 1
total=$(rn_status x links.total) || exit 1
[ "$state" != joined ] || rn_fail "x of another group says it joined"
[ "$up" -eq 0 ] || rn_fail "x of another group has $up links up"
x_inits=$(rn_status x sec.hs_init_sent) || exit 1
x_resps=$(rn_status x sec.hs_resp_ok) || exit 1
[ "$x_inits" -gt 0 ] || rn_fail "x sent no handshake at all: the test tests nothing"
[ "$x_resps" -eq 0 ] || rn_fail "x got $x_resps handshake answers from the ring"
rn_log "x after ${OUTSIDER_S} s: state $state, links $up up of $total," \
	"$x_inits INITs sent, $x_resps answered"

refused=0 most=n1 most_n=0
for name in n1 n2 n3; do
	n=$(rn_status "$name" sec.hs_other_group) || exit 1
	rn_log "$name: sec.hs_other_group = $n"
	refused=$((refused + n))
	[ "$n" -lt "$most_n" ] || { most=$name; most_n=$n; }
done
[ "$refused" -gt 0 ] || rn_fail "no member counted a refusal (hs_other_group)"
# The human status shows it too, in its security block.
"$RINGNET" -s "$D/$most.sock" status >"$D/$most.status.txt" ||
	rn_fail "ringnet status on $most failed"
grep -qE '^  refused: +(.*, )?other_group [1-9]' "$D/$most.status.txt" ||
	rn_fail "$most's status does not show the refusals: $(cat "$D/$most.status.txt")"
sed -n '/^security:/,$p' "$D/$most.status.txt"
rn_log "x is in no member's peers or ring; $refused handshakes refused as" \
	"another group's"
rn_ring_ok n1 n2 n3 || rn_fail "the ring broke while x knocked"
rn_kill TERM x
[ "$RN_RC" -eq 0 ] || rn_fail "x exited $RN_RC on SIGTERM"

# ---- (b) certificates ringnetd refuses to start with ----------------------

# refused NAME PATTERN: ringnetd on NAME.conf exits 2 within 10 s, with one
# line on stderr that names NAME.cert and matches PATTERN.
refused()
{
	local name=$1 pat=$2 rc lines
	timeout 10 "$RINGNETD" -c "$D/$name.conf" >"$D/$name.out" 2>"$D/$name.err"
	rc=$?
	[ $rc -eq 2 ] || rn_fail "ringnetd with $name.cert exited $rc, not 2: $(cat "$D/$name.err")"
	lines=$(wc -l <"$D/$name.err")
	[ "$lines" -eq 1 ] || rn_fail "ringnetd with $name.cert said $lines lines, not 1: $(cat "$D/$name.err")"
	grep -qE "^ringnetd: $D/$name\\.cert: $pat" "$D/$name.err" ||
		rn_fail "ringnetd with $name.cert: '$(cat "$D/$name.err")' does not match '$D/$name.cert: $pat'"
	[ ! -e "$D/$name.sock" ] || rn_fail "ringnetd with $name.cert left a control socket"
	printf 'ok  2   %s\n' "$(sed "s|$D/||g" "$D/$name.err")"
}

# Expired: valid for one day, three days ago.
rn_member e 10.77.0.20 --not-before $(($(date +%s) - 3 * 86400)) --days 1
rn_conf e $((BASE + 3)) "127.0.0.1:$BASE"
refused e "certificate expired on [0-9-]+ [0-9:]+ UTC; issue a new one"

# Tampered: one base64 character inside the name changed, the name still
# valid (so the certificate decodes) but no longer what the group signed.
rn_member tampered 10.77.0.21
python3 - "$D/tampered.cert" <<'EOF' || rn_fail "could not tamper with tampered.cert"
import base64, string, sys
path = sys.argv[1]
head, b64 = open(path).read().split("\n")[:2]
raw = base64.b64decode(b64)
name = b"tampered"
at = raw.find(bytes([0xA0 | len(name)]) + name) + 1  # msgpack fixstr
assert at > 0 and raw.count(name) == 1
name_chars = set((string.ascii_letters + string.digits + "-._").encode())
alphabet = string.ascii_letters + string.digits + "+/"
for i, c in enumerate(b64):
    if not (at * 8 <= i * 6 and i * 6 + 6 <= (at + len(name)) * 8):
        continue  # this character's 6 bits are not all inside the name
    for r in alphabet:
        t = base64.b64decode(b64[:i] + r + b64[i + 1:])
        changed = t[at : at + len(name)]
        if r != c and changed != name and set(changed) <= name_chars:
            open(path, "w").write(f"{head}\n{b64[:i]}{r}{b64[i + 1:]}\n")
            print(f"tampered.cert: base64 character {i} '{c}' -> '{r}':"
                  f" name {name.decode()} -> {changed.decode()}")
            sys.exit(0)
sys.exit(1)
EOF
"$RINGNET" member show "$D/tampered.cert" >"$D/tampered.show" 2>&1 ||
	rn_fail "the tampered certificate does not decode: $(cat "$D/tampered.show")"
rn_conf tampered $((BASE + 3)) "127.0.0.1:$BASE"
refused tampered "certificate does not verify \(.*\); issue a new one"

# Of another group: x's certificate with the ring's group file.
cp "$D/x.key" "$D/o.key"
cp "$D/x.cert" "$D/o.cert"
chmod 600 "$D/o.key"
rn_conf o $((BASE + 3)) "127.0.0.1:$BASE"
refused o "certificate is for another group than $D/group\\.pub"

for name in n1 n2 n3; do
	"$RINGNET" -s "$D/$name.sock" peers --json >"$D/$name.peers.json" ||
		rn_fail "$name did not answer 'peers'"
	for bad in e tampered; do
		grep -q "\"$bad\"" "$D/$name.peers.json" &&
			rn_fail "$bad is in $name's peers"
	done
done
rn_ring_ok n1 n2 n3 || rn_fail "the ring is not whole at the end"

rn_stop_all "ERROR" n1 n2 n3
if grep -H "ERROR" "$D/x.log" >&2; then
	rn_fail "errors in the log of the other group's daemon"
fi
echo PASS
