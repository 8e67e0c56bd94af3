#!/usr/bin/env bash
# Builds test/chart/promql-inspect (Prometheus's own PromQL parser, from the Go module proxy) into
# a per-machine cache, once per version of its source; later runs return at once.
# Prints the path of the binary on its last line (everything else goes to stderr).
set -euo pipefail
source_dir="$(cd "$(dirname "$0")/promql-inspect" && pwd)"
key="$(cat "$source_dir/main.go" "$source_dir/go.mod" "$source_dir/go.sum" | sha256sum | cut -c1-16)"
cache="${SECURE_DEFAULTS_CACHE:-$HOME/.cache/secure-defaults}/promql-inspect-${key}"
binary="$cache/promql-inspect"
if [[ -x "$binary" ]]; then echo "$binary"; exit 0; fi
mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9
if [[ -x "$binary" ]]; then echo "$binary"; exit 0; fi
command -v go >/dev/null || { echo "ensure-promql-inspect.sh: Go is not installed; it is needed to build the PromQL checker" >&2; exit 1; }
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOMODCACHE="${GOMODCACHE:-$HOME/go/pkg/mod}" GOCACHE="${GOCACHE:-$HOME/.cache/go-build}"
echo "building promql-inspect (first time only; a minute or two)" >&2
(cd "$source_dir" && go build -o "$cache/promql-inspect.partial" .)
mv -f "$cache/promql-inspect.partial" "$binary"
echo "$binary"
