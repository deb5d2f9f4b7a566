#!/bin/bash
# Replayed and forged DATA datagrams are dropped and counted, and do not
# hurt the link (docs/security.md §3 and §4).
#
#   replay.sh RINGNETD RINGNET
#
# Two members on 127.0.0.1; A's only bootstrap is a UDP relay
# (udp_relay.py) that carries every A<->B datagram, so B knows the
# relay's B-facing socket as A's endpoint:
#
#   a (PORT_A) <--> relay (RELAY_A | RELAY_B) <--> b (PORT_B)
#
# Once a and b are joined, with some DATA carried, the relay is told
# (the file replay.go) to send b, from RELAY_B, every DATA datagram of
# the current session it recorded once more, then one copy of each with
# one header bit flipped (the receiver index, or a counter bit that makes
# a counter b has not seen: udp_relay.py says why). Then on b:
#   - sec.data_replay grew by at least the replays still inside the
#     replay window (and at least 1);
#   - sec.data_auth_fail + sec.data_unknown grew by exactly the number
#     of flipped copies: every one was refused;
#   - sec.data_ok grew by no more than the genuine DATA the relay carried
#     to b meanwhile: nothing injected got through;
#   - the ring a-b is intact, and a ping still goes through.
# Only 127.0.0.1; every wait is bounded; the daemons and the relay are
# killed and the directory removed on exit (lib.sh's trap).
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

WAIT_S=60
RELAY=$(dirname "$0")/udp_relay.py
SEED=${RN_SEED:-$RANDOM}

rn_setup
D=$RN_DIR
rn_group
rn_member a 10.77.0.1
rn_member b 10.77.0.2
mkdir "$D/relay"
rn_log "seed $SEED (RN_SEED=$SEED to repeat the relay's choices)"

