#!/usr/bin/env bash
# The real local stack: etcd + kube-apiserver, a KRaft Kafka broker, two distributed
# Kafka Connect workers in one group (plus a TLS one) with the third-party plugins of
# hack/fetch-plugins.sh, and a PostgreSQL for them (hack/lib/postgres.sh), all on 127.0.0.1.
#
#   hack/stack.sh up                 build/fetch what is missing, start, wait until ready
#   hack/stack.sh down               stop everything and remove its data
#   hack/stack.sh status             print which processes are running
#   hack/stack.sh worker-stop N      SIGKILL Connect worker N (1 or 2), for rebalance tests
#   hack/stack.sh worker-start N     start Connect worker N again and wait until it serves
#   hack/stack.sh connect-stop       SIGKILL both Connect workers of the group (an outage)
#   hack/stack.sh connect-start      start them again and wait until both serve
#   hack/stack.sh apiserver-stop     stop kube-apiserver (etcd and its data stay)
#   hack/stack.sh apiserver-start    start it again and wait until it serves
#   hack/stack.sh apiserver-restart  both, for fault tests
#   hack/stack.sh logs               print the tail of every log (CI failure reports)
#
# Everything lives under $KCO_STACK_DIR (default target/stack): env, logs/, data/, pids/.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

STACK_DIR="${KCO_STACK_DIR:-$REPO_ROOT/target/stack}"
ETCD_PORT="${KCO_ETCD_PORT:-12379}"
ETCD_PEER_PORT="${KCO_ETCD_PEER_PORT:-12380}"
APISERVER_PORT="${KCO_APISERVER_PORT:-16443}"
KAFKA_PORT="${KCO_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KCO_KAFKA_CONTROLLER_PORT:-19093}"
CONNECT_PORT_1="${KCO_CONNECT_PORT_1:-8083}"
CONNECT_PORT_2="${KCO_CONNECT_PORT_2:-8084}"
# A third worker, alone in its own group, behind HTTPS with client certificates and basic auth.
CONNECT_PORT_TLS="${KCO_CONNECT_PORT_TLS:-8443}"
BASIC_USER=kco
BASIC_PASSWORD=kco-basic-secret
JAVA_HEAP="${KCO_JAVA_HEAP:--Xmx512m}"

KUBE_BIN="$KCO_CACHE_DIR/kube/$KUBE_VERSION/bin"
ETCD_BIN="$KCO_CACHE_DIR/etcd/$ETCD_VERSION/bin"
HELM_BIN="$KCO_CACHE_DIR/helm/$HELM_VERSION/bin"
PROMTOOL_BIN="$KCO_CACHE_DIR/promtool/$PROMETHEUS_VERSION/bin"
KAFKA_LIB="$KCO_CACHE_DIR/kafka/$KAFKA_VERSION/lib"
LOGS="$STACK_DIR/logs"; DATA="$STACK_DIR/data"; PIDS="$STACK_DIR/pids"
# Every worker's third-party plugins (one plugin.path folder per plugin version in the cache;
# every plugin has ServiceLoader manifests, so no reflection scan) and Connect's
# FileConfigProvider, limited to the folder of the stack's secret files.
WORKER_PLUGINS="plugin.path=$("$REPO_ROOT/hack/fetch-plugins.sh" --path)
plugin.discovery=service_load
config.providers=file
config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
config.providers.file.param.allowed.paths=$DATA/connect-secrets"
source "$REPO_ROOT/hack/lib/worker.sh"
source "$REPO_ROOT/hack/lib/postgres.sh"
source "$REPO_ROOT/hack/lib/connect-matrix.sh"

