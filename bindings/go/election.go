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

	pump eventPump[ElectionEvent]
}

// ElectionEventType says whether leadership began or ended.
type ElectionEventType int

// Leadership events.
const (
	// ElectedLeader: this candidate leads from now (Epoch is its token).
	ElectedLeader ElectionEventType = 1
	// NotLeader: this candidate no longer leads (Reason says why).
	NotLeader ElectionEventType = 2
)

func (t ElectionEventType) String() string {
	switch t {
	case ElectedLeader:
		return "LEADER"
	case NotLeader:
		return "NOT_LEADER"
	}
	return "UNKNOWN"
}

// ElectionReason says why leadership ended.
type ElectionReason int

// Why a NotLeader event came (0 with ElectedLeader).
const (
	// ReasonSuspended: the connection was lost (the default step-down
	// policy); leadership comes back at reconnection if the node is
	// still first.
	ReasonSuspended ElectionReason = 1
	// ReasonLost: the session was lost; the candidate joins again by
	// itself on the new session.
	ReasonLost ElectionReason = 2
	// ReasonNodeGone: its node was deleted by someone, or is no longer
	// owned by this session.
	ReasonNodeGone ElectionReason = 3
)

func (r ElectionReason) String() string {
	switch r {
	case 0:
		return ""
	case ReasonSuspended:
		return "SUSPENDED"
	case ReasonLost:
		return "LOST"
	case ReasonNodeGone:
		return "NODE_GONE"
	}
	return "UNKNOWN"
}

// ElectionEvent is one change of this candidate's leadership. Epoch is
// the leader node's creation zxid: it grows with every new leadership and
// is the fencing token for writes to outside systems.
type ElectionEvent struct {
	Type   ElectionEventType
	Epoch  int64
	Reason ElectionReason
}

// ElectionOptions tune a candidate.
type ElectionOptions struct {
	// StepDownOnLost keeps leadership through SUSPENDED and gives it up
	// only at LOST (fewer hand-overs on flaky links, a shorter safety
	// margin). The default steps down at SUSPENDED.
	StepDownOnLost bool
	// ACL of the candidate's node; empty: the client's default
	// (WithACL), which the directory (a container) always gets.
	ACL []ACL
}

// NewElection makes a candidate with participant id (stored in its node)
// for the election at path. It does not join yet.
func (c *Client) NewElection(path, id string, opts *ElectionOptions) (*Election, error) {
	step := capi.ZKC_ELECTION_STEP_DOWN_SUSPENDED
	var acl []ACL
	if opts != nil {
		if opts.StepDownOnLost {
			step = capi.ZKC_ELECTION_STEP_DOWN_LOST
		}
		acl = opts.ACL
	}
	if !c.g.enter() {
		return nil, closedError("election open", path)
	}
	defer c.g.mu.RUnlock()
	var h uintptr
	cacl := capi.Zkc_acl_list_t(capi.SwigcptrZkc_acl_list_t(0))
	if err := withACL("election open", path, acl, func(l capi.Zkc_acl_list_t) { cacl = l }, func() error {
		return callQuick("election open", path, func() int {
			return capi.Zkcgo_election_open(&h, c.zk, path, id, step, cacl)
		})
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

// Events delivers this candidate's leadership changes in order: an
// ElectedLeader when it starts to lead, a NotLeader (with the reason) when
// it stops; none for Resign or Close, whose caller knows. The first call
// starts a goroutine that reads the election's event queue (the C
// library keeps the 64 newest while nobody reads); the channel is closed
// when the election (or its client) closes.
func (e *Election) Events() <-chan ElectionEvent {
	return e.pump.events(&e.g, func() int { return capi.Zkc_election_events_fd(e.h) }, e.eventReader)
}

// eventReader gives the event goroutine its reader of the C queue.
func (e *Election) eventReader() (func() (ElectionEvent, bool), func()) {
	ev := capi.NewZkc_election_event_t()
	next := func() (ElectionEvent, bool) {
		if capi.Zkc_election_events_next(ev, e.h, 0) != 0 {
			return ElectionEvent{}, false
		}
		return ElectionEvent{Type: ElectionEventType(ev.GetXtype()), Epoch: ev.GetEpoch(),
			Reason: ElectionReason(ev.GetReason())}, true
	}
	return next, func() { capi.DeleteZkc_election_event_t(ev) }
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
		e.pump.shut()
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
