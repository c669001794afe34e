package zkc

import (
	"context"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Counter is a replicated signed 64-bit counter (8 bytes big-endian,
// Curator's DistributedAtomicLong format). An Add usually costs one round
// trip; no add is lost or applied twice, and one whose outcome could not
// be learned returns ErrUnknownOutcome.
type Counter struct {
	c    *Client
	g    guard
	h    capi.Struct_SS_zkc_counter
	path string
}

// CounterOptions tune a Counter; the zero value is one node at the path.
type CounterOptions struct {
	// Shards > 1 spreads adds over that many nodes (hot counters); reads
	// sum them. CompareAndSet needs a plain counter.
	Shards int
}

// NewCounter makes a counter handle on path (a missing node reads as 0 and
// is created by the first write). Nothing is sent.
func (c *Client) NewCounter(path string, opts *CounterOptions) (*Counter, error) {
	if !c.g.enter() {
		return nil, closedError("counter open", path)
	}
	defer c.g.mu.RUnlock()
	co := capi.NewZkc_counter_options_t()
	defer capi.DeleteZkc_counter_options_t(co)
	capi.Zkc_counter_options_init(co, uint(capi.ZKC_COUNTER_OPTIONS_VERSION))
	if opts != nil {
		co.SetShards(opts.Shards)
	}
	var h uintptr
	if err := callQuick("counter open", path, func() int {
		return capi.Zkc_counter_open(&h, c.zk, path, co)
	}); err != nil {
		return nil, err
	}
	k := &Counter{c: c, h: capi.SwigcptrStruct_SS_zkc_counter(h), path: path}
	k.g.init(c.g.scope)
	if !c.adopt(k) {
		capi.Zkc_counter_close(k.h)
		return nil, closedError("counter open", path)
	}
	return k, nil
}

func (k *Counter) do(ctx context.Context, op string, f func() int) error {
	if !k.g.enter() {
		return closedError(op, k.path)
	}
	defer k.g.mu.RUnlock()
	return callC(ctx, &k.g, &k.c.toks, op, k.path, f)
}

// Get reads the current value from the servers.
func (k *Counter) Get(ctx context.Context) (int64, error) {
	var v int64
	err := k.do(ctx, "counter get", func() int { return capi.Zkc_counter_get(&v, k.h) })
	return v, err
}

// Add adds delta (may be negative) and returns the new value (sharded:
// the written shard's value). Expected: ErrUnknownOutcome, ErrTimeout,
// ErrBadArguments (overflow; nothing written).
func (k *Counter) Add(ctx context.Context, delta int64) (int64, error) {
	v := []int64{0}
	err := k.do(ctx, "counter add", func() int { return capi.Zkc_counter_add(v, k.h, delta) })
	return v[0], err
}

// CompareAndSet writes value if the counter equals expected. It returns
// false and the current value when it held another.
func (k *Counter) CompareAndSet(ctx context.Context, expected, value int64) (bool, int64, error) {
	v := []int64{0}
	err := k.do(ctx, "counter cas", func() int { return capi.Zkc_counter_cas(v, k.h, expected, value) })
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code == CodeBadVersion {
			return false, v[0], nil
		}
		return false, 0, err
	}
	return true, v[0], nil
}

// Set writes value unconditionally.
func (k *Counter) Set(ctx context.Context, value int64) error {
	return k.do(ctx, "counter set", func() int { return capi.Zkc_counter_set(k.h, value) })
}

// Close frees the handle. Calling it again is a no-op.
func (k *Counter) Close() error {
	k.g.shut(func() {
		capi.Zkc_counter_close(k.h)
		k.c.forget(k)
	})
	return nil
}
