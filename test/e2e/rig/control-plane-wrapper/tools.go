//go:build tools

// Keeps the commands build-control-plane.sh builds in this module's graph so that
// `go build k8s.io/kubernetes/cmd/...` resolves from here.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
