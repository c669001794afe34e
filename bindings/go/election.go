package zkc

import (
	"context"
	"os"
	"sync"

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

	evOnce sync.Once
	events chan ElectionEvent
	evStop *os.File // write end: stops the event goroutine
	evDone chan struct{}
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

// Events delivers this candidate's leadership changes in order: an
// ElectedLeader when it starts to lead, a NotLeader (with the reason) when
// it stops; none for Resign or Close, whose caller knows. The first call
// starts a goroutine that reads the election's event queue (the C
// library keeps the 64 newest while nobody reads); the channel is closed
// when the election (or its client) closes.
func (e *Election) Events() <-chan ElectionEvent {
	if !e.g.enter() {
		ch := make(chan ElectionEvent)
		close(ch)
		return ch
	}
	defer e.g.mu.RUnlock()
	e.evOnce.Do(func() {
		e.events = make(chan ElectionEvent, 16)
		r, w, err := os.Pipe()
		if err != nil {
			close(e.events)
			return
		}
		e.evStop = w
		e.evDone = make(chan struct{})
		go e.pumpEvents(capi.Zkc_election_events_fd(e.h), r)
	})
	return e.events
}

func (e *Election) pumpEvents(fd int, stop *os.File) {
	defer close(e.evDone)
	defer stop.Close()
	ev := capi.NewZkc_election_event_t()
	defer capi.DeleteZkc_election_event_t(ev)
	for {
		if capi.Zkcgo_wait2(fd, int(stop.Fd()), -1) != 1 {
			return
		}
		for capi.Zkc_election_events_next(ev, e.h, 0) == 0 {
			out := ElectionEvent{Type: ElectionEventType(ev.GetXtype()), Epoch: ev.GetEpoch(),
				Reason: ElectionReason(ev.GetReason())}
			select {
			case e.events <- out:
			case <-e.g.scope.Done():
				return
			}
		}
	}
}

// stopEvents ends the event goroutine (the election is closing).
func (e *Election) stopEvents() {
	e.evOnce.Do(func() {}) // no goroutine may start from now on
	if e.evStop != nil {
		_, _ = e.evStop.Write([]byte{1})
		<-e.evDone
		e.evStop.Close()
		close(e.events)
	} else if e.events == nil {
		e.events = make(chan ElectionEvent)
		close(e.events)
	}
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
		e.stopEvents()
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
