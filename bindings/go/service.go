package zkc

import (
	"context"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Instance is one instance of a service as it registers.
type Instance struct {
	ID       string // unique within the service: the node name
	Address  string // host name or IP it serves on
	Port     int
	Weight   int    // share of keys relative to the others; 0 means 1
	Draining bool   // registered and listed, but routed no keys
	Metadata []byte // UTF-8 text for applications
	// Replace takes over an id still held by an ended process's session.
	Replace bool
}

// Registration keeps an instance registered (an ephemeral node created
// again after every session loss) until Unregister or Close.
type Registration struct {
	c    *Client
	g    guard
	h    capi.Struct_SS_zkc_service_reg
	path string
}

// Register registers in at servicePath and waits until its node exists.
// Expected: ErrNodeExists (the id is held by another live session),
// ErrBadArguments, ErrTimeout.
func (c *Client) Register(ctx context.Context, servicePath string, in Instance) (*Registration, error) {
	if in.Weight == 0 {
		in.Weight = 1
	}
	var h uintptr
	err := c.do(ctx, "service register", servicePath, func() int {
		return capi.Zkcgo_service_register(&h, c.zk, servicePath, in.ID, in.Address, in.Port, in.Weight,
			b2i(in.Draining), in.Metadata, b2i(in.Replace))
	})
	if err != nil {
		return nil, err
	}
	r := &Registration{c: c, h: capi.SwigcptrStruct_SS_zkc_service_reg(h), path: servicePath + "/" + in.ID}
	r.g.init(c.g.scope)
	if !c.adopt(r) {
		capi.Zkc_service_reg_close(r.h)
		return nil, closedError("service register", servicePath)
	}
	return r, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *Registration) do(ctx context.Context, op string, f func() int) error {
	if !r.g.enter() {
		return closedError(op, r.path)
	}
	defer r.g.mu.RUnlock()
	return callC(ctx, &r.g, &r.c.toks, op, r.path, f)
}

// SetDraining stops (true) or resumes (false) routing keys to the instance.
func (r *Registration) SetDraining(ctx context.Context, draining bool) error {
	return r.do(ctx, "service draining", func() int { return capi.Zkc_service_set_draining(r.h, b2i(draining)) })
}

// SetWeight changes the instance's weight.
func (r *Registration) SetWeight(ctx context.Context, weight int) error {
	return r.do(ctx, "service weight", func() int { return capi.Zkc_service_set_weight(r.h, weight) })
}

// Wait waits until the registration exists in the current session (after
// a session loss it is re-created in the background).
func (r *Registration) Wait(ctx context.Context) error {
	return r.do(ctx, "service wait", func() int { return capi.Zkc_service_reg_wait(r.h, -1) })
}

// Unregister deletes the instance's node and waits for the delete.
func (r *Registration) Unregister(ctx context.Context) error {
	return r.do(ctx, "service unregister", func() int { return capi.Zkc_service_unregister(r.h) })
}

// Path is the instance's node.
func (r *Registration) Path() string { return r.path }

// Close stops keeping the node (deleted in the background) and frees the
// handle. Calling it again is a no-op.
func (r *Registration) Close() error {
	r.g.shut(func() {
		capi.Zkc_service_reg_close(r.h)
		r.c.forget(r)
	})
	return nil
}

// Router routes keys to the live instances of a service by weighted
// rendezvous hashing over a cached set: no round trip per key, and adding
// or losing an instance moves only its share of keys.
type Router struct {
	c    *Client
	g    guard
	h    capi.Struct_SS_zkc_service_router
	path string
}

// Endpoint is where a key goes.
type Endpoint struct {
	ID      string
	Address string
	Port    int
	Weight  int
}

// NewRouter opens a router on the service at servicePath and waits for
// its first load.
func (c *Client) NewRouter(ctx context.Context, servicePath string) (*Router, error) {
	var h uintptr
	err := c.do(ctx, "router open", servicePath, func() int {
		return capi.Zkcgo_router_open(&h, c.zk, servicePath)
	})
	if err != nil {
		return nil, err
	}
	r := &Router{c: c, h: capi.SwigcptrStruct_SS_zkc_service_router(h), path: servicePath}
	r.g.init(c.g.scope)
	if !c.adopt(r) {
		capi.Zkc_service_router_close(r.h)
		return nil, closedError("router open", servicePath)
	}
	return r, nil
}

// Route gives the instance key goes to. Expected: ErrNoNode (no routable
// instance).
func (r *Router) Route(key []byte) (Endpoint, error) {
	if !r.g.enter() {
		return Endpoint{}, closedError("route", r.path)
	}
	defer r.g.mu.RUnlock()
	ep := capi.NewZkc_service_endpoint_t()
	defer capi.DeleteZkc_service_endpoint_t(ep)
	if err := callQuick("route", r.path, func() int { return capi.Zkc_service_route(ep, r.h, key) }); err != nil {
		return Endpoint{}, err
	}
	return Endpoint{ID: ep.GetId(), Address: ep.GetAddress(), Port: ep.GetPort(), Weight: ep.GetWeight()}, nil
}

// Len is the number of routable instances.
func (r *Router) Len() int {
	if !r.g.enter() {
		return 0
	}
	defer r.g.mu.RUnlock()
	return int(capi.Zkc_service_router_count(r.h))
}

// Close stops and frees the router. Calling it again is a no-op.
func (r *Router) Close() error {
	r.g.shut(func() {
		capi.Zkc_service_router_close(r.h)
		r.c.forget(r)
	})
	return nil
}
