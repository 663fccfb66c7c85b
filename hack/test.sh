#!/usr/bin/env bash
# `make test`: lint, unit tests, then the real stack, integration tests, stack down.
# The stack goes down also when tests fail; the tail of every stack log is printed on failure.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO_ROOT" || exit 1

step "cargo fmt --check" cargo fmt --all --check || exit 1
# deploy/'s RBAC is rendered from the chart's rules (charts/kafka-connect-operator/files/rbac/):
# fail with a diff when they drift. Needs helm, built into the cache first on a fresh machine.
step "deploy/ RBAC matches the chart (hack/render-deploy.sh --check)" hack/render-deploy.sh --check || exit 1
step "cargo clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings || exit 1
step "unit tests" cargo test --workspace --lib --bins || exit 1
step "build the test binaries" cargo test --tests --no-run --quiet || exit 1

cleanup() {
  local rc=$?
  if ((rc != 0)); then
    log "tests failed (exit $rc): the tail of every stack log follows"
    hack/stack.sh logs || true
  fi
  if [[ "${KCO_KEEP_STACK:-}" != 1 ]]; then hack/stack.sh down || true; fi
  exit $rc
}
trap cleanup EXIT
step "stack up" hack/stack.sh up || exit 1
# shellcheck disable=SC1091
source "${KCO_STACK_DIR:-target/stack}/env"
# Every tests/*.rs binary: the fault suites (tests/faults_real.rs, tests/faults_emulator.rs),
# which kill workers and the apiserver of this stack and rewrite docs/RELIABILITY.md with their
# figures, alone; the others two at a time (hack/integration-tests.sh).
step "integration tests" hack/integration-tests.sh
