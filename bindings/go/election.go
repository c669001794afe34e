package zkc

import (
	"context"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Election is a candidate in a leader election (Curator's LeaderLatch
// layout): the lowest live candidate leads; each watches only its
// predecessor. Its Epoch (the leader node's creation zxid) grows with
// every new leadership and serves as a fencing token.
type Election struct {
	c    *Client
	g    guard
	h    capi.Struct_SS_zkc_election
	path string
}

// ElectionOptions tune a candidate.
type ElectionOptions struct {
	// StepDownOnLost keeps leadership through SUSPENDED and gives it up
	// only at LOST (fewer hand-overs on flaky links, a shorter safety
	// margin). The default steps down at SUSPENDED.
	StepDownOnLost bool
}

// NewElection makes a candidate with participant id (stored in its node)
// for the election at path. It does not join yet.
func (c *Client) NewElection(path, id string, opts *ElectionOptions) (*Election, error) {
	step := capi.ZKC_ELECTION_STEP_DOWN_SUSPENDED
	if opts != nil && opts.StepDownOnLost {
		step = capi.ZKC_ELECTION_STEP_DOWN_LOST
	}
	if !c.g.enter() {
		return nil, closedError("election open", path)
	}
	defer c.g.mu.RUnlock()
	var h uintptr
	if err := callQuick("election open", path, func() int {
		return capi.Zkcgo_election_open(&h, c.zk, path, id, step)
	}); err != nil {
		return nil, err
	}
	e := &Election{c: c, h: capi.SwigcptrStruct_SS_zkc_election(h), path: path}
	e.g.init(c.g.scope)
	if !c.adopt(e) {
		capi.Zkc_election_close(e.h)
		return nil, closedError("election open", path)
	}
	return e, nil
}

func (e *Election) do(ctx context.Context, op string, f func() int) error {
	if !e.g.enter() {
		return closedError(op, e.path)
	}
	defer e.g.mu.RUnlock()
	return callC(ctx, &e.g, &e.c.toks, op, e.path, f)
}

// Join enters the election (returns without waiting for the reply); after
// a lost session the candidate joins again by itself.
func (e *Election) Join() error {
	if !e.g.enter() {
		return closedError("election join", e.path)
	}
	defer e.g.mu.RUnlock()
	return callQuick("election join", e.path, func() int { return capi.Zkc_election_join(e.h) })
}

// Await waits until this candidate leads and returns its epoch.
// ErrCanceled also when not joined, or resigned meanwhile.
func (e *Election) Await(ctx context.Context) (int64, error) {
	epoch := []int64{0}
	err := e.do(ctx, "election await", func() int { return capi.Zkc_election_await(epoch, e.h, -1) })
	return epoch[0], err
}

// IsLeader reports whether this candidate leads now, with the epoch
// (local, no round trip).
func (e *Election) IsLeader() (bool, int64) {
	if !e.g.enter() {
		return false, 0
	}
	defer e.g.mu.RUnlock()
	epoch := []int64{0}
	return capi.Zkc_election_is_leader(epoch, e.h) == 1, epoch[0]
}

// Resign leaves the election (waiting for its node's delete); the
// candidate may Join again later, at the back of the queue.
func (e *Election) Resign(ctx context.Context) error {
	return e.do(ctx, "election resign", func() int { return capi.Zkc_election_resign(e.h) })
}

// Close resigns (the delete goes in the background) and frees the
// candidate. Calling it again is a no-op.
func (e *Election) Close() error {
	e.g.shut(func() {
		capi.Zkc_election_close(e.h)
		e.c.forget(e)
	})
	return nil
}

// Leader reads the current leader of the election at path: its id and
// epoch. Expected: ErrNoNode (no such election or no candidate).
func (c *Client) Leader(ctx context.Context, path string) (string, int64, error) {
	var id string
	epoch := []int64{0}
	err := c.do(ctx, "election leader", path, func() int {
		return capi.Zkc_election_leader(&id, epoch, c.zk, path)
	})
	return id, epoch[0], err
}
