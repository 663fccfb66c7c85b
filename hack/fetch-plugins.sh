#!/usr/bin/env bash
# Resolves the third-party Connect plugins the local stack offers from Maven Central, one
# directory per plugin and version, each without the jars the worker provides:
#   $KCO_CACHE_DIR/plugins/<name>/<version>/<name>/*.jar
# The worker's plugin.path names each $KCO_CACHE_DIR/plugins/<name>/<version> (a folder whose
# sub-folder is one isolated plugin). A plugin is fetched again only when its pom or version
# changes (.complete holds both): a second run needs no network.
#
#   hack/fetch-plugins.sh           fetch what is missing
#   hack/fetch-plugins.sh --path    print the plugin.path value (comma-separated), fetch nothing
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

# name|version|extra mvn -D properties
PLUGINS=(
  "debezium-postgres|$DEBEZIUM_VERSION|"
  "debezium-jdbc|$DEBEZIUM_JDBC_VERSION|-Dpostgresql.driver.version=$POSTGRESQL_JDBC_VERSION"
)

KAFKA_LIB="$KCO_CACHE_DIR/kafka/$KAFKA_VERSION/lib"
plugin_dir() { echo "$KCO_CACHE_DIR/plugins/$1/$2"; }

if [[ "${1:-}" == --path ]]; then
  paths=()
  for p in "${PLUGINS[@]}"; do IFS='|' read -r name version _ <<<"$p"; paths+=("$(plugin_dir "$name" "$version")"); done
  (IFS=,; echo "${paths[*]}")
  exit 0
fi

for p in "${PLUGINS[@]}"; do
  IFS='|' read -r name version extra <<<"$p"
  pom="$REPO_ROOT/hack/plugins/$name.pom.xml"
  out="$(plugin_dir "$name" "$version")"
  key="$(cat "$pom" <(echo "$version $extra") | sha256sum)"
  if [[ -f "$out/.complete" && "$(cat "$out/.complete")" == "$key" ]]; then
    log "plugin $name $version cached in $out ($(ls "$out/$name" | wc -l) jars)"
    continue
  fi
  log "resolving plugin $name $version from Maven Central"
  rm -rf "$out"
  mkdir -p "$out/$name"
  # shellcheck disable=SC2086  # $extra is zero or more -D arguments
  step "mvn dependency:copy-dependencies ($name)" mvn -B -q -f "$pom" -Dplugin.version="$version" $extra \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$out/$name"
  # What the worker provides must not be in a plugin (the pom excludes it; this says so if not):
  # Kafka, Connect and SLF4J whatever their version, and any jar on the worker's classpath.
  dups="$(ls "$out/$name" | grep -E '^(kafka-clients|connect-|slf4j-)' || true)"
  [[ -d "$KAFKA_LIB" ]] && dups+="$(comm -12 <(ls "$out/$name" | sort) <(ls "$KAFKA_LIB" | sort))"
  if [[ -n "$dups" ]]; then
    log "plugin $name ships jars the Connect worker provides, exclude them in $pom: $(echo $dups)"
    rm -rf "$out"
    exit 1
  fi
  echo "$key" >"$out/.complete"
  log "plugin $name $version: $(ls "$out/$name" | wc -l) jars, $(du -sh "$out/$name" | cut -f1)"
done
