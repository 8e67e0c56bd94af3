//go:build tools

// Keeps k8s.io/kubernetes/cmd/kube-apiserver in this module's graph so that
// `go build k8s.io/kubernetes/cmd/kube-apiserver` resolves from here.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
