#!/usr/bin/env bash
# Records real Connect REST answers as parser fixtures: record-answers.sh URL OUTDIR.
# Creates two test connectors (one healthy with two tasks, one whose task fails), saves the
# bodies of every endpoint the operator reads, then deletes them. Used to refresh
# tests/fixtures/connect/<version>/ when a Connect version is added. Workers without the
# test connectors (Kafka 3.x from Maven Central) get a FileStreamSource instead, and no
# failing connector.
set -euo pipefail
url="${1:?usage: record-answers.sh URL OUTDIR}"
out="${2:?usage: record-answers.sh URL OUTDIR}"
mkdir -p "$out"
mock=org.apache.kafka.connect.tools.MockSourceConnector
suffix="$(date +%s)"
ok="rec-ok-$suffix"
bad="rec-failing-$suffix"

call() { curl -sS -H 'Content-Type: application/json' "$@"; }
save() { local name="$1"; shift; call "$@" > "$out/$name.json"; echo "recorded $name" >&2; }
until_running() {
  for _ in $(seq 1 120); do
    call "$url/connectors/$1/status" | grep -q "\"$2\"" && return 0
    sleep 0.5
  done
  echo "connector $1 never showed $2" >&2
  return 1
}

if call "$url/connector-plugins" | grep -q "$mock"; then
  call -X POST "$url/connectors" -d "{\"name\":\"$ok\",\"config\":{\"connector.class\":\"$mock\",\"tasks.max\":\"2\",\"mock_mode\":\"task-failure\",\"delay_ms\":\"3600000\"}}" > /dev/null
  call -X POST "$url/connectors" -d "{\"name\":\"$bad\",\"config\":{\"connector.class\":\"$mock\",\"tasks.max\":\"1\",\"mock_mode\":\"task-failure\",\"delay_ms\":\"10\"}}" > /dev/null
  until_running "$bad" FAILED
else
  file_source=org.apache.kafka.connect.file.FileStreamSourceConnector
  call -X POST "$url/connectors" -d "{\"name\":\"$ok\",\"config\":{\"connector.class\":\"$file_source\",\"tasks.max\":\"1\",\"file\":\"/dev/null\",\"topic\":\"$ok\"}}" > /dev/null
  bad=""
fi
until_running "$ok" RUNNING

save root "$url/"
save plugins "$url/connector-plugins"
save expanded-mock "$url/connectors?expand=status&expand=info"
save status-mock "$url/connectors/$ok/status"
[[ -n "$bad" ]] && save status-failed-task "$url/connectors/$bad/status"
save info-mock "$url/connectors/$ok"
save tasks-mock "$url/connectors/$ok/tasks"
save task-status-mock "$url/connectors/$ok/tasks/0/status"
save topics-mock "$url/connectors/$ok/topics"
[[ -n "$bad" ]] && save restart-plan-mock -X POST "$url/connectors/$bad/restart?includeTasks=true&onlyFailed=true"
save error-not-found "$url/connectors/rec-absent-$suffix/status"
save error-already-exists -X POST "$url/connectors" -d "{\"name\":\"$ok\",\"config\":{\"connector.class\":\"$mock\"}}"
save validate-filestream-errors -X PUT "$url/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config/validate" \
  -d '{"connector.class":"org.apache.kafka.connect.file.FileStreamSourceConnector","name":"x","tasks.max":"one"}'
save error-unknown-class -X PUT "$url/connector-plugins/com.example.NoSuchConnector/config/validate" \
  -d '{"connector.class":"com.example.NoSuchConnector","name":"x"}'

call -X DELETE "$url/connectors/$ok" > /dev/null
[[ -z "$bad" ]] || call -X DELETE "$url/connectors/$bad" > /dev/null
