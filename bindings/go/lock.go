package zkc

import (
	"context"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Lock is a fair (FIFO), fenced, exclusive lock on ephemeral-sequential
// nodes under a directory, in Apache Curator's InterProcessMutex layout.
// One Lock is one contender: use one per goroutine that competes, or
// share it with care (one Acquire at a time).
type Lock struct {
	c    *Client
	g    guard
	h    capi.Struct_SS_zkc_lock
	path string
	half bool // a half of an RWLock, which frees it

	pump eventPump[LockEvent]
}

// LockEvent is what the holder of a lock is told.
type LockEvent int

// Lock events.
const (
	// LockSuspended: the connection was lost while held; the lock MAY be
	// lost. Stop acting on it until LockReconnected, or fence every write.
	LockSuspended LockEvent = 1
	// LockReconnected: the same session is back; still held.
	LockReconnected LockEvent = 2
	// LockLost: the session is gone; the lock is lost. Release it.
	LockLost LockEvent = 3
)

func (e LockEvent) String() string {
	switch e {
	case LockSuspended:
		return "SUSPENDED"
	case LockReconnected:
		return "RECONNECTED"
	case LockLost:
		return "LOST"
	}
	return "UNKNOWN"
}

// Events delivers what happens to this lock while it is held. The first
// call starts a goroutine that reads the lock's event queue; the channel
// is closed when the lock (or its client) closes.
func (l *Lock) Events() <-chan LockEvent {
	return l.pump.events(&l.g, func() int { return capi.Zkc_lock_events_fd(l.h) }, l.eventReader)
}

// eventReader gives the event goroutine its reader of the C queue.
func (l *Lock) eventReader() (func() (LockEvent, bool), func()) {
	ev := []int{0}
	next := func() (LockEvent, bool) {
		if capi.Zkc_lock_events_next(ev, l.h, 0) != 0 {
			return 0, false
		}
		return LockEvent(ev[0]), true
	}
	return next, nil
}

// LockOptions tune a Lock; the zero value is a plain fair lock.
type LockOptions struct {
	// Reentrant: Acquire on a held lock counts up and returns at once.
	Reentrant bool
	// Sticky keeps the lock node across Release while no other contender
	// exists, so the next Acquire costs no round trip.
	Sticky bool
	// Data is stored in the lock node (Curator puts the host there).
	Data []byte
	// ACL of the contender nodes; empty: the client's default (WithACL),
	// which the directory (a container made on first use) always gets.
	ACL []ACL
}

// Lease is what Acquire returns.
type Lease struct {
	Path      string // the lock node
	SessionID int64  // the session that owns it
	// Token is the fencing token: the node's creation zxid. Every new
	// holder of one lock path gets a larger token; pass it to external
	// systems so they refuse older holders.
	Token int64
}

// NewLock makes a lock handle on directory path (created on first use).
// Nothing is sent.
func (c *Client) NewLock(path string, opts *LockOptions) (*Lock, error) {
	var o LockOptions
	if opts != nil {
		o = *opts
	}
	if !c.g.enter() {
		return nil, closedError("lock open", path)
	}
	defer c.g.mu.RUnlock()
	lo := capi.NewZkc_lock_options_t()
	defer capi.DeleteZkc_lock_options_t(lo)
	capi.Zkc_lock_options_init(lo, uint(capi.ZKC_LOCK_OPTIONS_VERSION))
	flags := 0
	if o.Reentrant {
		flags |= capi.ZKC_LOCK_REENTRANT
	}
	if o.Sticky {
		flags |= capi.ZKC_LOCK_STICKY
	}
	lo.SetFlags(flags)
	var h uintptr
	err := withACL("lock open", path, o.ACL, lo.SetAcl, func() error {
		return callQuick("lock open", path, func() int {
			if rc := capi.Zkcgo_lock_options_data(lo, o.Data); rc != 0 {
				return rc
			}
			defer capi.Zkcgo_lock_options_data_free(lo)
			return capi.Zkc_lock_open(&h, c.zk, path, lo)
		})
	})
	if err != nil {
		return nil, err
	}
	l := &Lock{c: c, h: capi.SwigcptrStruct_SS_zkc_lock(h), path: path}
	l.g.init(c.g.scope)
	if !c.adopt(l) {
		capi.Zkc_lock_close(l.h)
		return nil, closedError("lock open", path)
	}
	return l, nil
}

func (l *Lock) acquire(ctx context.Context, timeoutMs int) (Lease, error) {
	if !l.g.enter() {
		return Lease{}, closedError("lock acquire", l.path)
	}
	defer l.g.mu.RUnlock()
	lease := capi.NewZkc_lock_lease_t()
	defer capi.DeleteZkc_lock_lease_t(lease)
	var out Lease
	err := callC(ctx, &l.g, &l.c.toks, "lock acquire", l.path, func() int {
		rc := capi.Zkc_lock_acquire(lease, l.h, timeoutMs)
		if rc == 0 {
			// the lease's strings belong to the lock: copy them now
			out = Lease{Path: lease.GetPath(), SessionID: lease.GetSession_id(), Token: lease.GetToken()}
		}
		return rc
	})
	return out, err
}

// Acquire waits until this handle holds the lock or ctx ends. A canceled
// acquire deletes its node before it returns (no contender is left
// behind). Waiting watches only the node just ahead (no herd).
func (l *Lock) Acquire(ctx context.Context) (Lease, error) {
	return l.acquire(ctx, capi.ZKC_LOCK_FOREVER)
}

// TryAcquire makes one attempt: ErrWouldBlock when another holds it. It
// waits for the servers until ctx's deadline, or at most 3 s when ctx has
// none (ErrTimeout).
func (l *Lock) TryAcquire(ctx context.Context) (Lease, error) {
	return l.acquire(ctx, capi.ZKC_LOCK_TRY)
}

// Release lets the lock go (the delete is pipelined: later requests of
// this client are ordered after it). ErrLost: the lock had been lost
// before the release, so the critical section was not exclusive to its
// end.
func (l *Lock) Release() error {
	if !l.g.enter() {
		return closedError("lock release", l.path)
	}
	defer l.g.mu.RUnlock()
	return callQuick("lock release", l.path, func() int { return capi.Zkc_lock_release(l.h, 0) })
}

// Valid reports whether the lock is held on a live, connected session
// (local, no round trip). Use Fence for writes that matter.
func (l *Lock) Valid() bool {
	if !l.g.enter() {
		return false
	}
	defer l.g.mu.RUnlock()
	return capi.Zkc_lock_valid(l.h) == 1
}

// Fence starts a transaction whose first op checks that this handle's lock
// node still exists: committed only while the lock is held, however late
// the holder learns of a loss. Results of the added ops start at index 1.
func (l *Lock) Fence() *Txn {
	t := &Txn{c: l.c, what: "fenced transaction"}
	t.fence = func() (capi.Struct_SS_zkc_multi, error) {
		if !l.g.enter() {
			return nil, closedError("lock fence", l.path)
		}
		defer l.g.mu.RUnlock()
		var h uintptr
		err := callQuick("lock fence", l.path, func() int { return capi.Zkc_lock_fence(&h, l.h) })
		if err != nil {
			return nil, err
		}
		return capi.SwigcptrStruct_SS_zkc_multi(h), nil
	}
	return t
}

// Path is the lock directory.
func (l *Lock) Path() string { return l.path }

// Close cancels a running Acquire, gives the lock up if held and frees
// the handle. Calling it again is a no-op.
func (l *Lock) Close() error {
	if l.half {
		return nil // its RWLock closes it
	}
	l.g.shut(func() {
		l.pump.shut()
		capi.Zkc_lock_close(l.h)
		l.c.forget(l)
	})
	return nil
}
