# shellcheck shell=bash
# How bench/vpn.sh brings up each VPN between its two namespaces (sourced).
#
# One function per VPN, vpn_up_NAME. Each writes its keys and configs in
# $W (a fresh directory per VPN, deleted at exit), starts one daemon in $NA
# and one in $NB with start_daemon (log in $W/NAME.log), and sets:
#   VPN_ADDR_A, VPN_ADDR_B  the overlay addresses (B is pinged and iperf3's
#                           server binds it)
#   VPN_IF_A                A's interface (its MTU goes in the report)
#   VPN_PIDS                the daemons (their CPU time is measured)
# It returns non-zero with VPN_REASON set when something fails before the
# daemons run; bench/vpn.sh then waits for the overlay and measures.
#
# Each peer runs with its documented defaults, set up as in
# shared/docs/peer-bench.md: the cipher, the MTU and the socket buffers are
# the ones each package uses out of the box. Overlay subnets: ringnet
# 10.77.0.0/16 (its TUN prefix), tinc 10.202.0.0/24, nebula 10.203.0.0/24,
# fastd 10.204.0.0/24, floor 10.205.0.0/24, yggdrasil its own 200::/7 address.

# start_daemon NS NAME CMD...: runs CMD in NS in the background.
start_daemon()
{
	local ns=$1 name=$2
	shift 2
	ip netns exec "$ns" "$@" >"$W/$name.log" 2>&1 &
	VPN_PIDS+=($!)
}

# start_a_then_b PROTO PORT NAME CMD_A -- CMD_B: A's daemon, then (once A
# listens on PORT, at most 5 s) B's, so that B's first contact finds A:
# yggdrasil retries a failed peer only after a long back-off, and two
# fastd handshakes that cross were seen to carry nothing for 20 s.
start_a_then_b()
{
	local proto=$1 port=$2 name=$3 a=() i
	shift 3
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	start_daemon "$NA" "$name-a" "${a[@]}"
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$NA" ss -Hln"${proto:0:1}" "sport = :$port" | grep -q . && break
		sleep 0.1
	done
	start_daemon "$NB" "$name-b" "$@"
}

# fail REASON: sets VPN_REASON and returns 1.
fail() { VPN_REASON=$1; return 1; }

# The underlay address of node a or b, and its namespace.
under() { [ "$1" = a ] && echo $UA || echo $UB; }
ns_of() { [ "$1" = a ] && echo "$NA" || echo "$NB"; }

# ---- raw veth: no VPN -----------------------------------------------------------
vpn_up_raw()
{
	VPN_ADDR_A=$UA VPN_ADDR_B=$UB VPN_IF_A=va
}

