package zkc

import (
	"testing"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// BenchmarkCgoCall: one bare cgo call that does no I/O and takes no lock
// (the calling thread's cancel token), the floor under every call.
func BenchmarkCgoCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if capi.Zkc_cancel_bound().Swigcptr() != 0 {
			b.Fatal("a token is bound")
		}
	}
}

// BenchmarkQuickCallPath: what a non-blocking call adds around its C call
// (LockOSThread, the C call, UnlockOSThread), the C call a no-op.
func BenchmarkQuickCallPath(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if err := callQuick("bench", "", func() int { return capi.Zkc_cancel_check() }); err != nil {
			b.Fatal(err)
		}
	}
}