# wait_file PATH SECONDS: 0 once PATH exists, 1 after SECONDS.
wait_file()
{
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# relay_stat KEY: one counter of relay.stats.
relay_stat()
{
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
		"$D/relay/relay.stats" "$1"
}

# sec_of NAME: "data_ok data_replay data_auth_fail data_unknown" of NAME.
sec_of()
{
	rn_json "$1" status sec | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(*(s[k] for k in ("data_ok", "data_replay", "data_auth_fail",
                       "data_unknown")))'
}

start_all()
{
	local base rc i
	base=$(rn_base_port 2)
	PORT_A=$base
	PORT_B=$((base + 1))
	rn_conf b "$PORT_B"
	rn_start b
	rc=$?
	[ $rc -eq 0 ] || return $rc
	rm -f "$D/relay/relay.ports"
	python3 "$RELAY" --a-port "$PORT_A" --b-port "$PORT_B" \
		--dir "$D/relay" --seed "$SEED" --lifetime 240 \
		2>>"$D/relay.log" &
	RN_PID[relay]=$! # lib.sh's trap kills it with the daemons
	wait_file "$D/relay/relay.ports" 10 ||
		rn_fail "the relay did not start"
	read -r RELAY_A RELAY_B <"$D/relay/relay.ports"
	rn_conf a "$PORT_A" "127.0.0.1:$RELAY_A"
	rn_start a
}

rn_start_retrying start_all 2
rn_log "b on 127.0.0.1:$PORT_B; relay on :$RELAY_A (a's side) and" \
	":$RELAY_B (b's side); a on :$PORT_A"

rn_wait_ring $WAIT_S a b
rn_log "ring a-b joined through the relay in ${RN_WAITED} s"
for name in a b; do
	st=$(rn_status "$name" state) || exit 1
	[ "$st" = joined ] || rn_fail "$name is $st, not joined"
done

# Every datagram between them goes through the relay.
b_sees=$(rn_json b peers peers | python3 -c '
import json, sys; print(" ".join(p["endpoint"] for p in json.load(sys.stdin)))')
a_sees=$(rn_json a peers peers | python3 -c '
import json, sys; print(" ".join(p["endpoint"] for p in json.load(sys.stdin)))')
[ "$b_sees" = "127.0.0.1:$RELAY_B" ] ||
	rn_fail "b's peers are at '$b_sees', not only the relay's 127.0.0.1:$RELAY_B"
[ "$a_sees" = "127.0.0.1:$RELAY_A" ] ||
	rn_fail "a's peers are at '$a_sees', not only the relay's 127.0.0.1:$RELAY_A"

# Some DATA to record: pings from a to b (each probe is a DATA datagram
# to b, its answer one back), on top of the keepalives: 8 at once (the
# daemon's limit) of 8 probes, one a second.
pids=()
for ((i = 0; i < 8; i++)); do
	"$RINGNET" -s "$D/a.sock" ping -c 8 10.77.0.2 >"$D/ping1.$i.out" 2>&1 &
	pids+=($!)
done
for ((i = 0; i < 8; i++)); do
	wait "${pids[$i]}" ||
		rn_fail "ping from a to b failed before the replay: $(cat "$D/ping1.$i.out")"
done
carried=$(relay_stat to_b_data) || rn_fail "no relay.stats"
[ "$carried" -ge 64 ] || rn_fail "only $carried DATA datagrams carried to b"

# Before: the relay's count first, then b's (see the end for why).
fwd0=$(relay_stat to_b_data) || rn_fail "no relay.stats"
read -r ok0 replay0 auth0 unknown0 < <(sec_of b)
[ -n "${unknown0:-}" ] || rn_fail "no sec counters from b"
touch "$D/relay/replay.go"
wait_file "$D/relay/replay.done" 30 || rn_fail "the relay did not replay in 30 s"
sleep 1 # b reads what is in its socket
read -r ok1 replay1 auth1 unknown1 < <(sec_of b)
[ -n "${unknown1:-}" ] || rn_fail "no sec counters from b after the replay"
fwd1=$(relay_stat to_b_data) || rn_fail "no relay.stats"

eval "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("replayed", "replayed_in_window", "flipped", "flipped_index",
          "flipped_counter", "skipped_other_sessions", "recorded"):
    print(f"{k}={int(d[k])}")' "$D/relay/replay.done")"

d_replay=$((replay1 - replay0))
d_refused=$((auth1 + unknown1 - auth0 - unknown0))
d_ok=$((ok1 - ok0))
d_fwd=$((fwd1 - fwd0))
rn_log "relay recorded $recorded DATA datagrams for b; injected $replayed" \
	"replays ($replayed_in_window inside the window," \
	"$skipped_other_sessions of other sessions skipped) and $flipped" \
	"bit-flipped copies ($flipped_index in the index," \
	"$flipped_counter in the counter)"
rn_log "b: data_replay +$d_replay, data_auth_fail +$((auth1 - auth0))," \
	"data_unknown +$((unknown1 - unknown0)), data_ok +$d_ok;" \
	"genuine DATA carried to b meanwhile: $d_fwd"

[ "$replayed_in_window" -ge 1 ] || rn_fail "no replay inside the window was sent"
[ "$d_replay" -ge "$replayed_in_window" ] ||
	rn_fail "data_replay grew by $d_replay, less than the $replayed_in_window replays inside the window"
[ "$d_refused" -eq "$flipped" ] ||
	rn_fail "data_auth_fail + data_unknown grew by $d_refused, not by the $flipped flipped copies"
# b's data_ok counts what it authenticated; every genuine DATA of the
# interval was carried by the relay (it is a's only path to b), counted
# before b was asked at the start and after b was asked at the end, so
# d_ok can exceed d_fwd only if something injected was accepted.
[ "$d_ok" -le "$d_fwd" ] ||
	rn_fail "data_ok grew by $d_ok but the relay carried only $d_fwd genuine DATA: an injected datagram was accepted"

rn_ring_ok a b || rn_fail "the ring a-b broke after the replay"
"$RINGNET" -s "$D/a.sock" ping -c 2 10.77.0.2 >"$D/ping2.out" ||
	rn_fail "ping from a to b failed after the replay: $(cat "$D/ping2.out")"
rn_log "ring a-b intact; a ping still goes through"

rn_stop_all "ERROR" a b
echo PASS
