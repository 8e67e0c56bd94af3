#!/usr/bin/env bash
# Builds helm from the Go module proxy into a per-machine cache, once; later runs return at once.
# Prints the path of the helm binary on its last line (everything else goes to stderr).
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
cache="${SECURE_DEFAULTS_CACHE:-$HOME/.cache/secure-defaults}/helm-${HELM_VERSION}"
helm="$cache/bin/helm"
if [[ -x "$helm" ]]; then echo "$helm"; exit 0; fi
mkdir -p "$cache/bin"
exec 9>"$cache/.build.lock"
flock 9
if [[ -x "$helm" ]]; then echo "$helm"; exit 0; fi
command -v go >/dev/null || { echo "ensure-helm.sh: Go is not installed; it is needed to build helm ${HELM_VERSION}" >&2; exit 1; }
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOMODCACHE="${GOMODCACHE:-$HOME/go/pkg/mod}" GOCACHE="${GOCACHE:-$HOME/.cache/go-build}"
echo "building helm ${HELM_VERSION} (first time only; minutes)" >&2
# go install writes straight into GOBIN; build into a side folder and rename so an interrupted
# build never leaves a half-written helm that later runs would trust.
GOBIN="$cache/partial" go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
mv -f "$cache/partial/helm" "$helm"
rmdir "$cache/partial" 2>/dev/null || true
echo "$helm"
