#!/usr/bin/env bash
# Builds etcd ($ETCD_VERSION) and helm ($HELM_VERSION) from their Go modules into
# $KCO_CACHE_DIR/{etcd,helm}/<version>/bin.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

etcd_out="$KCO_CACHE_DIR/etcd/$ETCD_VERSION/bin"
if [[ -x "$etcd_out/etcd" ]]; then
  log "etcd $ETCD_VERSION cached in $etcd_out"
else
  log "building etcd $ETCD_VERSION from go.etcd.io/etcd/server/v3 (a few minutes when cold)"
  # go install refuses the module (its go.mod has replace lines); a wrapper module does not.
  work="$KCO_CACHE_DIR/etcd/$ETCD_VERSION/wrapper"
  mkdir -p "$work" "$etcd_out"
  cd "$work"
  [[ -f go.mod ]] || go mod init kco.local/etcdwrapper >/dev/null 2>&1
  step "resolve etcd module graph" go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  step "go build etcd" go build -trimpath -ldflags "-s -w" -o "$etcd_out/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$etcd_out/etcd.tmp" "$etcd_out/etcd"
fi

helm_out="$KCO_CACHE_DIR/helm/$HELM_VERSION/bin"
if [[ -x "$helm_out/helm" ]]; then
  log "helm $HELM_VERSION cached in $helm_out"
else
  log "building helm $HELM_VERSION from helm.sh/helm/v3 (a few minutes when cold)"
  mkdir -p "$helm_out"
  kube_minor="${KUBE_VERSION#v1.}"; kube_minor="${kube_minor%%.*}"
  # Without these ldflags helm reports v3.x-dev and assumes Kubernetes v1.20.
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kube_minor"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kube_minor"
  GOBIN="$helm_out" step "go install helm" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
# sed reads to the end: `head` would close the pipe early and pipefail would report SIGPIPE.
"$etcd_out/etcd" --version | sed -n 1p >&2
"$helm_out/helm" version --short >&2
