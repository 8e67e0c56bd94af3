#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy into a per-machine cache,
# once; later runs find the binaries and return at once.
# Prints the folder holding the binaries on its last line.
set -euo pipefail
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SECURE_DEFAULTS_CACHE:-$HOME/.cache/secure-defaults}/k8s-${K8S_VERSION}"
if [[ -x "$cache/bin/kube-apiserver" && -x "$cache/bin/etcd" ]]; then
  echo "$cache/bin"; exit 0
fi
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOMODCACHE="${GOMODCACHE:-$HOME/go/pkg/mod}" GOCACHE="${GOCACHE:-$HOME/.cache/go-build}"
work="$cache/src"
rm -rf "$work"; mkdir -p "$work/etcd" "$cache/bin"
cp "$here/control-plane-wrapper/etcd/main.go" "$work/etcd/main.go"
cp "$here/control-plane-wrapper/tools.go" "$work/tools.go"
# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local folders;
# a module depending on it must point each at its published v0.<minor>.<patch> twin. Derive the
# list from that version's own go.mod so it stays right when the version changes.
kmod="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
staging="v0.${K8S_VERSION#v1.}"
{
  echo "module secure-defaults.io/control-plane"
  echo
  echo "go $(sed -n 's/^go \(.*\)/\1/p' "$kmod")"
  echo
  echo "require k8s.io/kubernetes ${K8S_VERSION}"
  echo
  sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 '"$staging"'#p' "$kmod"
} > "$work/go.mod"
cd "$work"
go mod tidy >/dev/null 2>&1 || go get "k8s.io/kubernetes@${K8S_VERSION}"
go build -trimpath -o "$cache/bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -trimpath -o "$cache/bin/etcd" ./etcd
echo "$cache/bin"
