package zkc

import (
	"context"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Cache is a watch-driven local copy of a node and its subtree: reads
// cost no round trip; changes arrive on Events.
type Cache struct {
	c      *Client
	g      guard
	h      capi.Struct_SS_zkc_cache
	id     uintptr
	path   string
	events chan CacheEvent
}

// CacheOptions tune a Cache; the zero value caches the whole subtree with
// data.
type CacheOptions struct {
	// Depth: 0 the whole subtree; n > 0 the root and n levels below it.
	Depth int
	// NodeOnly caches the root alone (Depth is then ignored).
	NodeOnly bool
	// NoData caches stats only.
	NoData bool
	// EventBuffer is the capacity of Events (default 256). While it is
	// full the client's other events wait too: read it, or set NoEvents.
	EventBuffer int
	// NoEvents: no change events at all (reads only).
	NoEvents bool
}

// CacheEventType says what changed.
type CacheEventType int

// Cache event types (see docs/cache.md).
const (
	CacheAdded       CacheEventType = 1
	CacheUpdated     CacheEventType = 2
	CacheRemoved     CacheEventType = 3
	CacheInitialized CacheEventType = 4
	CacheSuspended   CacheEventType = 5
	CacheResynced    CacheEventType = 6
	CacheOverflow    CacheEventType = 7
	CacheReset       CacheEventType = 8 // the ensemble lost its data: every node is removed and reloaded
)

func (t CacheEventType) String() string {
	switch t {
	case CacheAdded:
		return "ADDED"
	case CacheUpdated:
		return "UPDATED"
	case CacheRemoved:
		return "REMOVED"
	case CacheInitialized:
		return "INITIALIZED"
	case CacheSuspended:
		return "SUSPENDED"
	case CacheResynced:
		return "RESYNCED"
	case CacheOverflow:
		return "OVERFLOW"
	case CacheReset:
		return "RESET"
	}
	return "UNKNOWN"
}

// CacheEvent is one change of the cache. Read the node's data from the
// cache (Get) when needed: it is current as of the event or later.
type CacheEvent struct {
	Type CacheEventType
	Path string // node events and OVERFLOW
}

// NewCache starts caching path (which need not exist yet) and returns at
// once; WaitInitialized waits for the first load.
func (c *Client) NewCache(path string, opts *CacheOptions) (*Cache, error) {
	var o CacheOptions
	if opts != nil {
		o = *opts
	}
	if !c.g.enter() {
		return nil, closedError("cache open", path)
	}
	defer c.g.mu.RUnlock()
	co := capi.NewZkc_cache_options_t()
	defer capi.DeleteZkc_cache_options_t(co)
	capi.Zkc_cache_options_init(co, uint(capi.ZKC_CACHE_OPTIONS_VERSION))
	switch {
	case o.NodeOnly:
		co.SetDepth(0)
	case o.Depth > 0:
		co.SetDepth(o.Depth)
	}
	if o.NoData {
		co.SetData(0)
	}
	if o.NoEvents {
		co.SetEvents(0)
	}
	buf := o.EventBuffer
	if buf <= 0 {
		buf = 256
	}
	k := &Cache{c: c, path: path, events: make(chan CacheEvent, buf), id: c.nextID.Add(1)}
	k.g.init(c.g.scope)
	co.SetEvent_payload(k.id)
	c.mu.Lock()
	c.routes[k.id] = k.deliver
	c.mu.Unlock()
	var h uintptr
	if err := callQuick("cache open", path, func() int { return capi.Zkc_cache_open(&h, c.zk, path, co) }); err != nil {
		c.mu.Lock()
		delete(c.routes, k.id)
		c.mu.Unlock()
		return nil, err
	}
	k.h = capi.SwigcptrStruct_SS_zkc_cache(h)
	if !c.adopt(k) {
		capi.Zkc_cache_close(k.h)
		return nil, closedError("cache open", path)
	}
	return k, nil
}

// deliver runs on the client's event goroutine.
func (k *Cache) deliver(ev Event) {
	ce := CacheEvent{Type: CacheEventType(int(ev.Type) - cacheEventFirst + 1), Path: ev.Path}
	k.g.mu.RLock()
	defer k.g.mu.RUnlock()
	if k.g.closed {
		return
	}
	select {
	case k.events <- ce:
	case <-k.g.scope.Done():
	}
}

// Events delivers the cache's changes in order; closed by Close (and by
// the client's Close).
func (k *Cache) Events() <-chan CacheEvent { return k.events }

// WaitInitialized waits for the first complete load.
func (k *Cache) WaitInitialized(ctx context.Context) error {
	if !k.g.enter() {
		return closedError("cache wait", k.path)
	}
	defer k.g.mu.RUnlock()
	return callC(ctx, &k.g, &k.c.toks, "cache wait", k.path, func() int {
		return capi.Zkc_cache_wait_initialized(k.h, -1)
	})
}

// WaitZxid waits until the cache reflects every change up to zxid (the
// Mzxid or Czxid of one's own write), for read-your-writes.
func (k *Cache) WaitZxid(ctx context.Context, zxid int64) error {
	if !k.g.enter() {
		return closedError("cache wait", k.path)
	}
	defer k.g.mu.RUnlock()
	return callC(ctx, &k.g, &k.c.toks, "cache wait", k.path, func() int {
		return capi.Zkc_cache_wait_zxid(k.h, zxid, -1)
	})
}

// Get reads a cached node (no round trip). Expected: ErrNoNode.
func (k *Cache) Get(path string) ([]byte, Stat, error) {
	if !k.g.enter() {
		return nil, Stat{}, closedError("cache get", path)
	}
	defer k.g.mu.RUnlock()
	var out string
	st := make([]int64, statFields)
	if err := callQuick("cache get", path, func() int { return capi.Zkc_cache_get(&out, st, k.h, path) }); err != nil {
		return nil, Stat{}, err
	}
	return []byte(out), statFrom(st), nil
}

// Children lists a cached node's children, sorted.
func (k *Cache) Children(path string) ([]string, error) {
	if !k.g.enter() {
		return nil, closedError("cache children", path)
	}
	defer k.g.mu.RUnlock()
	var h uintptr
	if err := callQuick("cache children", path, func() int { return capi.Zkc_cache_children(&h, k.h, path) }); err != nil {
		return nil, err
	}
	return takeStrings(h), nil
}

// Len is the number of cached nodes.
func (k *Cache) Len() int {
	if !k.g.enter() {
		return 0
	}
	defer k.g.mu.RUnlock()
	return int(capi.Zkc_cache_count(k.h))
}

// Close stops the cache and closes Events. Calling it again is a no-op.
func (k *Cache) Close() error {
	k.g.shut(func() {
		capi.Zkc_cache_close(k.h)
		k.c.mu.Lock()
		delete(k.c.routes, k.id)
		k.c.mu.Unlock()
		close(k.events)
		k.c.forget(k)
	})
	return nil
}
