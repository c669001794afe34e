package zkc

import (
	"context"
	"sync"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Semaphore lets at most N leases be held at once across all clients
// (Curator's InterProcessSemaphoreV2 layout).
type Semaphore struct {
	c      *Client
	g      guard
	h      capi.Struct_SS_zkc_semaphore
	path   string
	mu     sync.Mutex
	leases map[*SemaphoreLease]struct{}
}

// SemaphoreLease is one held lease.
type SemaphoreLease struct {
	s     *Semaphore
	h     capi.Struct_SS_zkc_semaphore_lease
	Path  string // the lease node
	Token int64  // its creation zxid: a fencing token
	once  sync.Once
}

// SemaphoreOptions tune a Semaphore; the zero value is the default.
type SemaphoreOptions struct {
	// ACL of the lease and admission nodes; empty: the client's default
	// (WithACL), which the directories always get.
	ACL []ACL
}

// NewSemaphore makes a semaphore handle on path allowing maxLeases
// holders. opts is optional (at most one; nil is the default).
func (c *Client) NewSemaphore(path string, maxLeases int, opts ...*SemaphoreOptions) (*Semaphore, error) {
	if len(opts) > 1 {
		return nil, &Error{Code: CodeBadArguments, Op: "semaphore open", Path: path,
			Message: "at most one SemaphoreOptions"}
	}
	var acl []ACL
	if len(opts) == 1 && opts[0] != nil {
		acl = opts[0].ACL
	}
	if !c.g.enter() {
		return nil, closedError("semaphore open", path)
	}
	defer c.g.mu.RUnlock()
	lo := capi.NewZkc_lock_options_t()
	defer capi.DeleteZkc_lock_options_t(lo)
	capi.Zkc_lock_options_init(lo, uint(capi.ZKC_LOCK_OPTIONS_VERSION))
	var h uintptr
	if err := withACL("semaphore open", path, acl, lo.SetAcl, func() error {
		return callQuick("semaphore open", path, func() int {
			return capi.Zkc_semaphore_open(&h, c.zk, path, maxLeases, lo)
		})
	}); err != nil {
		return nil, err
	}
	s := &Semaphore{c: c, h: capi.SwigcptrStruct_SS_zkc_semaphore(h), path: path,
		leases: map[*SemaphoreLease]struct{}{}}
	s.g.init(c.g.scope)
	if !c.adopt(s) {
		capi.Zkc_semaphore_close(s.h)
		return nil, closedError("semaphore open", path)
	}
	return s, nil
}

func (s *Semaphore) acquire(ctx context.Context, timeoutMs int) (*SemaphoreLease, error) {
	if !s.g.enter() {
		return nil, closedError("semaphore acquire", s.path)
	}
	defer s.g.mu.RUnlock()
	var h uintptr
	err := callC(ctx, &s.g, &s.c.toks, "semaphore acquire", s.path, func() int {
		return capi.Zkc_semaphore_acquire(&h, s.h, timeoutMs)
	})
	if err != nil {
		return nil, err
	}
	ch := capi.SwigcptrStruct_SS_zkc_semaphore_lease(h)
	l := &SemaphoreLease{s: s, h: ch, Path: capi.Zkc_semaphore_lease_path(ch), Token: capi.Zkc_semaphore_lease_token(ch)}
	s.mu.Lock()
	s.leases[l] = struct{}{}
	s.mu.Unlock()
	return l, nil
}

// Acquire waits for a lease until ctx ends; a canceled acquire deletes
// what it created.
func (s *Semaphore) Acquire(ctx context.Context) (*SemaphoreLease, error) {
	return s.acquire(ctx, capi.ZKC_LOCK_FOREVER)
}

// TryAcquire makes one attempt: ErrWouldBlock when every lease is taken.
func (s *Semaphore) TryAcquire(ctx context.Context) (*SemaphoreLease, error) {
	return s.acquire(ctx, capi.ZKC_LOCK_TRY)
}

// Release returns the lease (its node is deleted in the background).
// ErrLost: it had been lost before. Releasing twice is a no-op.
func (l *SemaphoreLease) Release() error {
	var err error
	l.once.Do(func() {
		s := l.s
		if !s.g.enter() {
			err = closedError("semaphore release", l.Path)
			return
		}
		defer s.g.mu.RUnlock()
		err = callQuick("semaphore release", l.Path, func() int { return capi.Zkc_semaphore_release(l.h, 0) })
		capi.Zkc_semaphore_lease_free(l.h)
		s.mu.Lock()
		delete(s.leases, l)
		s.mu.Unlock()
	})
	return err
}

// Valid reports whether the lease's session is live and connected.
func (l *SemaphoreLease) Valid() bool {
	s := l.s
	if !s.g.enter() {
		return false
	}
	defer s.g.mu.RUnlock()
	s.mu.Lock()
	_, held := s.leases[l]
	s.mu.Unlock()
	return held && capi.Zkc_semaphore_lease_valid(l.h) == 1
}

// Close gives up leases still held and frees the handle.
func (s *Semaphore) Close() error {
	s.g.shut(func() {
		s.mu.Lock()
		for l := range s.leases {
			l.once.Do(func() { capi.Zkc_semaphore_lease_free(l.h) })
			delete(s.leases, l)
		}
		s.mu.Unlock()
		capi.Zkc_semaphore_close(s.h)
		s.c.forget(s)
	})
	return nil
}
