# shellcheck shell=bash
# The version matrix's older Connect workers, sourced by hack/stack.sh (with hack/lib/worker.sh,
# which writes their properties): one distributed worker per version in
# $CONNECT_MATRIX_VERSIONS (jars from hack/fetch-connect-versions.sh), each alone in its own
# group with its own internal topics, on the stack's 4.3.1 broker.
# Ports from $KCO_CONNECT_MATRIX_PORT (default 8085) upwards, in the order of the versions.

MATRIX_PORT="${KCO_CONNECT_MATRIX_PORT:-8085}"

# matrix_each FN: calls FN VERSION PORT TAG for every matrix version (TAG: v362 for 3.6.2).
matrix_each() {
  local port=$MATRIX_PORT v
  for v in $CONNECT_MATRIX_VERSIONS; do
    "$1" "$v" "$port" "v${v//./}" || return 1
    port=$((port + 1))
  done
}

start_matrix_worker() {
  local version="$1" port="$2" tag="$3"
  local dir="$DATA/connect-$tag" lib
  mkdir -p "$dir"
  lib="$("$REPO_ROOT/hack/fetch-connect-versions.sh" --lib "$version")"
  # Kafka 3.x logs through reload4j (log4j 1.x syntax).
  printf '%s\n' \
    "log4j.rootLogger=INFO, stdout" \
    "log4j.appender.stdout=org.apache.log4j.ConsoleAppender" \
    "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout" \
    "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n" \
    "log4j.logger.org.reflections=ERROR" >"$dir/log4j.properties"
  http_worker_properties "kco-connect-$tag" "kco-connect-$tag" "$port" >"$dir/connect.properties"
  start "connect-$tag" java "$JAVA_HEAP" -XX:+UseSerialGC \
    -Dlog4j.configuration="file:$dir/log4j.properties" \
    -cp "$lib/*" org.apache.kafka.connect.cli.ConnectDistributed "$dir/connect.properties"
}

matrix_ready_one() { curl -sf "http://127.0.0.1:$2/connectors" >/dev/null; }
wait_matrix_one() {
  step "wait for Connect $1 (version matrix)" wait_for "Connect $1 worker" 180 matrix_ready_one "$@"
}
matrix_alive_one() { pid_alive "connect-$3" && matrix_ready_one "$@"; }
stop_matrix_one() { stop "connect-$3"; }
# CONNECT_URL_V362=http://127.0.0.1:8085 and so on.
matrix_env_one() { echo "export CONNECT_URL_${3^^}=http://127.0.0.1:$2"; }

start_matrix_workers() { matrix_each start_matrix_worker; }
wait_matrix_workers() { matrix_each wait_matrix_one; }
matrix_up() { matrix_each matrix_alive_one; }
stop_matrix_workers() { matrix_each stop_matrix_one; }
write_matrix_env() { matrix_each matrix_env_one; }
