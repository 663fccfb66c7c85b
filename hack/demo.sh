#!/usr/bin/env bash
# `make demo`: the real stack, the CRDs, the operator, and examples/ applied; waits until
# every KafkaConnector is Ready and shows the operator's view beside Connect's own.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO_ROOT"

# Only what the demo uses (no PostgreSQL, TLS worker or version matrix); a full stack that is
# already up (make test with KCO_KEEP_STACK=1) serves as well.
step "stack up (what the demo uses)" hack/stack.sh up-demo
# shellcheck disable=SC1091
source target/stack/env
step "build the operator" cargo build --quiet --bin kafka-connect-operator

step "install the CRDs" "$KUBECTL" apply --server-side --force-conflicts -f crds/kafkaconnect.dev.yaml
"$KUBECTL" wait --for condition=established --timeout=60s crd/kafkaconnectors.kafkaconnect.dev crd/kafkaconnectclusters.kafkaconnect.dev

pidfile="$KCO_STACK_DIR/pids/operator.pid"
if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  log "operator already running (pid $(cat "$pidfile"))"
else
  setsid ./target/debug/kafka-connect-operator run --http-addr 127.0.0.1:8080 \
    >"$KCO_STACK_DIR/logs/operator.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  log "operator started (pid $!), log: $KCO_STACK_DIR/logs/operator.log, metrics: http://127.0.0.1:8080/metrics"
fi

"$KUBECTL" create namespace demo --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
t0=$(date +%s.%N)
"$KUBECTL" -n demo apply -f examples/
step "wait until every KafkaConnector is Ready" \
  "$KUBECTL" -n demo wait --for=condition=Ready kafkaconnectors --all --timeout=180s
log "apply-to-Ready: $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || python3 -c "print(round($(date +%s.%N) - $t0, 1))")s"

echo
echo "== what the operator reports (kubectl -n demo get kafkaconnect)"
"$KUBECTL" -n demo get kafkaconnect
echo
echo "== what Connect itself says (GET $CONNECT_URL/connectors?expand=status)"
curl -s "$CONNECT_URL/connectors?expand=status" | python3 -c '
import json, sys
for name, v in sorted(json.load(sys.stdin).items()):
    s = v["status"]
    tasks = ", ".join("%s:%s" % (t["id"], t["state"]) for t in s["tasks"]) or "-"
    c = s["connector"]
    print("  %-14s %-8s on %-16s tasks %s" % (name, c["state"], c["worker_id"], tasks))'
cat <<EOF2

Try it (the environment: source target/stack/env):
  pause:    \$KUBECTL -n demo patch kctr demo-source --type merge -p '{"spec":{"state":"paused"}}'
  resume:   \$KUBECTL -n demo patch kctr demo-source --type merge -p '{"spec":{"state":"running"}}'
  restart:  \$KUBECTL -n demo patch kctr demo-source --type merge -p '{"spec":{"restart":{"id":"'\$(date +%s)'","includeTasks":true}}}'
  run the paused one: \$KUBECTL -n demo patch kctr demo-paused --type merge -p '{"spec":{"state":"running"}}'
  scale:    \$KUBECTL -n demo scale kctr demo-source --replicas=3
  offsets:  \$KUBECTL -n demo patch kctr demo-lines --type merge -p '{"spec":{"offsets":{"id":"'\$(date +%s)'","reset":true}}}'
  rotate:   \$KUBECTL -n demo patch secret demo-db-credentials -p '{"stringData":{"user":"rotated"}}'   (re-applied at once)
  hands off: \$KUBECTL -n demo annotate kctr demo-sink kafkaconnect.dev/pause-reconciliation=true
  delete:   \$KUBECTL -n demo delete kctr demo-sink      (the finalizer deletes it from Connect first)
  watch:    \$KUBECTL -n demo get kctr -w     events: \$KUBECTL -n demo get events
  drift:    curl -X PUT -H 'Content-Type: application/json' \$CONNECT_URL/connectors/demo-source/pause   (reverted within seconds)
Tear down: make stack-down   (stops the operator, Connect, Kafka, the apiserver and etcd; removes their data)
EOF2
