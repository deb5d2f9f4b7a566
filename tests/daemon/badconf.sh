#!/bin/bash
# ringnetd and ringnet refuse what is wrong with one clear line and the
# documented exit code (docs/ringnetd.md, EXIT STATUS):
#   - configuration errors: exit 2, the line names FILE:LINE;
#   - bad command lines: exit 2; --help: exit 0;
#   - a port already taken: exit 1, naming ADDR:PORT;
#   - a bad configuration on SIGHUP: logged, the daemon keeps running;
#   - ringnet without a daemon: exit 1, "cannot reach ringnetd".
#
#   badconf.sh RINGNETD RINGNET
set -u
RINGNETD=$1
RINGNET=$2
. "$(dirname "$0")/lib.sh"

rn_setup
D=$RN_DIR
rn_group
rn_member n1 10.77.0.1
rn_member n2 10.77.0.2

# expect CODE PATTERN CMD...: runs CMD, checks its exit code and that its
# stderr matches PATTERN (grep -E; empty: not checked).
expect()
{
	local code=$1 pat=$2 rc
	shift 2
	"$@" >"$D/out" 2>"$D/err"
	rc=$?
	[ $rc -eq "$code" ] ||
		rn_fail "$* exited $rc, not $code: $(cat "$D/err")"
	if grep -qE "Sanitizer|runtime error" "$D/err"; then
		rn_fail "$*: sanitizer report: $(cat "$D/err")"
	fi
	if [ -n "$pat" ] && ! grep -qE -- "$pat" "$D/err"; then
		rn_fail "$*: stderr does not match '$pat': $(cat "$D/err")"
	fi
	local shown=$*
	shown=${shown//"$D/"/}
	shown=${shown//"$RINGNETD"/ringnetd}
	shown=${shown//"$RINGNET"/ringnet}
	printf 'ok  %-3s %s%s\n' "$code" "$shown" "${pat:+   ~ /$pat/}"
}

good='group = group.pub\nkey = n1.key\ncert = n1.cert\n'

# bad.conf with the given body after the [node] header (line 1)
bad() { printf "[node]\n$1" >"$D/bad.conf"; }

expect 2 "/nonexistent/ringnetd.conf" "$RINGNETD" -c /nonexistent/ringnetd.conf
bad "listen = 70000\n$good"
expect 2 "bad.conf:2: .*70000" "$RINGNETD" -c "$D/bad.conf"
bad "${good}colour = blue\n"
expect 2 "bad.conf:5: .*colour" "$RINGNETD" -c "$D/bad.conf"
bad 'group = group.pub\nkey = n1.key\n'
expect 2 "bad.conf:1: .*cert" "$RINGNETD" -c "$D/bad.conf"
bad "${good}[bootstrap]\npeer = 127.0.0.1\n"
expect 2 "bad.conf:6: .*127\\.0\\.0\\.1" "$RINGNETD" -c "$D/bad.conf"
bad "${good}[bootstrap]\npeer = 127.0.0.1:99999\n"
expect 2 "bad.conf:6: " "$RINGNETD" -c "$D/bad.conf"
bad 'group = group.pub\nkey = n2.key\ncert = n1.cert\n'
expect 2 "n1.cert: .*another node key" "$RINGNETD" -c "$D/bad.conf" --check
bad "$good"
expect 0 "" "$RINGNETD" -c "$D/bad.conf" --check

expect 2 "unknown option" "$RINGNETD" --bogus
expect 2 "no configuration file" "$RINGNETD"
expect 2 "needs an argument" "$RINGNETD" -c
expect 2 "unexpected argument" "$RINGNETD" -c "$D/bad.conf" extra
expect 0 "" "$RINGNETD" --help
grep -q "usage: ringnetd" "$D/out" || rn_fail "ringnetd --help printed no usage"
expect 0 "" "$RINGNETD" --version

expect 2 "unknown command" "$RINGNET" nosuchcmd
expect 2 "" "$RINGNET"
expect 0 "" "$RINGNET" --help
expect 1 "cannot reach ringnetd" "$RINGNET" status -s /nonexistent.sock
expect 1 "cannot reach ringnetd" "$RINGNET" -s /nonexistent.sock peers

# A daemon on a free port; a second one on the same port cannot bind.
port=$(rn_base_port 1)
rn_conf n1 "$port"
rn_start n1 || rn_fail "n1 could not bind 127.0.0.1:$port"
rn_conf n2 "$port"
expect 1 "cannot bind 127\\.0\\.0\\.1:$port: " "$RINGNETD" -c "$D/n2.conf"
# ... and on another port, the control socket is taken.
rn_conf n2 "$(rn_base_port 1)"
sed -i "s|n2.sock|n1.sock|" "$D/n2.conf"
expect 1 "another ringnetd is running" "$RINGNETD" -c "$D/n2.conf"

# SIGHUP with a broken file: an error in the log, the daemon stays up;
# with a good one, the new level is reported.
cp "$D/n1.conf" "$D/n1.conf.good"
printf 'garbage\n' >>"$D/n1.conf"
kill -HUP "${RN_PID[n1]}"
sleep 0.5
grep -q "ERROR: reload: .*n1.conf" "$D/n1.log" ||
	rn_fail "no reload error in the log: $(cat "$D/n1.log")"
"$RINGNET" -s "$D/n1.sock" status --json >/dev/null ||
	rn_fail "ringnetd died on a bad reload"
sed 's/^log_level = .*/log_level = debug/' "$D/n1.conf.good" >"$D/n1.conf"
kill -HUP "${RN_PID[n1]}"
sleep 0.5
grep -q "reload: log_level info -> debug" "$D/n1.log" ||
	rn_fail "no reload report in the log: $(cat "$D/n1.log")"
printf 'ok      SIGHUP: bad file kept the old configuration, good file applied\n'

rn_kill TERM n1
[ "$RN_RC" -eq 0 ] || rn_fail "ringnetd exited $RN_RC on SIGTERM"
[ ! -e "$D/n1.sock" ] || rn_fail "the control socket was left behind"
printf 'ok  0   SIGTERM\n'
echo PASS
