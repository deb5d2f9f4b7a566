#!/bin/bash
# Twelve real ringnetd processes on 127.0.0.1 form one ring, repair it
# after three of them are killed (SIGKILL: no goodbye), take them back,
# and all exit cleanly on SIGTERM.
#
#   ring12.sh RINGNETD RINGNET
#
# n1 starts the ring, n2 bootstraps from n1, the other ten list both. The
# ring is right when every node's pred[0] and succ[0] are its neighbours
# in the sorted list of the live nodes' ids. Every wait is bounded (60 s).
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

N=12
WAIT_S=60
KILLED=(n4 n7 n10)

rn_setup
rn_group
for ((i = 1; i <= N; i++)); do
	rn_member "n$i" "10.77.0.$i"
done

# Ports: a random free block; if someone takes one meanwhile, start over
# with another block.
start_all()
{
	local base i rc
	base=$(rn_base_port $N)
	rn_conf n1 "$base"
	rn_conf n2 $((base + 1)) "127.0.0.1:$base"
	for ((i = 3; i <= N; i++)); do
		rn_conf "n$i" $((base + i - 1)) "127.0.0.1:$base" \
			"127.0.0.1:$((base + 1))"
	done
	for ((i = 1; i <= N; i++)); do
		rn_start "n$i"
		rc=$?
		[ $rc -eq 0 ] || return $rc
	done
	rn_log "started $N daemons on 127.0.0.1:$base-$((base + N - 1))"
}

rn_start_retrying start_all $N

ALL=()
for ((i = 1; i <= N; i++)); do ALL+=("n$i"); done

rn_wait_ring $WAIT_S "${ALL[@]}"
rn_log "ring of $N converged in ${RN_WAITED} s"

for name in "${KILLED[@]}"; do rn_kill KILL "$name"; done
LIVE=()
for name in "${ALL[@]}"; do
	[[ " ${KILLED[*]} " == *" $name "* ]] || LIVE+=("$name")
done
rn_log "killed ${KILLED[*]} with SIGKILL"
rn_wait_ring $WAIT_S "${LIVE[@]}"
rn_log "ring of ${#LIVE[@]} repaired in ${RN_WAITED} s"

for name in "${KILLED[@]}"; do
	rn_start "$name" || rn_fail "could not restart $name (port taken?)"
done
rn_log "restarted ${KILLED[*]}"
rn_wait_ring $WAIT_S "${ALL[@]}"
rn_log "ring of $N whole again in ${RN_WAITED} s"

# A ping across the ring, by virtual IP, as a smoke test of LOOKUP.
"$RINGNET" -s "$RN_DIR/n1.sock" ping -c 2 10.77.0.7 ||
	rn_fail "ping from n1 to 10.77.0.7 got no answer"

rn_stop_all "ERROR" "${ALL[@]}"
rn_log "all $N exited 0 on SIGTERM, control sockets removed"
echo "PASS"
