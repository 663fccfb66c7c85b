#!/usr/bin/env bash
# Resolves the older Kafka Connect releases of the version matrix ($CONNECT_MATRIX_VERSIONS)
# from Maven Central into $KCO_CACHE_DIR/connect/<version>/lib, one flat folder each.
# `--lib VERSION` prints that folder. A second run needs no network.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

lib_of() { echo "$KCO_CACHE_DIR/connect/$1/lib"; }
if [[ "${1:-}" == --lib ]]; then lib_of "${2:?version}"; exit 0; fi

pom="$REPO_ROOT/hack/connect-versions/pom.xml"
for v in $CONNECT_MATRIX_VERSIONS; do
  out="$(lib_of "$v")"
  stamp="$(dirname "$out")/.complete"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$(sha256sum <"$pom")" ]]; then
    log "Kafka Connect $v jars cached in $out ($(ls "$out" | wc -l) jars)"
    continue
  fi
  log "resolving Kafka Connect $v from Maven Central (version matrix; first run only)"
  rm -rf "$out"; mkdir -p "$out"
  step "mvn dependency:copy-dependencies (Connect $v)" mvn -B -q -f "$pom" \
    -Dconnect.version="$v" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$out"
  sha256sum <"$pom" >"$stamp"
  log "Kafka Connect $v: $(ls "$out" | wc -l) jars, $(du -sh "$out" | cut -f1)"
done
