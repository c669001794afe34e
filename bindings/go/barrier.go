package zkc

import (
	"context"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// SetBarrier raises the barrier at path (creates its node); raising a
// raised barrier is no error.
func (c *Client) SetBarrier(ctx context.Context, path string) error {
	return c.do(ctx, "barrier set", path, func() int { return capi.Zkc_barrier_set(c.zk, path) })
}

// RemoveBarrier lowers the barrier at path; waiters go on.
func (c *Client) RemoveBarrier(ctx context.Context, path string) error {
	return c.do(ctx, "barrier remove", path, func() int { return capi.Zkc_barrier_remove(c.zk, path) })
}

// WaitBarrier waits until the barrier at path is lowered (or was never
// raised), or ctx ends.
func (c *Client) WaitBarrier(ctx context.Context, path string) error {
	return c.do(ctx, "barrier wait", path, func() int { return capi.Zkc_barrier_wait(c.zk, path, -1) })
}

// DoubleBarrier lets count participants start and finish a computation
// together (Curator's DistributedDoubleBarrier layout).
type DoubleBarrier struct {
	c    *Client
	g    guard
	h    capi.Struct_SS_zkc_double_barrier
	path string
}

// NewDoubleBarrier makes a participant of the double barrier at path for
// count members; id names its node ("" for a random one).
func (c *Client) NewDoubleBarrier(path string, count int, id string) (*DoubleBarrier, error) {
	if !c.g.enter() {
		return nil, closedError("double barrier open", path)
	}
	defer c.g.mu.RUnlock()
	var h uintptr
	if err := callQuick("double barrier open", path, func() int {
		return capi.Zkcgo_double_barrier_open(&h, c.zk, path, count, id)
	}); err != nil {
		return nil, err
	}
	b := &DoubleBarrier{c: c, h: capi.SwigcptrStruct_SS_zkc_double_barrier(h), path: path}
	b.g.init(c.g.scope)
	if !c.adopt(b) {
		capi.Zkc_double_barrier_close(b.h)
		return nil, closedError("double barrier open", path)
	}
	return b, nil
}

func (b *DoubleBarrier) do(ctx context.Context, op string, f func() int) error {
	if !b.g.enter() {
		return closedError(op, b.path)
	}
	defer b.g.mu.RUnlock()
	return callC(ctx, &b.g, &b.c.toks, op, b.path, f)
}

// Enter waits until count participants are present. A canceled or failed
// enter deletes this participant's node, so it is never counted.
func (b *DoubleBarrier) Enter(ctx context.Context) error {
	return b.do(ctx, "double barrier enter", func() int { return capi.Zkc_double_barrier_enter(b.h, -1) })
}

// Leave waits until every participant has left.
func (b *DoubleBarrier) Leave(ctx context.Context) error {
	return b.do(ctx, "double barrier leave", func() int { return capi.Zkc_double_barrier_leave(b.h, -1) })
}

// Close deletes the participant's node if it still exists and frees the
// handle.
func (b *DoubleBarrier) Close() error {
	b.g.shut(func() {
		capi.Zkc_double_barrier_close(b.h)
		b.c.forget(b)
	})
	return nil
}
