#!/usr/bin/env bash
# Builds kube-apiserver, etcd and kubectl from the Go module proxy into a per-machine cache,
# once; later runs find the binaries and return at once. Needs only Go and the module proxy.
# Prints the folder holding the binaries on its last line (everything else goes to stderr).
set -euo pipefail
K8S_VERSION="${K8S_VERSION:-v1.37.2}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SECURE_DEFAULTS_CACHE:-$HOME/.cache/secure-defaults}/k8s-${K8S_VERSION}"
binaries=(kube-apiserver etcd kubectl)
# Bump when the way the binaries are built changes, so caches from an older recipe are rebuilt.
recipe="2 (version ldflags)"

all_built() {
  local b
  [[ "$(cat "$cache/bin/.recipe" 2>/dev/null)" == "$recipe" ]] || return 1
  for b in "${binaries[@]}"; do [[ -x "$cache/bin/$b" ]] || return 1; done
}
if all_built; then echo "$cache/bin"; exit 0; fi

mkdir -p "$cache/bin"
# Two test runs starting together must not build into the same folder at once.
exec 9>"$cache/.build.lock"
flock 9
if all_built; then echo "$cache/bin"; exit 0; fi

command -v go >/dev/null || { echo "build-control-plane.sh: Go is not installed; it is needed to build kube-apiserver and etcd" >&2; exit 1; }
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOMODCACHE="${GOMODCACHE:-$HOME/go/pkg/mod}" GOCACHE="${GOCACHE:-$HOME/.cache/go-build}"
work="$cache/src"
rm -rf "$work"; mkdir -p "$work/etcd"
cp "$here/control-plane-wrapper/etcd/main.go" "$work/etcd/main.go"
cp "$here/control-plane-wrapper/tools.go" "$work/tools.go"
# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local folders;
# a module depending on it must point each at its published v0.<minor>.<patch> twin. Derive the
# list from that version's own go.mod so it stays right when the version changes.
kmod="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[[ -f "$kmod" ]] || { echo "build-control-plane.sh: could not download k8s.io/kubernetes@${K8S_VERSION}" >&2; exit 1; }
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
# tidy resolves etcd's server module (imported by etcd/main.go) at the version kubernetes pins.
go mod tidy >&2
# A plain `go build` reports version v0.0.0-master to clients, and version checks (helm's
# kubeVersion, kubectl's skew warning) then fail; stamp the release the way Kubernetes' own build does.
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=${K8S_VERSION} -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor}"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
if [[ "$(cat "$cache/bin/.recipe" 2>/dev/null)" != "$recipe" ]]; then
  rm -f "$cache/bin/kube-apiserver" "$cache/bin/etcd" "$cache/bin/kubectl"
fi
build() { # name, package: build beside the target, then rename, so a killed build leaves no half binary
  [[ -x "$cache/bin/$1" ]] && return 0
  echo "building $1 (first time only; minutes)" >&2
  go build -trimpath -ldflags "$ldflags" -o "$cache/bin/.$1.partial" "$2"
  mv -f "$cache/bin/.$1.partial" "$cache/bin/$1"
}
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build etcd ./etcd
build kubectl k8s.io/kubernetes/cmd/kubectl
echo "$recipe" > "$cache/bin/.recipe"
echo "$cache/bin"
