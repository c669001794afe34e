package zkc

import (
	"context"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Queue is a distributed FIFO queue with priorities (kazoo LockingQueue's
// layout): a take usually costs one round trip.
type Queue struct {
	c    *Client
	g    guard
	h    capi.Struct_SS_zkc_queue
	path string
}

// QueueOptions tune OpenQueue; the zero value opens an existing queue
// with the default bucket size.
type QueueOptions struct {
	Create     bool // create the queue (with parents) if missing
	BucketSize int  // items per entry directory; 0: the default (10000)
	// ACL of the nodes the queue makes below its root (directories,
	// items, taken markers); empty: the client's default (WithACL), which
	// the root and its parents always get when Create makes them.
	ACL []ACL
}

// Priorities: lower goes first; FIFO within one priority.
const (
	PriorityDefault = 100
	PriorityMax     = 999
)

// TakeMode chooses between at-least-once and exactly-once consumption.
type TakeMode int

const (
	// TakeAck (at-least-once): the item stays, marked taken by this
	// session, until Ack; if the session dies first it is taken again.
	TakeAck TakeMode = 0
	// TakeDelete (at most once): the item is deleted as it is taken.
	TakeDelete TakeMode = 1
)

// Item is a taken or peeked queue item.
type Item struct {
	Name      string // "<bucket>/<entry>"
	Data      []byte
	Priority  int
	SessionID int64 // the session holding its taken marker (TakeAck)
}

// OpenQueue opens the queue at path (one round trip to check it exists,
// or to create it with Create).
func (c *Client) OpenQueue(ctx context.Context, path string, opts *QueueOptions) (*Queue, error) {
	if !c.g.enter() {
		return nil, closedError("queue open", path)
	}
	defer c.g.mu.RUnlock()
	qo := capi.NewZkc_queue_options_t()
	defer capi.DeleteZkc_queue_options_t(qo)
	capi.Zkc_queue_options_init(qo, uint(capi.ZKC_QUEUE_OPTIONS_VERSION))
	if opts != nil {
		if opts.Create {
			qo.SetFlags(capi.ZKC_QUEUE_CREATE)
		}
		if opts.BucketSize > 0 {
			qo.SetBucket_size(opts.BucketSize)
		}
	}
	var acl []ACL
	if opts != nil {
		acl = opts.ACL
	}
	var h uintptr
	if err := withACL("queue open", path, acl, qo.SetAcl, func() error {
		return callC(ctx, &c.g, &c.toks, "queue open", path, func() int {
			return capi.Zkc_queue_open(&h, c.zk, path, qo)
		})
	}); err != nil {
		return nil, err
	}
	q := &Queue{c: c, h: capi.SwigcptrStruct_SS_zkc_queue(h), path: path}
	q.g.init(c.g.scope)
	if !c.adopt(q) {
		capi.Zkc_queue_close(q.h)
		return nil, closedError("queue open", path)
	}
	return q, nil
}

func (q *Queue) do(ctx context.Context, op string, f func() int) error {
	if !q.g.enter() {
		return closedError(op, q.path)
	}
	defer q.g.mu.RUnlock()
	return callC(ctx, &q.g, &q.c.toks, op, q.path, f)
}

// Put adds an item at priority (0..999) and returns its name. A put whose
// reply was lost is not repeated: ErrUnknownOutcome.
func (q *Queue) Put(ctx context.Context, data []byte, priority int) (string, error) {
	var name string
	err := q.do(ctx, "queue put", func() int { return capi.Zkc_queue_put(&name, q.h, data, priority) })
	return name, err
}

func (q *Queue) take(ctx context.Context, mode TakeMode, timeoutMs int) (*Item, error) {
	var h uintptr
	err := q.do(ctx, "queue take", func() int { return capi.Zkc_queue_take(&h, q.h, int(mode), timeoutMs) })
	if h == 0 {
		return nil, err
	}
	it := takeItem(h)
	return it, err // ErrUnknownOutcome (TakeDelete) comes with its item
}

func takeItem(h uintptr) *Item {
	ci := capi.SwigcptrZkc_queue_item_t(h)
	var data string
	capi.Zkcgo_item_data(&data, ci)
	it := &Item{Name: ci.GetName(), Data: []byte(data), Priority: ci.GetPriority(), SessionID: ci.GetSession_id()}
	capi.Zkc_queue_item_free(ci)
	return it
}

// Take waits for the first item (priority order, then FIFO) until ctx
// ends. A canceled take stops between rounds: nothing is left taken.
func (q *Queue) Take(ctx context.Context, mode TakeMode) (*Item, error) {
	return q.take(ctx, mode, -1)
}

// TryTake makes one attempt: ErrWouldBlock when the queue is empty.
func (q *Queue) TryTake(ctx context.Context, mode TakeMode) (*Item, error) {
	return q.take(ctx, mode, 0)
}

// Ack consumes an item taken with TakeAck. ErrLost: the session that took
// it is gone; it is (or will be) delivered again.
func (q *Queue) Ack(ctx context.Context, it *Item) error {
	return q.do(ctx, "queue ack", func() int { return capi.Zkcgo_queue_ack(q.h, it.Name, it.SessionID, 0) })
}

// Return gives an item taken with TakeAck back to the queue.
func (q *Queue) Return(ctx context.Context, it *Item) error {
	return q.do(ctx, "queue release", func() int { return capi.Zkcgo_queue_ack(q.h, it.Name, it.SessionID, 1) })
}

// Peek returns the first item not taken, without taking it
// (ErrWouldBlock when empty).
func (q *Queue) Peek(ctx context.Context) (*Item, error) {
	var h uintptr
	err := q.do(ctx, "queue peek", func() int { return capi.Zkc_queue_peek(&h, q.h) })
	if err != nil || h == 0 {
		return nil, err
	}
	return takeItem(h), nil
}

// Size counts the items (taken ones included) and the taken ones.
func (q *Queue) Size(ctx context.Context) (n, taken int, err error) {
	a, b := []uint64{0}, []uint64{0}
	err = q.do(ctx, "queue size", func() int { return capi.Zkc_queue_size(a, b, q.h) })
	return int(a[0]), int(b[0]), err
}

// Close frees the handle; items taken and not acked stay taken until the
// session ends. Calling it again is a no-op.
func (q *Queue) Close() error {
	q.g.shut(func() {
		capi.Zkc_queue_close(q.h)
		q.c.forget(q)
	})
	return nil
}
