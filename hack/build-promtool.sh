#!/usr/bin/env bash
# Builds promtool ($PROMETHEUS_VERSION, the Go module github.com/prometheus/prometheus) into
# $KCO_CACHE_DIR/promtool/<version>/bin: the shipped alert rules are unit-tested with
# `promtool test rules` (tests/install_alerts.rs).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

out="$KCO_CACHE_DIR/promtool/$PROMETHEUS_VERSION/bin"
if [[ -x "$out/promtool" ]]; then
  log "promtool $PROMETHEUS_VERSION cached in $out"
else
  log "building promtool $PROMETHEUS_VERSION from github.com/prometheus/prometheus (several minutes when cold)"
  # A wrapper module, as for etcd: go install refuses a module whose go.mod has replace lines.
  work="$KCO_CACHE_DIR/promtool/$PROMETHEUS_VERSION/wrapper"
  mkdir -p "$work" "$out"
  cd "$work"
  [[ -f go.mod ]] || go mod init kco.local/promtoolwrapper >/dev/null 2>&1
  # The package, not only the module: go get then records every module promtool imports.
  step "resolve promtool's module graph" go get "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
  step "go build promtool" go build -trimpath -ldflags "-s -w" -o "$out/promtool.tmp" \
    github.com/prometheus/prometheus/cmd/promtool
  mv "$out/promtool.tmp" "$out/promtool"
fi
"$out/promtool" --version 2>&1 | sed -n 1p >&2
