#!/usr/bin/env bash
# The integration test binaries (tests/*.rs, built already) against the running stack.
# Those that stop parts of the shared stack (workers, the apiserver) or time the operator
# under faults for docs/RELIABILITY.md run alone, one after another (SERIAL); the others run
# KCO_TEST_JOBS (default 2) binaries at a time: each test makes its own namespaces and its
# own operator, so they share nothing but the stack. Each binary's output is printed whole
# when it ends, then a table of durations. Exits 1 if any binary failed.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO_ROOT" || exit 1

SERIAL=(faults_real faults_emulator stack_rebalance)
threads="${KCO_TEST_THREADS:-4}"
parallel_jobs="${KCO_TEST_JOBS:-2}"
out="${KCO_STACK_DIR:-$REPO_ROOT/target/stack}/test-output"
rm -rf "$out" && mkdir -p "$out"

# "name executable" for every integration test target (cargo's build messages).
mapfile -t bins < <(cargo test --tests --no-run --message-format=json 2>/dev/null |
  grep '"kind":\["test"\]' |
  sed -n 's/.*"target":{[^}]*"name":"\([^"]*\)".*"executable":"\([^"]*\)".*/\1 \2/p' | sort)
((${#bins[@]})) || { log "no integration test binaries found"; exit 1; }

run_one() {
  local name=$1 exe=$2 start=$SECONDS rc
  "$exe" --test-threads="$threads" >"$out/$name.log" 2>&1
  rc=$?
  echo "$name $((SECONDS - start)) $rc" >"$out/$name.result"
  # One binary's output at a time, whole.
  flock "$out/.print" bash -c "cat '$out/$name.log'; echo '[$(date +%H:%M:%S)] $name: $((SECONDS - start))s (exit $rc)' >&2"
}

is_serial() {
  local s
  for s in "${SERIAL[@]}"; do [[ $s == "$1" ]] && return 0; done
  return 1
}

started=$SECONDS
for bin in "${bins[@]}"; do
  read -r name exe <<<"$bin"
  if is_serial "$name"; then run_one "$name" "$exe"; fi
done
for bin in "${bins[@]}"; do
  read -r name exe <<<"$bin"
  is_serial "$name" && continue
  while (($(jobs -rp | wc -l) >= parallel_jobs)); do wait -n; done
  run_one "$name" "$exe" &
done
wait

failed=0
log "integration binaries (seconds, exit code), $((SECONDS - started))s in all with $parallel_jobs at a time:"
while read -r name secs rc; do
  printf '  %-24s %5ss  exit %s\n' "$name" "$secs" "$rc" >&2
  ((rc == 0)) || failed=1
done < <(cat "$out"/*.result | sort -k2 -n -r)
exit $failed
