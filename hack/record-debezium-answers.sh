#!/usr/bin/env bash
# Records real answers of a Connect worker running the stack's Debezium plugins as parser
# fixtures: record-debezium-answers.sh [OUTDIR] (default tests/fixtures/connect/$KAFKA_VERSION).
# Needs the stack up (`hack/stack.sh up`): it validates the PostgreSQL source with a good and a
# wrong password and the JDBC sink, runs the pair on a table of its own until a row has gone
# through, saves what the operator reads, then deletes the connectors, the replication slot, the
# publication and the tables. Every password in the answers becomes REDACTED; the expanded
# listing keeps only the recorded pair (other tests' connectors may be running).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
# shellcheck disable=SC1091
source "${KCO_STACK_DIR:-$REPO_ROOT/target/stack}/env"
command -v jq >/dev/null || { log "jq is needed"; exit 1; }
out="${1:-$REPO_ROOT/tests/fixtures/connect/$KAFKA_VERSION}"
mkdir -p "$out"
url="$CONNECT_URL"
id="rec_dbz_$(date +%s)"
src="$id-source"; sink="$id-sink"
sentinel="kco-wrong-password-$RANDOM"
export PGPASSWORD="$POSTGRES_PASSWORD"
sql() { "$POSTGRES_BIN/psql" -X -q -tA -v ON_ERROR_STOP=1 -h "$POSTGRES_HOST" -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$1"; }
call() { curl -sS -H 'Content-Type: application/json' "$@"; }
redact() { sed -e "s/$POSTGRES_PASSWORD/REDACTED/g" -e "s/$sentinel/REDACTED/g"; }
save() { local name="$1"; shift; call "$@" | redact >"$out/$name.json"; log "recorded $name ($(wc -c <"$out/$name.json") bytes)"; }
# until_true WHAT CMD... — poll CMD every 500 ms for 2 minutes.
until_true() {
  local what="$1"; shift
  for _ in $(seq 1 240); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  log "timed out waiting for $what"; return 1
}

converters='"key.converter":"org.apache.kafka.connect.json.JsonConverter","value.converter":"org.apache.kafka.connect.json.JsonConverter","key.converter.schemas.enable":"true","value.converter.schemas.enable":"true"'
source_config() { # PASSWORD
  cat <<EOF
{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","name":"$src","tasks.max":"1",
 "plugin.name":"pgoutput","database.hostname":"$POSTGRES_HOST","database.port":"$POSTGRES_PORT",
 "database.user":"$POSTGRES_USER","database.password":"$1","database.dbname":"$POSTGRES_DB",
 "topic.prefix":"$id","slot.name":"${id}_slot","publication.name":"${id}_pub",
 "publication.autocreate.mode":"filtered","table.include.list":"public.${id}_src","snapshot.mode":"initial",$converters}
EOF
}
sink_config() {
  cat <<EOF
{"connector.class":"io.debezium.connector.jdbc.JdbcSinkConnector","name":"$sink","tasks.max":"1",
 "topics":"$id.public.${id}_src","connection.url":"jdbc:postgresql://$POSTGRES_HOST:$POSTGRES_PORT/$POSTGRES_DB",
 "connection.username":"$POSTGRES_USER","connection.password":"$POSTGRES_PASSWORD",
 "insert.mode":"upsert","primary.key.mode":"record_key","delete.enabled":"true","schema.evolution":"basic",
 "collection.name.format":"${id}_dst",$converters}
EOF
}

cleanup() {
  call -X DELETE "$url/connectors/$src" >/dev/null || true
  call -X DELETE "$url/connectors/$sink" >/dev/null || true
  # The slot can be dropped once the source's task has let it go.
  until_true "slot ${id}_slot released" sql "SELECT pg_drop_replication_slot('${id}_slot') FROM pg_replication_slots WHERE slot_name = '${id}_slot' AND NOT active; SELECT 1/(1 - count(*))::int FROM pg_replication_slots WHERE slot_name = '${id}_slot'" || true
  sql "DROP PUBLICATION IF EXISTS ${id}_pub; DROP TABLE IF EXISTS ${id}_src, ${id}_dst" || true
}
trap cleanup EXIT

sql "CREATE TABLE ${id}_src (id integer PRIMARY KEY, name text NOT NULL); INSERT INTO ${id}_src VALUES (1, 'one')"
validate="$url/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate"
save validate-debezium-postgres-ok -X PUT "$validate" -d "$(source_config "$POSTGRES_PASSWORD")"
save validate-debezium-postgres-bad-password -X PUT "$validate" -d "$(source_config "$sentinel")"
save validate-debezium-jdbc -X PUT "$url/connector-plugins/io.debezium.connector.jdbc.JdbcSinkConnector/config/validate" -d "$(sink_config)"
save plugins "$url/connector-plugins"
save root "$url/"

call -X PUT "$url/connectors/$src/config" -d "$(source_config "$POSTGRES_PASSWORD")" >/dev/null
call -X PUT "$url/connectors/$sink/config" -d "$(sink_config)" >/dev/null
tasks_running() { call "$url/connectors/$1/status" | jq -e '.connector.state == "RUNNING" and (.tasks | length) > 0 and all(.tasks[]; .state == "RUNNING")'; }
until_true "$src RUNNING" tasks_running "$src"
until_true "$sink RUNNING" tasks_running "$sink"
until_true "the row in ${id}_dst" sql "SELECT 1/count(*) FROM ${id}_dst"
until_true "topics of $src" eval "call '$url/connectors/$src/topics' | jq -e '.[].topics | length > 0'"

call "$url/connectors?expand=status&expand=info" | jq -c --arg a "$src" --arg b "$sink" 'with_entries(select(.key == $a or .key == $b))' \
  | redact >"$out/expanded-debezium.json"
log "recorded expanded-debezium ($(wc -c <"$out/expanded-debezium.json") bytes)"
save status-debezium "$url/connectors/$src/status"
save info-debezium "$url/connectors/$src"
save topics-debezium "$url/connectors/$src/topics"

if grep -l -e "$POSTGRES_PASSWORD" -e "$sentinel" "$out"/*.json; then log "a password is left in the files above"; exit 1; fi