pid_alive() { [[ -f "$PIDS/$1.pid" ]] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

# wait_for WHAT SECONDS CMD... — poll CMD every 200 ms until it succeeds.
wait_for() {
  local what="$1" budget="$2"; shift 2
  local deadline=$((SECONDS + budget))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${budget}s waiting for $what"; return 1
    fi
    sleep 0.2
  done
}

# start NAME CMD... — run a process in its own session, detached, logging to logs/NAME.log.
start() {
  local name="$1"; shift
  if pid_alive "$name"; then return 0; fi
  setsid "$@" >"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$PIDS/$name.pid"
  log "started $name (pid $!)"
}

stop() {
  local name="$1" sig="${2:-TERM}"
  if pid_alive "$name"; then
    local pid; pid="$(cat "$PIDS/$name.pid")"
    kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PIDS/$name.pid"
}

ensure_tools() {
  step "kube-apiserver + kubectl $KUBE_VERSION" "$REPO_ROOT/hack/build-kube.sh"
  step "etcd $ETCD_VERSION + helm $HELM_VERSION" "$REPO_ROOT/hack/build-etcd-helm.sh"
  step "promtool $PROMETHEUS_VERSION (alert rule tests)" "$REPO_ROOT/hack/build-promtool.sh"
  step "Kafka $KAFKA_VERSION jars" "$REPO_ROOT/hack/fetch-kafka.sh"
  step "Connect plugins (Debezium PostgreSQL $DEBEZIUM_VERSION, JDBC sink $DEBEZIUM_JDBC_VERSION)" \
    "$REPO_ROOT/hack/fetch-plugins.sh"
  step "PostgreSQL server binaries" pg_check
  step "Kafka Connect $CONNECT_MATRIX_VERSIONS jars (version matrix)" "$REPO_ROOT/hack/fetch-connect-versions.sh"
}

start_etcd() {
  mkdir -p "$DATA/etcd"
  start etcd "$ETCD_BIN/etcd" --name kco --data-dir "$DATA/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "kco=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync=true --log-level warn
}

start_apiserver() {
  local pki="$DATA/pki"
  mkdir -p "$pki"
  if [[ ! -f "$pki/sa.key" ]]; then
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
    # A static admin token: simpler than minting client certificates, and enough
    # for tests that also need real ServiceAccount tokens (TokenRequest).
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$pki/admin.token"
    printf '%s,admin,admin,system:masters\n' "$(cat "$pki/admin.token")" >"$pki/tokens.csv"
  fi
  start kube-apiserver "$KUBE_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" --cert-dir "$pki" \
    --secure-port "$APISERVER_PORT" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --service-cluster-ip-range 10.0.0.0/24 --allow-privileged=true \
    --authorization-mode RBAC --token-auth-file "$pki/tokens.csv" \
    --disable-admission-plugins ServiceAccount \
    --service-account-issuer "https://127.0.0.1:$APISERVER_PORT/" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key"
}

write_kubeconfig() {
  local pki="$DATA/pki"
  wait_for "apiserver serving certificate" 60 test -s "$pki/apiserver.crt"
  cat >"$STACK_DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 <"$pki/apiserver.crt")
users:
- name: admin
  user:
    token: $(cat "$pki/admin.token")
contexts:
- name: local
  context: {cluster: local, user: admin, namespace: default}
current-context: local
EOF
}

apiserver_ready() {
  curl -sf --cacert "$DATA/pki/apiserver.crt" -H "Authorization: Bearer $(cat "$DATA/pki/admin.token")" \
    "https://127.0.0.1:$APISERVER_PORT/readyz" && \
  curl -sf --cacert "$DATA/pki/apiserver.crt" -H "Authorization: Bearer $(cat "$DATA/pki/admin.token")" \
    "https://127.0.0.1:$APISERVER_PORT/api/v1/namespaces/default"
}

write_log4j() {
  cat >"$DATA/log4j2.properties" <<'EOF'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = org.apache.kafka
logger.kafka.level = INFO
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
EOF
}

java_cmd() {
  # An array, not a string: the classpath's '*' must reach java unexpanded.
  JAVA=(java "$JAVA_HEAP" -XX:+UseSerialGC -Dlog4j2.configurationFile="$DATA/log4j2.properties" -cp "$KAFKA_LIB/*")
}

start_kafka() {
  local dir="$DATA/kafka"
  mkdir -p "$dir"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  if [[ ! -f "$dir/logs/meta.properties" ]]; then
    local id
    java_cmd
    id="$("${JAVA[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | grep -E "^[A-Za-z0-9_-]{22}$" | tail -1)"
    "${JAVA[@]}" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >"$LOGS/kafka-format.log" 2>&1
  fi
  java_cmd
  start kafka "${JAVA[@]}" kafka.Kafka "$dir/server.properties"
}

kafka_ready() { grep -q "Kafka Server started" "$LOGS/kafka.log"; }

start_connect() {
  local n="$1" port
  port="$([[ $n == 1 ]] && echo "$CONNECT_PORT_1" || echo "$CONNECT_PORT_2")"
  local dir="$DATA/connect-$n"
  mkdir -p "$dir"
  {
    http_worker_properties kco-connect kco-connect "$port"
    # A departed worker's connectors move after this delay (default 5 minutes).
    echo "scheduled.rebalance.max.delay.ms=5000"
    echo "$WORKER_PLUGINS"
  } >"$dir/connect.properties"
  java_cmd
  start "connect-$n" "${JAVA[@]}" org.apache.kafka.connect.cli.ConnectDistributed "$dir/connect.properties"
}

# Certificates for the TLS worker: a CA, a server certificate for 127.0.0.1, a client one.
make_tls() {
  local d="$DATA/tls"
  [[ -f "$d/client.crt" ]] && return 0
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=kco-test-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext 2>/dev/null
    # Connect's REST server is Jetty, which takes JKS/PKCS12 stores, not Kafka's PEM ones.
    openssl pkcs12 -export -in server.crt -inkey server.key -certfile ca.crt -out server.p12 -passout pass:kco-keypass
    keytool -importcert -noprompt -storetype PKCS12 -keystore trust.p12 -storepass kco-keypass -alias ca -file ca.crt >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=kco-operator" 2>/dev/null
    # Extensions make these X.509 v3 certificates (rustls refuses v1 ones).
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 -extfile client.ext 2>/dev/null
  )
}

start_connect_tls() {
  local dir="$DATA/connect-3"
  mkdir -p "$dir"
  make_tls
  printf '%s=%s\n' "$BASIC_USER" "$BASIC_PASSWORD" >"$dir/credentials.properties"
  cat >"$dir/jaas.conf" <<EOF
KafkaConnect {
  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
  file="$dir/credentials.properties";
};
EOF
  {
    # Converters with their default, JSON with schemas: no schemas.enable=false here.
    worker_properties kco-connect-secure kco-secure
    cat <<EOF
listeners=https://127.0.0.1:$CONNECT_PORT_TLS
rest.advertised.listener=https
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$CONNECT_PORT_TLS
listeners.https.ssl.keystore.type=PKCS12
listeners.https.ssl.keystore.location=$DATA/tls/server.p12
listeners.https.ssl.keystore.password=kco-keypass
listeners.https.ssl.key.password=kco-keypass
listeners.https.ssl.truststore.type=PKCS12
listeners.https.ssl.truststore.location=$DATA/tls/trust.p12
listeners.https.ssl.truststore.password=kco-keypass
listeners.https.ssl.client.auth=required
rest.extension.classes=org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension
EOF
    echo "$WORKER_PLUGINS"
  } >"$dir/connect.properties"
  java_cmd
  start connect-3 "${JAVA[@]}" -Djava.security.auth.login.config="$dir/jaas.conf" \
    org.apache.kafka.connect.cli.ConnectDistributed "$dir/connect.properties"
}

connect_tls_ready() {
  local t="$DATA/tls"
  curl -sf --cacert "$t/ca.crt" --cert "$t/client.crt" --key "$t/client.key" -u "$BASIC_USER:$BASIC_PASSWORD" \
    "https://127.0.0.1:$CONNECT_PORT_TLS/connectors"
}

connect_url() { [[ $1 == 1 ]] && echo "http://127.0.0.1:$CONNECT_PORT_1" || echo "http://127.0.0.1:$CONNECT_PORT_2"; }
connect_ready() { curl -sf "$(connect_url "$1")/" && curl -sf "$(connect_url "$1")/connectors"; }

write_env() {
  cat >"$STACK_DIR/env" <<EOF
export KUBECONFIG=$STACK_DIR/kubeconfig
export KUBECTL=$KUBE_BIN/kubectl
export HELM=$HELM_BIN/helm
export PROMTOOL=$PROMTOOL_BIN/promtool
export CONNECT_URL=$(connect_url 1)
export CONNECT_URL_2=$(connect_url 2)
export KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
export KCO_STACK_DIR=$STACK_DIR
export KCO_STACK_CTL=$REPO_ROOT/hack/stack.sh
# The ports too, so that \$KCO_STACK_CTL (worker-start, apiserver-start...) reaches this stack.
export KCO_ETCD_PORT=$ETCD_PORT KCO_ETCD_PEER_PORT=$ETCD_PEER_PORT KCO_APISERVER_PORT=$APISERVER_PORT
export KCO_KAFKA_PORT=$KAFKA_PORT KCO_KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT
export KCO_CONNECT_PORT_1=$CONNECT_PORT_1 KCO_CONNECT_PORT_2=$CONNECT_PORT_2 KCO_CONNECT_PORT_TLS=$CONNECT_PORT_TLS
export KCO_CONNECT_MATRIX_PORT=$MATRIX_PORT KCO_POSTGRES_PORT=$POSTGRES_PORT
export CONNECT_URL_TLS=https://127.0.0.1:$CONNECT_PORT_TLS
export CONNECT_TLS_DIR=$DATA/tls
export CONNECT_BASIC_USER=$BASIC_USER
export CONNECT_BASIC_PASSWORD=$BASIC_PASSWORD
$(write_postgres_env)
$(write_matrix_env)
EOF
}

all_up() {
  pid_alive etcd && pid_alive kube-apiserver && pid_alive kafka && pid_alive connect-1 && pid_alive connect-2 \
    && pid_alive connect-3 && pid_alive postgres && pg_ready && matrix_up && apiserver_ready >/dev/null 2>&1 && connect_ready 1 >/dev/null 2>&1 \
    && connect_ready 2 >/dev/null 2>&1 && connect_tls_ready >/dev/null 2>&1
}

# What every stack starts with: etcd, Kafka (started, not waited for) and the apiserver
# (waited for), with the kubeconfig written.
start_core() {
  write_log4j
  start_etcd
  start_kafka
  wait_for "etcd /health" 60 curl -sf "http://127.0.0.1:$ETCD_PORT/health"
  start_apiserver
  write_kubeconfig
  step "wait for kube-apiserver /readyz" wait_for "kube-apiserver /readyz" 90 apiserver_ready
}

cmd_up() {
  mkdir -p "$LOGS" "$DATA" "$PIDS"
  if all_up; then write_env; log "stack already up; env in $STACK_DIR/env"; return 0; fi
  ensure_tools
  local t0=$SECONDS
  start_postgres
  start_core
  step "wait for PostgreSQL, then its role, database and password file" wait_postgres
  step "wait for Kafka broker" wait_for "Kafka broker" 120 kafka_ready
  start_connect 1
  start_connect 2
  start_connect_tls
  start_matrix_workers
  step "wait for Connect worker 1" wait_for "Connect worker 1" 180 connect_ready 1
  step "wait for Connect worker 2" wait_for "Connect worker 2" 180 connect_ready 2
  step "wait for the TLS + basic auth Connect worker" wait_for "Connect worker 3 (TLS)" 180 connect_tls_ready
  wait_matrix_workers
  write_env
  log "stack up in $((SECONDS - t0))s; source $STACK_DIR/env"
}

# `make demo`'s stack: the apiserver, etcd, Kafka and the two plain Connect workers, nothing
# the demo never touches (PostgreSQL, the TLS worker, the version matrix and their builds).
demo_up() {
  pid_alive etcd && pid_alive kube-apiserver && pid_alive kafka && pid_alive connect-1 && pid_alive connect-2 \
    && apiserver_ready >/dev/null 2>&1 && connect_ready 1 >/dev/null 2>&1 && connect_ready 2 >/dev/null 2>&1
}

cmd_up_demo() {
  mkdir -p "$LOGS" "$DATA/connect-secrets" "$PIDS"
  if demo_up; then write_env; log "demo stack already up; env in $STACK_DIR/env"; return 0; fi
  step "kube-apiserver + kubectl $KUBE_VERSION" "$REPO_ROOT/hack/build-kube.sh"
  step "etcd $ETCD_VERSION + helm $HELM_VERSION" "$REPO_ROOT/hack/build-etcd-helm.sh"
  step "Kafka $KAFKA_VERSION jars" "$REPO_ROOT/hack/fetch-kafka.sh"
  step "Connect plugins (on every worker's plugin.path)" "$REPO_ROOT/hack/fetch-plugins.sh"
  local t0=$SECONDS
  start_core
  step "wait for Kafka broker" wait_for "Kafka broker" 120 kafka_ready
  start_connect 1
  start_connect 2
  step "wait for Connect worker 1" wait_for "Connect worker 1" 180 connect_ready 1
  step "wait for Connect worker 2" wait_for "Connect worker 2" 180 connect_ready 2
  write_env
  log "demo stack up in $((SECONDS - t0))s; source $STACK_DIR/env"
}

cmd_down() {
  # The operator started by `make demo` goes first, so it never sees Connect vanish.
  stop operator
  stop_matrix_workers
  for name in connect-3 connect-2 connect-1 kafka kube-apiserver etcd; do stop "$name"; done
  stop_postgres
  rm -rf "$DATA" "$PIDS" "$STACK_DIR/env" "$STACK_DIR/kubeconfig"
  log "stack down"
}

cmd_status() {
  for name in etcd kube-apiserver kafka connect-1 connect-2 connect-3 postgres \
    $(for v in $CONNECT_MATRIX_VERSIONS; do echo "connect-v${v//./}"; done); do
    if pid_alive "$name"; then echo "$name running (pid $(cat "$PIDS/$name.pid"))"; else echo "$name stopped"; fi
  done
}

cmd_logs() {
  for f in "$LOGS"/*.log; do
    [[ -f "$f" ]] || continue
    echo "===== tail of $f"; tail -n "${KCO_LOG_TAIL:-40}" "$f"
  done
}

# keep_log NAME — before NAME starts again: its log so far is appended to NAME.previous.log, so
# a test can still read what happened before a kill (every earlier run, oldest first).
keep_log() {
  if [[ -f "$LOGS/$1.log" ]]; then
    cat "$LOGS/$1.log" >>"$LOGS/$1.previous.log" && rm -f "$LOGS/$1.log"
  fi
}

cmd_worker_start() {
  mkdir -p "$LOGS" "$PIDS"
  keep_log "connect-$1"
  start_connect "$1"
  wait_for "Connect worker $1" 180 connect_ready "$1"
}

# The same flags, certificates and token as before, so every client's kubeconfig still works.
cmd_apiserver_start() {
  mkdir -p "$LOGS" "$PIDS"
  keep_log kube-apiserver
  start_apiserver
  step "wait for kube-apiserver /readyz" wait_for "kube-apiserver /readyz" 90 apiserver_ready
}

case "${1:-}" in
  up) cmd_up ;;
  up-demo) cmd_up_demo ;;
  down) cmd_down ;;
  status) cmd_status ;;
  logs) cmd_logs ;;
  worker-stop) stop "connect-${2:?worker number}" KILL; log "killed Connect worker $2" ;;
  worker-start) cmd_worker_start "${2:?worker number}" ;;
  connect-stop) for n in 1 2; do stop "connect-$n" KILL; done; log "killed Connect workers 1 and 2" ;;
  connect-start)
    mkdir -p "$LOGS" "$PIDS"
    for n in 1 2; do keep_log "connect-$n"; start_connect "$n"; done
    for n in 1 2; do step "wait for Connect worker $n" wait_for "Connect worker $n" 180 connect_ready "$n"; done ;;
  apiserver-stop) stop kube-apiserver; log "stopped kube-apiserver" ;;
  apiserver-start) cmd_apiserver_start ;;
  apiserver-restart) stop kube-apiserver; log "stopped kube-apiserver"; cmd_apiserver_start ;;
  *) echo "usage: $0 up|up-demo|down|status|logs|worker-stop N|worker-start N|connect-stop|connect-start|apiserver-stop|apiserver-start|apiserver-restart" >&2; exit 2 ;;
esac
