#!/usr/bin/env bash
# The key commands of `ringnet`, end to end, with the real binary:
# make a group, a node key, a certificate; check that it verifies, that
# nothing is ever overwritten, that bad input is a usage error (exit 2)
# with a message, and that a tampered, expired or foreign certificate
# fails `member show --group` (exit 1). Every check says what it wanted.
#
# usage: cli_keys.sh PATH/TO/ringnet
set -euo pipefail

RINGNET=$(realpath "${1:?usage: cli_keys.sh PATH/TO/ringnet}")
[[ -x $RINGNET ]] || { echo "FAIL: $RINGNET is not executable" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/log" "$work/g" "$work/other"
cd "$work"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run WANT_RC ARGS...: runs ringnet ARGS; its stdout is in $out, its
# stderr in $err; fails unless it exits with WANT_RC.
run() {
	local want=$1 rc=0
	shift
	"$RINGNET" "$@" >log/out 2>log/err || rc=$?
	out=$(<log/out)
	err=$(<log/err)
	[[ $rc == "$want" ]] ||
		fail "ringnet $*: exit $rc, want $want
stdout: $out
stderr: $err"
}

# has TEXT WANT: fails unless TEXT contains WANT.
has() {
	[[ $1 == *"$2"* ]] || fail "expected '$2' in:
$1"
}

mode_is() {
	local m
	m=$(stat -c %a "$1")
	[[ $m == "$2" ]] || fail "$1 has mode $m, want $2"
}

# A group.
run 0 group new --out g
has "$out" "group id: "
gid=$(sed -n 's/^group id: \([0-9a-f]\{64\}\)$/\1/p' log/out)
[[ -n $gid ]] || fail "no 64-digit group id in: $out"
mode_is g/group.secret 600
mode_is g/group.pub 600
[[ $(head -n1 g/group.secret) == ringnet-group-secret-v1 ]] ||
	fail "group.secret header: $(head -n1 g/group.secret)"
[[ $(head -n1 g/group.pub) == ringnet-group-v1 ]] ||
	fail "group.pub header: $(head -n1 g/group.pub)"
run 0 group id g/group.pub
[[ $out == "$gid" ]] || fail "group id of group.pub: '$out', want '$gid'"
run 0 group id g/group.secret
[[ $out == "$gid" ]] || fail "group id of group.secret: '$out', want '$gid'"

# A node key.
run 0 key new --out alice.key
pk=$(sed -n 's/^node public key: //p' log/out)
[[ -n $pk ]] || fail "no public key in: $out"
mode_is alice.key 600
run 0 key pub alice.key.pub
[[ $out == "$pk" ]] || fail "key pub of alice.key.pub: '$out', want '$pk'"
run 0 key pub alice.key
[[ $out == "$pk" ]] || fail "key pub of alice.key: '$out', want '$pk'"

# A certificate, and it verifies.
run 0 member add --group-secret g/group.secret --node-pub alice.key.pub \
	--vip 10.77.0.5 --name alice --days 30 --out alice.cert
has "$out" "name:       alice"
has "$out" "vip:        10.77.0.5"
has "$out" "ring id:    "
has "$out" "node key:   $pk"
has "$out" "group id:   $gid"
run 0 member show alice.cert --group g/group.pub
has "$out" "name:       alice"
has "$out" "verify:     ok"
run 0 member show alice.cert
has "$out" "verify:     not checked"
run 0 member add --group-secret g/group.secret --node-pub alice.key \
	--vip fd00::5 --name alice-v6 --out alice6.cert
has "$out" "vip:        fd00::5"
run 0 member show --group g/group.secret alice6.cert
has "$out" "verify:     ok"

# Nothing is overwritten.
before=$(sha256sum g/group.secret g/group.pub alice.key alice.cert)
run 1 group new --out g
has "$err" "exists; remove it or choose another path"
run 1 key new --out alice.key
has "$err" "alice.key exists; remove it or choose another path"
run 1 member add --group-secret g/group.secret --node-pub alice.key.pub \
	--vip 10.77.0.6 --name bob --out alice.cert
has "$err" "alice.cert exists; remove it or choose another path"
[[ $(sha256sum g/group.secret g/group.pub alice.key alice.cert) == "$before" ]] ||
	fail "a refused command changed an existing file"
# a pair is written whole or not at all
touch bob.key.pub
run 1 key new --out bob.key
[[ ! -e bob.key ]] || fail "bob.key left behind when bob.key.pub existed"

# Usage errors exit 2 with a message.
add=(member add --group-secret g/group.secret --node-pub alice.key.pub
	--out new.cert)
run 2 "${add[@]}" --vip 10.77.0.300 --name bob
has "$err" "bad --vip '10.77.0.300'"
run 2 "${add[@]}" --vip 10.77.0.6 --name 'bob smith'
has "$err" "bad --name 'bob smith'"
has "$err" "A-Z a-z 0-9 . _ -"
run 2 "${add[@]}" --vip 10.77.0.6 --name bob --days 0
has "$err" "bad --days '0'"
run 2 "${add[@]}" --vip 10.77.0.6 --name bob --days 36501
has "$err" "bad --days"
run 2 "${add[@]}" --vip 10.77.0.6 --name bob --not-before soon
has "$err" "bad --not-before 'soon'"
run 2 "${add[@]}" --name bob
has "$err" "missing --vip ADDR"
run 2 "${add[@]}" --vip 10.77.0.6 --name bob --colour red
has "$err" "unknown option '--colour'"
run 2 "${add[@]}" --vip
has "$err" "option '--vip' needs a value"
run 2 group frobnicate
has "$err" "unknown action 'frobnicate'"
run 2 member show
has "$err" "expected one certificate FILE"
[[ ! -e new.cert ]] || fail "new.cert written by a failed command"
run 0 member add --help
has "$out" "usage: ringnet member add"
run 0 group --help
has "$out" "usage: ringnet group new"

# A secret others can read is refused.
chmod 644 g/group.secret
run 1 "${add[@]}" --vip 10.77.0.6 --name bob
has "$err" "permissions 0644 are too open"
chmod 600 g/group.secret

# A tampered certificate does not verify: change one base64 character of
# the signature (near the end of line 2) into another valid one.
b64=$(sed -n 2p alice.cert)
i=$((${#b64} - 10))
c=${b64:i:1}
[[ $c == A ]] && d=B || d=A
{ echo ringnet-cert-v1; echo "${b64:0:i}$d${b64:i+1}"; } >tampered.cert
run 1 member show tampered.cert --group g/group.pub
has "$out" "verify:     FAILED: bad signature"
has "$err" "does not verify"

# Expired, and not yet valid.
run 0 "${add[@]}" --vip 10.77.0.6 --name bob --not-before 1000000000 --days 1
has "$out" "expires:    2001-09-10T01:46:40Z"
run 1 member show new.cert --group g/group.pub
has "$out" "FAILED: certificate expired"
run 0 member add --group-secret g/group.secret --node-pub alice.key.pub \
	--vip 10.77.0.7 --name carol --not-before 4000000000 --out late.cert
run 1 member show late.cert --group g/group.pub
has "$out" "FAILED: certificate not yet valid"

# Another group's key does not verify it.
run 0 group new --out other
run 1 member show alice.cert --group other/group.pub
has "$out" "FAILED: certificate of another group"

# Wrong kinds of file are named.
run 1 member show alice.key.pub
has "$err" "is a node public key, not a member certificate"
run 1 member add --group-secret g/group.pub --node-pub alice.key.pub \
	--vip 10.77.0.8 --name dave --out dave.cert
has "$err" "is a group public key, not a group secret key"

echo "cli_keys: all checks passed"
