package zkc

import (
	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// RWLock is a fair read/write lock (Curator's InterProcessReadWriteLock
// layout): readers share, writers are exclusive, and a waiting writer
// holds back later readers. Its halves are ordinary Locks owned by it.
type RWLock struct {
	c           *Client
	g           guard
	h           capi.Struct_SS_zkc_rwlock
	path        string
	read, write *Lock
}

// NewRWLock makes a read/write lock on directory path. Nothing is sent.
// opts.Sticky is not allowed; opts.ACL is the ACL of both halves' nodes.
func (c *Client) NewRWLock(path string, opts *LockOptions) (*RWLock, error) {
	var o LockOptions
	if opts != nil {
		o = *opts
	}
	if !c.g.enter() {
		return nil, closedError("rwlock open", path)
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
	if err := withACL("rwlock open", path, o.ACL, lo.SetAcl, func() error {
		return callQuick("rwlock open", path, func() int {
			if rc := capi.Zkcgo_lock_options_data(lo, o.Data); rc != 0 {
				return rc
			}
			defer capi.Zkcgo_lock_options_data_free(lo)
			return capi.Zkc_rwlock_open(&h, c.zk, path, lo)
		})
	}); err != nil {
		return nil, err
	}
	rw := &RWLock{c: c, h: capi.SwigcptrStruct_SS_zkc_rwlock(h), path: path}
	rw.g.init(c.g.scope)
	rw.read = &Lock{c: c, h: capi.Zkc_rwlock_read(rw.h), path: path, half: true}
	rw.write = &Lock{c: c, h: capi.Zkc_rwlock_write(rw.h), path: path, half: true}
	rw.read.g.init(rw.g.scope)
	rw.write.g.init(rw.g.scope)
	if !c.adopt(rw) {
		capi.Zkc_rwlock_close(rw.h)
		return nil, closedError("rwlock open", path)
	}
	return rw, nil
}

// ReadLock is the shared half.
func (rw *RWLock) ReadLock() *Lock { return rw.read }

// WriteLock is the exclusive half.
func (rw *RWLock) WriteLock() *Lock { return rw.write }

// Close cancels running acquires, gives up what is held and frees both
// halves. Calling it again is a no-op.
func (rw *RWLock) Close() error {
	rw.g.shut(func() {
		for _, l := range []*Lock{rw.read, rw.write} {
			l.g.shut(l.pump.shut)
		}
		capi.Zkc_rwlock_close(rw.h)
		rw.c.forget(rw)
	})
	return nil
}
