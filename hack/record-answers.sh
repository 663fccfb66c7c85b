#!/usr/bin/env bash
# Records real Connect REST answers as parser fixtures: record-answers.sh URL OUTDIR.
# Creates two test connectors (one healthy with two tasks, one whose task fails), saves the
# bodies of every endpoint the operator reads, then deletes them. Used to refresh
# tests/fixtures/connect/<version>/ when a Connect version is added. Workers without the
# test connectors (Kafka 3.x from Maven Central) get a FileStreamSource instead, and no
# failing connector.
#
# File names are what src/connect/recorded.rs reads them as: the kind of answer first
# (`status-mock`, `task-status-mock`, `restart-plan-mock`...), and for an error its HTTP code
# (`error-404-not-found`): an error answered with another code than the one recorded here
# expects stops the script instead of being saved under a wrong name.
set -euo pipefail
url="${1:?usage: record-answers.sh URL OUTDIR}"
out="${2:?usage: record-answers.sh URL OUTDIR}"
mkdir -p "$out"
mock=org.apache.kafka.connect.tools.MockSourceConnector
file_source=org.apache.kafka.connect.file.FileStreamSourceConnector
suffix="$(date +%s)"
ok="rec-ok-$suffix"
bad="rec-failing-$suffix"

call() { curl -sS -H 'Content-Type: application/json' "$@"; }
save() { local name="$1"; shift; call "$@" > "$out/$name.json"; echo "recorded $name" >&2; }
# save_error CODE WHAT CURL-ARGS... — records an error answer as error-CODE-WHAT; fails when
# Connect answered with another code.
save_error() {
  local want="$1" name="error-$1-$2" code; shift 2
  code="$(call -o "$out/$name.json" -w '%{http_code}' "$@")"
  if [[ "$code" != "$want" ]]; then
    rm -f "$out/$name.json"
    echo "$name: Connect answered $code, not $want" >&2
    return 1
  fi
  echo "recorded $name" >&2
}
until_running() {
  for _ in $(seq 1 120); do
    call "$url/connectors/$1/status" | grep -q "\"$2\"" && return 0
    sleep 0.5
  done
  echo "connector $1 never showed $2" >&2
  return 1
}

if call "$url/connector-plugins" | grep -q "$mock"; then
  ok_config="{\"connector.class\":\"$mock\",\"tasks.max\":\"2\",\"mock_mode\":\"task-failure\",\"delay_ms\":\"3600000\"}"
  call -X POST "$url/connectors" -d "{\"name\":\"$ok\",\"config\":$ok_config}" > /dev/null
  call -X POST "$url/connectors" -d "{\"name\":\"$bad\",\"config\":{\"connector.class\":\"$mock\",\"tasks.max\":\"1\",\"mock_mode\":\"task-failure\",\"delay_ms\":\"10\"}}" > /dev/null
  until_running "$bad" FAILED
else
  ok_config="{\"connector.class\":\"$file_source\",\"tasks.max\":\"1\",\"file\":\"/dev/null\",\"topic\":\"$ok\"}"
  call -X POST "$url/connectors" -d "{\"name\":\"$ok\",\"config\":$ok_config}" > /dev/null
  bad=""
fi
until_running "$ok" RUNNING

save root "$url/"
save plugins "$url/connector-plugins"
save expanded-mock "$url/connectors?expand=status&expand=info"
save status-mock "$url/connectors/$ok/status"
if [[ -n "$bad" ]]; then
  save status-failed-task "$url/connectors/$bad/status"
fi
save info-mock "$url/connectors/$ok"
save tasks-mock "$url/connectors/$ok/tasks"
save task-status-mock "$url/connectors/$ok/tasks/0/status"
save topics-mock "$url/connectors/$ok/topics"
if [[ -n "$bad" ]]; then
  save restart-plan-mock -X POST "$url/connectors/$bad/restart?includeTasks=true&onlyFailed=true"
fi
save_error 404 not-found "$url/connectors/rec-absent-$suffix/status"
# The same create again: Connect (3.6 on) validates the config before it looks at the name, so
# a class the worker lacks (the mock on Kafka 3.x) would be answered 500 instead.
save_error 409 already-exists -X POST "$url/connectors" -d "{\"name\":\"$ok\",\"config\":$ok_config}"
save validate-filestream-errors -X PUT "$url/connector-plugins/$file_source/config/validate" \
  -d "{\"connector.class\":\"$file_source\",\"name\":\"x\",\"tasks.max\":\"one\"}"
save_error 500 unknown-class -X PUT "$url/connector-plugins/com.example.NoSuchConnector/config/validate" \
  -d '{"connector.class":"com.example.NoSuchConnector","name":"x"}'

call -X DELETE "$url/connectors/$ok" > /dev/null
if [[ -n "$bad" ]]; then
  call -X DELETE "$url/connectors/$bad" > /dev/null
fi
