package zkc

import (
	"context"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Txn is a transaction: operations that commit together in one ZooKeeper
// multi, or not at all. It is built in Go memory; C sees it only during
// Commit.
type Txn struct {
	c     *Client
	ops   []txnOp
	fence func() (capi.Struct_SS_zkc_multi, error) // op 0 from a recipe
	what  string
}

type txnOp struct {
	kind    int // 0 create, 1 set, 2 delete, 3 check
	path    string
	data    []byte
	mode    Mode
	version int32
}

// OpResult is one operation's outcome in a committed (or failed)
// transaction.
type OpResult struct {
	Err  error  // nil, or why this op failed the transaction
	Path string // creates: the created path
}

// Txn starts an empty transaction on this client.
func (c *Client) Txn() *Txn { return &Txn{c: c, what: "transaction"} }

// Create adds a create.
func (t *Txn) Create(path string, data []byte, mode Mode) *Txn {
	t.ops = append(t.ops, txnOp{kind: 0, path: path, data: data, mode: mode})
	return t
}

// Set adds a versioned set (AnyVersion: any).
func (t *Txn) Set(path string, data []byte, version int32) *Txn {
	t.ops = append(t.ops, txnOp{kind: 1, path: path, data: data, version: version})
	return t
}

// Delete adds a versioned delete.
func (t *Txn) Delete(path string, version int32) *Txn {
	t.ops = append(t.ops, txnOp{kind: 2, path: path, version: version})
	return t
}

// Check adds a check that path exists at version (AnyVersion: exists).
func (t *Txn) Check(path string, version int32) *Txn {
	t.ops = append(t.ops, txnOp{kind: 3, path: path, version: version})
	return t
}

var noACL = capi.SwigcptrZkc_acl_list_t(0)

// Commit sends the transaction. On an op failure the error is that op's
// (errors.Is works on it) and the results say which op failed; nothing was
// applied. A fenced transaction (Lock.Fence) has the fence as result 0.
func (t *Txn) Commit(ctx context.Context) ([]OpResult, error) {
	c := t.c
	if !c.g.enter() {
		return nil, closedError(t.what, "")
	}
	defer c.g.mu.RUnlock()
	var m capi.Struct_SS_zkc_multi
	if t.fence != nil {
		var err error
		if m, err = t.fence(); err != nil {
			return nil, err
		}
	} else {
		var h uintptr
		if err := callQuick(t.what, "", func() int { return capi.Zkc_multi_new(&h) }); err != nil {
			return nil, err
		}
		m = capi.SwigcptrStruct_SS_zkc_multi(h)
	}
	defer capi.Zkc_multi_free(m)
	for _, op := range t.ops {
		var rc int
		switch op.kind {
		case 0:
			rc = capi.Zkc_multi_create(m, op.path, op.data, int(op.mode), noACL)
		case 1:
			rc = capi.Zkc_multi_set(m, op.path, op.data, int(op.version))
		case 2:
			rc = capi.Zkc_multi_delete(m, op.path, int(op.version))
		case 3:
			rc = capi.Zkc_multi_check(m, op.path, int(op.version))
		}
		if rc != 0 {
			break // commit reports the same bad input with its message
		}
	}
	var h uintptr
	err := callC(ctx, &c.g, &c.toks, t.what, "", func() int { return capi.Zkc_multi_commit(&h, c.zk, m) })
	if h == 0 {
		return nil, err
	}
	r := capi.SwigcptrZkc_multi_results_t(h)
	n := capi.Zkcgo_multi_count(r)
	res := make([]OpResult, n)
	for i := range res {
		if code := capi.Zkcgo_multi_code(r, int64(i)); code != 0 {
			res[i].Err = &Error{Code: Code(code), Op: t.what, Path: capi.Zkcgo_multi_path(r, int64(i))}
		}
		res[i].Path = capi.Zkcgo_multi_path(r, int64(i))
	}
	capi.Zkc_multi_results_free(r)
	return res, err
}
