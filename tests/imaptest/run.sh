#!/usr/bin/env bash
# Runs each of imaptest's scripted conformance tests (src/tests/*) against an IMAP server and
# totals them, so that two servers (Mailroom and the reference Dovecot) can be compared.
#
#   tests/imaptest/run.sh IMAPTEST HOST PORT USER1 PASS USER2 [OUT_DIR]
#
# USER1 and USER2 log in with the same password PASS; their mailboxes should start empty.
# Writes one log per test and summary.tsv (test, groups, failed, base failures/commands,
# extension failures/commands) into OUT_DIR (default: a new temporary directory).
# A test that ran no command was skipped: the server lacks a capability it needs.
# Last line: "imaptest: N groups run, F failed, S skipped; base protocol B failed of T; extensions E failed of X".
# Exit status 0 only when no base-protocol command failed.
set -uo pipefail
[[ $# -ge 6 ]] || { sed -n 2,12p "$0"; exit 2; }
it=$1 host=$2 port=$3 user1=$4 pass=$5 user2=$6
out=${7:-$(mktemp -d)}; mkdir -p "$out"
tests=$(cd "$(dirname "$it")/tests" && pwd)
export LD_LIBRARY_PATH=/usr/lib/dovecot${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
: >"$out/summary.tsv"
for f in "$tests"/*; do
  name=$(basename "$f"); [[ -f $f && $name != *.mbox ]] || continue
  timeout 120 "$it" host="$host" port="$port" user="$user1" pass="$pass" user2="$user2" test="$f" >"$out/$name.log" 2>&1
  groups=$(grep -oE '[0-9]+ test groups: [0-9]+ failed' "$out/$name.log" | tail -1)
  base=$(grep -oE 'base protocol: [0-9]+/[0-9]+' "$out/$name.log" | tail -1 | awk '{print $3}')
  ext=$(grep -oE 'extensions: [0-9]+/[0-9]+' "$out/$name.log" | tail -1 | awk '{print $2}')
  printf '%s\t%s\t%s\t%s\n' "$name" "${groups:-none}" "${base:-0/0}" "${ext:-0/0}" >>"$out/summary.tsv"
done
awk -F'\t' -v out="$out" '
  { split($3, b, "/"); split($4, e, "/"); bf += b[1]; bt += b[2]; ef += e[1]; et += e[2]
    if (b[2] + e[2] == 0) { skipped++; next }
    run++; if (b[1] + e[1] > 0) { failed++; list = list " " $1 } }
  END {
    if (failed) print "failed:" list " (logs in " out ")"
    printf "imaptest: %d groups run, %d failed, %d skipped; base protocol %d failed of %d; extensions %d failed of %d\n", run, failed, skipped, bf, bt, ef, et
    exit bf > 0 }' "$out/summary.tsv"
