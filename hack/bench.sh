#!/usr/bin/env bash
# make bench: the operator at scale (issue 10). Builds the release operator and emulator, brings
# the local stack up if it is down, runs the #[ignore]d tests/bench.rs, and prints its report
# (a markdown table, then the last line `BENCH {json}`), also kept in target/bench/report.md.
# Sizes: KCO_BENCH_SIZES (100,1000,2000), KCO_BENCH_IDLE_SECONDS (120), KCO_BENCH_CLUSTERS_LARGEST (5),
# KCO_BENCH_CONCURRENCY (16), KCO_BENCH_POLL_INTERVAL (10s), KCO_BENCH_REAL_N (50; a list such as 50,100 runs each; 0 skips),
# KCO_BENCH_TIMEOUT_SECONDS (600), KCO_BENCH_SHARD_CLUSTERS (10; 0 skips) x KCO_BENCH_SHARD_PER_CLUSTER (1000)
# for the sharded runs (one process, then two shards, then a handover).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p kco-connect-emulator --bin kco-connect-emulator
cargo build --release --bin kafka-connect-operator

if [[ ! -f target/stack/env ]] || ! (source target/stack/env && "$KUBECTL" get --raw /readyz >/dev/null 2>&1); then
  hack/stack.sh up
fi
source target/stack/env

mkdir -p target/bench
rm -f target/bench/report.md
export KCO_OPERATOR_BIN="$PWD/target/release/kafka-connect-operator"
export KCO_EMULATOR_BIN="$PWD/target/release/kco-connect-emulator"
# The harness's own output (progress on stderr, cargo's summary) goes to the log; the report last.
cargo test --test bench -- --ignored --nocapture --test-threads=1 2>&1 | tee target/bench/bench.log >&2
cat target/bench/report.md
