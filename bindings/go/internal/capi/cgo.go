// Package capi is the low-level binding of libzkc that SWIG generates from
// bindings/go/zkc_go.i (which includes the language-neutral bindings/zkc.i).
// capi.go and zkc_wrap.c are generated: do not edit them, run
// `go generate ./...` in bindings/go. Only package zkc uses this package.
package capi

// #cgo pkg-config: zkc
import "C"

//go:generate sh gen.sh
