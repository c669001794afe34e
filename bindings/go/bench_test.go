package zkc_test

import (
	"context"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

// The binding's own cost per call, without a round trip:
//
//	go test -run '^$' -bench . -benchtime 2s
//
// BenchmarkLocalCall: one cgo call behind the handle's guard (State).
// BenchmarkBlockingCallPath: everything a blocking call adds (a cancel
// token, two context.AfterFunc, LockOSThread, bind and unbind) around a C
// wait that returns at once (a cache wait for zxid 0).
// BenchmarkBlockingCallPathBackground: the same with context.Background.
// BenchmarkCgoCall, BenchmarkQuickCallPath (bench_internal_test.go): a
// bare cgo call that does no I/O, and one with the OS-thread lock and
// error copy of a non-blocking call.
// BenchmarkLockCycle: an uncontended Acquire + Release, three requests.
// BenchmarkCacheGet: a cached 100-byte read, copied into Go memory.
// BenchmarkGet: a get, one round trip.

func benchClient(b *testing.B) *zkc.Client {
	c, err := zkc.Open(context.Background(), testURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func BenchmarkLocalCall(b *testing.B) {
	c := benchClient(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if c.State() != zkc.StateConnected {
			b.Fatal("not connected")
		}
	}
}

func benchCache(b *testing.B) (*zkc.Client, *zkc.Cache, string) {
	c := benchClient(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := uniquePath(b, "bench")
	if _, _, err := c.Create(ctx, p, make([]byte, 100), nil); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.DeleteAll(context.Background(), p) })
	k, err := c.NewCache(p, &zkc.CacheOptions{NoEvents: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := k.WaitInitialized(ctx); err != nil {
		b.Fatal(err)
	}
	return c, k, p
}

func BenchmarkBlockingCallPath(b *testing.B) {
	_, k, _ := benchCache(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := k.WaitZxid(ctx, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBlockingCallPathBackground: the same with a context that
// never ends (context.Background), as the peers' programs call.
func BenchmarkBlockingCallPathBackground(b *testing.B) {
	_, k, _ := benchCache(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := k.WaitZxid(ctx, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCacheGet(b *testing.B) {
	_, k, p := benchCache(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := k.Get(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	c, _, p := benchCache(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := c.Get(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLockCycle: an uncontended Acquire + Release (a create, a
// listing and a pipelined delete: the peers' lock scenario).
func BenchmarkLockCycle(b *testing.B) {
	c := benchClient(b)
	p := uniquePath(b, "bench-lock")
	b.Cleanup(func() { c.DeleteAll(context.Background(), p) })
	l, err := c.NewLock(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Acquire(ctx); err != nil {
			b.Fatal(err)
		}
		if err := l.Release(); err != nil {
			b.Fatal(err)
		}
	}
}