# ---- ringnet: ringnetd with its TUN data plane ------------------------------------
# Keys and certificates as in tests/daemon/lib.sh; the daemon puts the vip
# on its TUN device itself.
vpn_up_ringnet()
{
	local d=$W n vip rn=$BUILD/ringnet rnd=$BUILD/ringnetd
	[ -x "$rnd" ] && [ -x "$rn" ] || fail "no ringnetd/ringnet in $BUILD" || return 1
	"$rn" group new --out "$d" >"$d/keys.out" 2>&1 || fail "ringnet group new: $(tail -n 1 "$d/keys.out")" || return 1
	for n in a b; do
		vip=10.77.0.$([ $n = a ] && echo 1 || echo 2)
		{ "$rn" key new --out "$d/$n.key" &&
			"$rn" member add --group-secret "$d/group.secret" --node-pub "$d/$n.key.pub" \
				--vip "$vip" --name "$n" --out "$d/$n.cert"; } >>"$d/keys.out" 2>&1 ||
			fail "ringnet key new / member add: $(tail -n 1 "$d/keys.out")" || return 1
		{
			printf '[node]\nlisten = %s:7400\n' "$(under $n)"
			printf 'group = group.pub\nkey = %s.key\ncert = %s.cert\n' $n $n
			printf 'control = %s/ringnet-%s.sock\nlog_level = info\n' "$d" $n
			printf '\n[tun]\ndevice = rn0\nmtu = 1420\nprefix = 10.77.0.0/16\n'
			[ ${#RINGNET_TUN[@]} -eq 0 ] || printf '%s\n' "${RINGNET_TUN[@]}"
			[ $n = b ] && printf '\n[bootstrap]\npeer = %s:7400\n' $UA
		} >"$d/ringnet-$n.conf"
	done
	start_a_then_b udp 7400 ringnet "$rnd" -c "$d/ringnet-a.conf" -- "$rnd" -c "$d/ringnet-b.conf"
	VPN_ADDR_A=10.77.0.1 VPN_ADDR_B=10.77.0.2 VPN_IF_A=rn0
}

# ---- floor: bench/tun_floor, TUN <-> UDP and nothing else --------------------------
# Not a VPN (no crypto, no header): the RTT and throughput floor of any
# userspace TUN design on this machine, for reading the other rows.
vpn_up_floor()
{
	local n tf=$BUILD/tun_floor
	[ -x "$tf" ] || fail "no tun_floor in $BUILD" || return 1
	for n in a b; do
		ip -n "$(ns_of $n)" tuntap add dev fl0 mode tun &&
			ip -n "$(ns_of $n)" link set fl0 mtu 1420 up &&
			ip -n "$(ns_of $n)" addr add 10.205.0.$([ $n = a ] && echo 1 || echo 2)/24 dev fl0 ||
			fail "ip tuntap add fl0 in $(ns_of $n)" || return 1
	done
	start_daemon "$NA" floor-a "$tf" --tun fl0 --listen $UA:7405 --peer $UB:7405
	start_daemon "$NB" floor-b "$tf" --tun fl0 --listen $UB:7405 --peer $UA:7405
	VPN_ADDR_A=10.205.0.1 VPN_ADDR_B=10.205.0.2 VPN_IF_A=fl0
}

# ---- tinc 1.0: router mode, RSA keys, b connects to a --------------------------------
vpn_up_tinc()
{
	local n d addr
	for n in a b; do
		d=$W/tinc-$n
		addr=10.202.0.$([ $n = a ] && echo 1 || echo 2)
		mkdir -p "$d/hosts"
		{
			printf 'Name = %s\nMode = router\nInterface = tinc-%s\nAddressFamily = ipv4\n' $n $n
			[ $n = b ] && printf 'ConnectTo = a\n'
		} >"$d/tinc.conf"
		printf 'Address = %s\nSubnet = %s/32\nPort = 655\n' "$(under $n)" "$addr" >"$d/hosts/$n"
		printf '#!/bin/sh\nip addr add %s/24 dev "$INTERFACE"\nip link set "$INTERFACE" up\n' \
			"$addr" >"$d/tinc-up"
		chmod +x "$d/tinc-up"
		tincd -c "$d" -K2048 </dev/null >>"$W/tinc-keygen.log" 2>&1 ||
			fail "tincd -K2048: $(tail -n 1 "$W/tinc-keygen.log")" || return 1
	done
	cp "$W/tinc-a/hosts/a" "$W/tinc-b/hosts/a"
	cp "$W/tinc-b/hosts/b" "$W/tinc-a/hosts/b"
	for n in a b; do cp "$W/tinc-$n/tinc.conf" "$W/tinc-$n.conf"; done
	# -D: stay in the foreground (logs to stderr), so $! is the daemon
	start_a_then_b tcp 655 tinc tincd -c "$W/tinc-a" -D -d1 --pidfile="$W/tinc-a.pid" -- \
		tincd -c "$W/tinc-b" -D -d1 --pidfile="$W/tinc-b.pid"
	VPN_ADDR_A=10.202.0.1 VPN_ADDR_B=10.202.0.2 VPN_IF_A=tinc-a
}

# ---- nebula: a is the lighthouse, b knows it statically ---------------------------
vpn_up_nebula()
{
	local d=$W n
	nebula-cert ca -name rnbench -out-crt "$d/ca.crt" -out-key "$d/ca.key" >"$d/cert.log" 2>&1 ||
		fail "nebula-cert ca: $(tail -n 1 "$d/cert.log")" || return 1
	for n in a b; do
		nebula-cert sign -ca-crt "$d/ca.crt" -ca-key "$d/ca.key" -name $n \
			-ip 10.203.0.$([ $n = a ] && echo 1 || echo 2)/24 \
			-out-crt "$d/$n.crt" -out-key "$d/$n.key" >>"$d/cert.log" 2>&1 ||
			fail "nebula-cert sign: $(tail -n 1 "$d/cert.log")" || return 1
		nebula_yml $n >"$d/nebula-$n.yml"
	done
	start_a_then_b udp 4242 nebula nebula -config "$d/nebula-a.yml" -- nebula -config "$d/nebula-b.yml"
	VPN_ADDR_A=10.203.0.1 VPN_ADDR_B=10.203.0.2 VPN_IF_A=nebula-a
}

nebula_yml()
{
	local n=$1
	cat <<EOF
pki:
  ca: $W/ca.crt
  cert: $W/$n.crt
  key: $W/$n.key
static_host_map:
  "10.203.0.1": ["$UA:4242"]
lighthouse:
  am_lighthouse: $([ $n = a ] && echo true || echo false)
  interval: 60
  hosts: $([ $n = a ] && echo '[]' || echo '["10.203.0.1"]')
listen:
  host: 0.0.0.0
  port: 4242
punchy:
  punch: true
tun:
  dev: nebula-$n
  mtu: 1300
logging:
  level: info
firewall:
  outbound:
    - port: any
      proto: any
      host: any
  inbound:
    - port: any
      proto: any
      host: any
EOF
}

# ---- fastd: tun mode, salsa2012+umac, each the other's peer -------------------------
vpn_up_fastd()
{
	local d=$W n o sec_a pub_a sec_b pub_b
	for n in a b; do
		fastd --generate-key >"$d/key-$n.txt" 2>>"$d/keygen.log" ||
			fail "fastd --generate-key: $(tail -n 1 "$d/keygen.log")" || return 1
	done
	sec_a=$(sed -n 's/^Secret: //p' "$d/key-a.txt") pub_a=$(sed -n 's/^Public: //p' "$d/key-a.txt")
	sec_b=$(sed -n 's/^Secret: //p' "$d/key-b.txt") pub_b=$(sed -n 's/^Public: //p' "$d/key-b.txt")
	[ -n "$sec_a" ] && [ -n "$pub_b" ] || fail "fastd --generate-key printed no Secret/Public" || return 1
	fastd_conf a "$sec_a" b "$pub_b" >"$d/fastd-a.conf"
	fastd_conf b "$sec_b" a "$pub_a" >"$d/fastd-b.conf"
	start_a_then_b udp 10000 fastd fastd -c "$d/fastd-a.conf" -- fastd -c "$d/fastd-b.conf"
	VPN_ADDR_A=10.204.0.1 VPN_ADDR_B=10.204.0.2 VPN_IF_A=fastd-a
}

# fastd_conf SELF SECRET OTHER OTHER_PUBLIC
fastd_conf()
{
	local n=$1 o=$3
	cat <<EOF
interface "fastd-$n";
mode tun;
method "salsa2012+umac";
bind $(under $n):10000;
secret "$2";
mtu 1406;
on up "ip addr add 10.204.0.$([ $n = a ] && echo 1 || echo 2)/24 dev \$INTERFACE; ip link set \$INTERFACE up";
peer "$o" {
  key "$4";
  remote $(under $o):10000;
}
EOF
}

# ---- yggdrasil: b peers with a over TLS, no multicast ------------------------------
vpn_up_yggdrasil()
{
	local d=$W n
	for n in a b; do
		yggdrasil -genconf -json >"$d/gen-$n.json" 2>>"$d/genconf.log" ||
			fail "yggdrasil -genconf: $(tail -n 1 "$d/genconf.log")" || return 1
	done
	python3 - "$d" "$UA" <<'EOF' || fail "could not write the yggdrasil configs" || return 1
import json, sys
d, ua = sys.argv[1], sys.argv[2]
c = {n: json.load(open(f"{d}/gen-{n}.json")) for n in "ab"}
for n, o in (("a", "b"), ("b", "a")):
    x = c[n]
    x["MulticastInterfaces"] = []
    x["AdminListen"] = f"unix://{d}/ygg-{n}.sock"
    x["IfName"] = f"ygg-{n}"
    x["Listen"] = [f"tls://{ua}:12345"] if n == "a" else []
    x["Peers"] = [] if n == "a" else [f"tls://{ua}:12345"]
    x["AllowedPublicKeys"] = [c[o]["PublicKey"]]
    json.dump(x, open(f"{d}/yggdrasil-{n}.json", "w"), indent=2)
EOF
	VPN_ADDR_A=$(yggdrasil -useconffile "$d/yggdrasil-a.json" -address 2>/dev/null)
	VPN_ADDR_B=$(yggdrasil -useconffile "$d/yggdrasil-b.json" -address 2>/dev/null)
	[ -n "$VPN_ADDR_B" ] || fail "yggdrasil -address printed nothing" || return 1
	start_a_then_b tcp 12345 yggdrasil yggdrasil -useconffile "$d/yggdrasil-a.json" -- \
		yggdrasil -useconffile "$d/yggdrasil-b.json"
	VPN_IF_A=ygg-a
}
