# Shared by the bench scripts: one ringsim run, recorded in $OUT.
#   ringsim_run NAME ARGS...  runs "$SIM" ARGS --crypto none and writes
#   NAME.cmd (the command and the commit it was built from), NAME.json and
#   NAME.txt (the summary, also shown on stderr).
# Links in the clear (--crypto none): the overlay's and the DHT's own
# behaviour; the security layer's costs are measured by bench/issue3.sh.
ringsim_run() {
  local name=$1; shift
  echo "== $name: ringsim $*" >&2
  echo "ringsim $* --crypto none   (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))" \
    > "$OUT/$name.cmd"
  "$SIM" "$@" --crypto none -q --json "$OUT/$name.json" > "$OUT/$name.txt"
  cat "$OUT/$name.txt" >&2
}
