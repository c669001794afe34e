package zkc

import (
	"context"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Batch pipelines independent operations: they are sent back to back on
// one session and answered together, in one round trip instead of one
// each. Unlike a Txn each op succeeds or fails on its own; the session's
// order still holds (an op sees the effects of the ops before it). Nothing
// is retried: an op whose reply was lost reports ErrConnectionLoss.
type Batch struct {
	c   *Client
	ops []batchOp
}

type batchOp struct {
	kind    int // 0 get, 1 exists, 2 children, 3 create, 4 set, 5 delete
	path    string
	data    []byte
	mode    Mode
	version int32
}

// BatchResult is one op's outcome.
type BatchResult struct {
	Err      error // nil, or this op's error (ErrNoNode, ...)
	Data     []byte
	Stat     Stat     // get, exists, children, create, set
	Path     string   // create: the created path
	Children []string // children
}

// Batch starts an empty batch on this client.
func (c *Client) Batch() *Batch { return &Batch{c: c} }

// Get adds a read of path.
func (b *Batch) Get(path string) *Batch {
	b.ops = append(b.ops, batchOp{kind: 0, path: path})
	return b
}

// Exists adds an existence check (ErrNoNode when missing).
func (b *Batch) Exists(path string) *Batch {
	b.ops = append(b.ops, batchOp{kind: 1, path: path})
	return b
}

// Children adds a child listing.
func (b *Batch) Children(path string) *Batch {
	b.ops = append(b.ops, batchOp{kind: 2, path: path})
	return b
}

// Create adds a create (no parents are made in a batch).
func (b *Batch) Create(path string, data []byte, mode Mode) *Batch {
	b.ops = append(b.ops, batchOp{kind: 3, path: path, data: data, mode: mode})
	return b
}

// Set adds a versioned set.
func (b *Batch) Set(path string, data []byte, version int32) *Batch {
	b.ops = append(b.ops, batchOp{kind: 4, path: path, data: data, version: version})
	return b
}

// Delete adds a versioned delete.
func (b *Batch) Delete(path string, version int32) *Batch {
	b.ops = append(b.ops, batchOp{kind: 5, path: path, version: version})
	return b
}

// Run sends the batch and waits for every reply, until ctx's deadline at
// the latest. The error is about the batch as a whole (no connection,
// closed client, bad input); each op's own outcome is in its result (an
// op not answered by ctx's deadline: ErrTimeout, wrapping
// context.DeadlineExceeded).
func (b *Batch) Run(ctx context.Context) ([]BatchResult, error) {
	c := b.c
	if !c.g.enter() {
		return nil, closedError("batch", "")
	}
	defer c.g.mu.RUnlock()
	var h uintptr
	if err := callQuick("batch", "", func() int { return capi.Zkc_batch_new(&h) }); err != nil {
		return nil, err
	}
	cb := capi.SwigcptrStruct_SS_zkc_batch(h)
	defer capi.Zkc_batch_free(cb)
	co := capi.NewZkc_create_options_t()
	defer capi.DeleteZkc_create_options_t(co)
	capi.Zkc_create_options_init(co, uint(capi.ZKC_CREATE_OPTIONS_VERSION))
	for _, op := range b.ops {
		var idx int
		err := callQuick("batch", op.path, func() int {
			switch op.kind {
			case 0:
				idx = capi.Zkc_batch_get(cb, op.path, 0, 0)
			case 1:
				idx = capi.Zkc_batch_exists(cb, op.path, 0, 0)
			case 2:
				idx = capi.Zkc_batch_children(cb, op.path, 0, 0)
			case 3:
				co.SetMode(int(op.mode))
				idx = capi.Zkc_batch_create(cb, op.path, op.data, co)
			case 4:
				idx = capi.Zkc_batch_set(cb, op.path, op.data, int(op.version))
			default:
				idx = capi.Zkc_batch_delete(cb, op.path, int(op.version))
			}
			if idx < 0 {
				return idx
			}
			return 0
		})
		if err != nil {
			return nil, err
		}
	}
	if err := callC(ctx, &c.g, &c.toks, "batch", "", func() int { return capi.Zkc_batch_run(c.zk, cb) }); err != nil {
		return nil, err
	}
	res := make([]BatchResult, len(b.ops))
	st := make([]int64, statFields)
	for i, op := range b.ops {
		r := &res[i]
		if code := capi.Zkc_batch_code(cb, int64(i)); code != 0 {
			r.Err = &Error{Code: Code(code), Op: "batch", Path: op.path}
			if Code(code) == CodeTimeout { // not answered by ctx's deadline
				r.Err.(*Error).cause = ctxCause(ctx)
			}
			continue
		}
		if op.kind != 5 && capi.Zkc_batch_stat(st, cb, int64(i)) == 0 {
			r.Stat = statFrom(st)
		}
		switch op.kind {
		case 0:
			var d string
			capi.Zkcgo_batch_data(&d, cb, int64(i))
			r.Data = []byte(d)
		case 2:
			l := capi.Zkc_batch_children_of(cb, int64(i))
			n := capi.Zkcgo_strings_count(l)
			r.Children = make([]string, n)
			for j := range r.Children {
				r.Children[j] = capi.Zkcgo_strings_item(l, int64(j))
			}
		case 3:
			r.Path = capi.Zkc_batch_path(cb, int64(i))
		}
	}
	return res, nil
}
