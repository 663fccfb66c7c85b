#!/usr/bin/env bash
# Builds kube-apiserver and kubectl from the k8s.io/kubernetes Go module at
# $KUBE_VERSION into $KCO_CACHE_DIR/kube/$KUBE_VERSION/bin. k8s.io/kubernetes
# cannot be `go install`ed (its go.mod replaces the staging modules with local
# paths), so a throwaway wrapper module pins every staging module instead.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

out="$KCO_CACHE_DIR/kube/$KUBE_VERSION/bin"
if [[ -x "$out/kube-apiserver" && -x "$out/kubectl" ]]; then
  log "kube-apiserver and kubectl $KUBE_VERSION cached in $out"
  exit 0
fi

log "building kube-apiserver + kubectl $KUBE_VERSION from Go modules:"
log "a cold build takes 10-25 minutes on 2 cores; the result is cached in $out"
minor="${KUBE_VERSION#v1.}"          # 36.3
staging_version="v0.${minor}"        # v0.36.3
work="$KCO_CACHE_DIR/kube/$KUBE_VERSION/wrapper"
mkdir -p "$work" "$out"
cd "$work"

if [[ ! -f go.mod ]]; then
  go mod init kco.local/kubewrapper >/dev/null 2>&1
fi

gomod="$(step "download k8s.io/kubernetes@$KUBE_VERSION" go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[[ -f "$gomod" ]] || { log "could not find go.mod of k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }

replaces=()
while read -r module; do
  replaces+=("-replace=${module}=${module}@${staging_version}")
done < <(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$gomod" | sort -u)
log "pinning ${#replaces[@]} staging modules to $staging_version"
go mod edit "${replaces[@]}"
# The go directive must be new enough for k8s.io/kubernetes.
go mod edit -go="$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$gomod")"

step "resolve module graph" go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" "k8s.io/kubernetes/cmd/kubectl@$KUBE_VERSION"

ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${KUBE_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor%%.*}"
  ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
done

step "go build kube-apiserver" go build -trimpath -ldflags "$ldflags" -o "$out/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
step "go build kubectl" go build -trimpath -ldflags "$ldflags" -o "$out/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl
mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
mv "$out/kubectl.tmp" "$out/kubectl"
"$out/kube-apiserver" --version >&2
