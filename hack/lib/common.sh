# shellcheck shell=bash
# Shared helpers for the hack/ scripts. Sourced, never executed: every hack/ script starts with
#   source "$(dirname "$0")/lib/common.sh"
# Pinned versions live here so that every script and the cache keys agree. The other sourced
# libraries of hack/lib/ (worker.sh, postgres.sh, connect-matrix.sh) are the local stack's.

KUBE_VERSION="${KUBE_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
HELM_VERSION="${HELM_VERSION:-v3.21.4}"
# promtool, for the alert rules' unit tests (the Go module's v0.x numbering of Prometheus 3.x).
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
# Older Connect workers of the version matrix (tests/connect_versions.rs), against the same broker.
CONNECT_MATRIX_VERSIONS="${CONNECT_MATRIX_VERSIONS:-3.6.2 3.0.2}"
# Third-party Connect plugins (hack/fetch-plugins.sh). Maven Central serves no
# debezium-connector-jdbc 3.6.1.Final: the sink is the newest served, 3.6.0.Final.
DEBEZIUM_VERSION="${DEBEZIUM_VERSION:-3.6.1.Final}"
DEBEZIUM_JDBC_VERSION="${DEBEZIUM_JDBC_VERSION:-3.6.0.Final}"
POSTGRESQL_JDBC_VERSION="${POSTGRESQL_JDBC_VERSION:-42.7.11}"

# The cache lives outside the repository so that a fresh clone reuses it.
KCO_CACHE_DIR="${KCO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-connect-operator}"
# shellcheck disable=SC2034 # read by the scripts that source this file
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

export GOTOOLCHAIN=local
export CGO_ENABLED=0

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# step NAME CMD... — run a command, print what it is and how long it took.
step() {
  local name="$1"; shift
  local start=$SECONDS
  log "==> $name"
  "$@"
  local rc=$?
  log "<== $name: $((SECONDS - start))s (exit $rc)"
  return $rc
}
