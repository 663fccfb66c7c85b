#!/usr/bin/env bash
# Resolves the pinned Apache Kafka jars from Maven Central into
# $KCO_CACHE_DIR/kafka/$KAFKA_VERSION/lib (one flat folder, used as `java -cp 'lib/*'`).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

out="$KCO_CACHE_DIR/kafka/$KAFKA_VERSION"
if [[ -f "$out/.complete" && "$(cat "$out/.complete")" == "$(sha256sum <"$REPO_ROOT/hack/kafka/pom.xml")" ]]; then
  log "Kafka $KAFKA_VERSION jars cached in $out/lib ($(ls "$out/lib" | wc -l) jars)"
  exit 0
fi
log "resolving Apache Kafka $KAFKA_VERSION jars from Maven Central (first run: a minute or two)"
# Resolved beside, then swapped in: workers running from the old folder keep their open jars.
rm -rf "$out/lib.new" "$out/lib.old"
mkdir -p "$out/lib.new"
step "mvn dependency:copy-dependencies" mvn -B -q -f "$REPO_ROOT/hack/kafka/pom.xml" \
  -Dkafka.version="$KAFKA_VERSION" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$out/lib.new"
[[ -d "$out/lib" ]] && mv "$out/lib" "$out/lib.old"
mv "$out/lib.new" "$out/lib"
sha256sum <"$REPO_ROOT/hack/kafka/pom.xml" >"$out/.complete"
log "Kafka $KAFKA_VERSION: $(ls "$out/lib" | wc -l) jars, $(du -sh "$out/lib" | cut -f1)"
