package zkc

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// guard makes a C handle safe to share between goroutines and to close
// while calls run: calls hold the read side for the C call's duration;
// close first cancels every running call (their tokens fire), then takes
// the write side, so C never sees a handle freed under a call.
type guard struct {
	mu     sync.RWMutex
	closed bool
	scope  context.Context // done when the handle starts closing
	cancel context.CancelFunc

	// the tokens of the calls running on the handle, fired together when
	// scope ends (one context.AfterFunc per handle, not one per call)
	callsMu sync.Mutex
	calls   map[*token]struct{}
	ended   bool // scope has ended: a call that starts now is canceled
}

func (g *guard) init(parent context.Context) {
	g.scope, g.cancel = context.WithCancel(parent)
	g.calls = make(map[*token]struct{})
	context.AfterFunc(g.scope, g.fireCalls)
}

// fireCalls fires the token of every running call (the scope ended).
func (g *guard) fireCalls() {
	g.callsMu.Lock()
	defer g.callsMu.Unlock()
	g.ended = true
	for t := range g.calls {
		t.fire()
	}
}

// track registers a running call's token (fired at once if the scope
// has ended); untrack forgets it, after which fireCalls no longer
// touches it.
func (g *guard) track(t *token) {
	g.callsMu.Lock()
	g.calls[t] = struct{}{}
	if g.ended {
		t.fire()
	}
	g.callsMu.Unlock()
}

func (g *guard) untrack(t *token) {
	g.callsMu.Lock()
	delete(g.calls, t)
	g.callsMu.Unlock()
}

// enter returns false when the handle is closed; otherwise the caller
// must call g.mu.RUnlock when its C call is over.
func (g *guard) enter() bool {
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return false
	}
	return true
}

// shut cancels running calls, waits for them, and runs free once.
func (g *guard) shut(free func()) {
	g.cancel()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.closed = true
	free()
}

// token is a C cancel token with a note of whether it was fired, so an
// unfired one goes back to the free list without a C call.
type token struct {
	c     capi.Struct_SS_zkc_cancel
	fired atomic.Bool
}

func (t *token) fire() {
	t.fired.Store(true)
	capi.Zkc_cancel_fire(t.c)
}

// tokens is a small free list of C cancel tokens, one per call in flight.
type tokens struct {
	mu   sync.Mutex
	free []*token
}

const maxIdleTokens = 64

func (t *tokens) get() (*token, bool) {
	t.mu.Lock()
	if n := len(t.free); n > 0 {
		tok := t.free[n-1]
		t.free = t.free[:n-1]
		t.mu.Unlock()
		return tok, true
	}
	t.mu.Unlock()
	var h uintptr
	if capi.Zkc_cancel_new(&h) != 0 || h == 0 {
		return nil, false
	}
	return &token{c: capi.SwigcptrStruct_SS_zkc_cancel(h)}, true
}

// put takes back a token nobody fires any more.
func (t *tokens) put(tok *token) {
	if tok.fired.Load() {
		capi.Zkc_cancel_reset(tok.c)
		tok.fired.Store(false)
	}
	t.mu.Lock()
	if len(t.free) < maxIdleTokens {
		t.free = append(t.free, tok)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	capi.Zkc_cancel_free(tok.c)
}

func (t *tokens) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tok := range t.free {
		capi.Zkc_cancel_free(tok.c)
	}
	t.free = nil
}

// deadlineIn is how many ms from now ctx's deadline is, for
// zkcgo_call_bind: rounded up, +1 because zkc_clock_ms is truncated to the
// ms, so the C call never ends before ctx does; -1 without a deadline.
func deadlineIn(ctx context.Context) int64 {
	d, ok := ctx.Deadline()
	if !ok {
		return -1
	}
	left := time.Until(d)
	if left < 0 {
		left = 0
	}
	return int64((left+time.Millisecond-1)/time.Millisecond) + 1
}

// deadlinePassed: ctx has a deadline and it has passed (ctx.Err() may not
// say so yet: its timer can run after the C call saw the same instant).
func deadlinePassed(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// ctxCause is what ended a call that ran into ctx: ctx.Err(), or
// context.DeadlineExceeded once ctx's deadline has passed; nil when
// neither (the call ended for its own reasons).
func ctxCause(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if deadlinePassed(ctx) {
		return context.DeadlineExceeded // the bound deadline ended the call
	}
	return nil
}

// callC runs f, one C call, with ctx's cancellation (and the handle's
// closing) reaching the C wait through a cancel token bound to the OS
// thread, and ctx's deadline, if it has one, bound to the same thread in
// the same cgo call (zkc_deadline_bind), so every request and retry of the call ends by it,
// also those a cancel does not stop (a batch's replies). It copies the C
// error of that same thread if f fails. The caller holds the handle's
// guard.
func callC(ctx context.Context, g *guard, toks *tokens, op, path string, f func() int) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return ctxError(op, path, err)
	}
	tok, ok := toks.get()
	if !ok {
		return &Error{Code: CodeNoMemory, Op: op, Path: path, Message: "no cancel token"}
	}
	var wg sync.WaitGroup
	stopCtx := func() bool { return false }
	if ctx.Done() != nil { // context.Background and friends never end
		wg.Add(1)
		stopCtx = context.AfterFunc(ctx, func() {
			defer wg.Done()
			tok.fire()
		})
	}
	g.track(tok)

	runtime.LockOSThread()
	capi.Zkcgo_call_bind(tok.c, deadlineIn(ctx))
	rc := f()
	var msg string
	if rc != 0 {
		msg = capi.Zkcgo_error_message()
	}
	capi.Zkcgo_call_unbind()
	runtime.UnlockOSThread()

	g.untrack(tok)
	if stopCtx() {
		wg.Done()
	}
	wg.Wait() // a fire already started must end before the token is reused
	toks.put(tok)
	if rc == 0 {
		return nil
	}
	var cause error
	switch Code(rc) {
	case CodeCanceled, CodeUnknownOutcome, CodeTimeout:
		if Code(rc) == CodeCanceled && g.scope.Err() != nil && ctx.Err() == nil &&
			!deadlinePassed(ctx) {
			return closedError(op, path)
		}
		cause = ctxCause(ctx)
		if cause != nil && Code(rc) == CodeTimeout {
			// ctx's deadline, bound in C, ended the call: the same error
			// as when its token fired first (ErrCanceled, ctx's error)
			rc = int(CodeCanceled)
		}
	}
	return newError(rc, op, path, msg, cause)
}

// callQuick runs a C call that does not block (no token), copying the
// error of the same OS thread.
func callQuick(op, path string, f func() int) error {
	runtime.LockOSThread()
	rc := f()
	var msg string
	if rc != 0 {
		msg = capi.Zkcgo_error_message()
	}
	runtime.UnlockOSThread()
	if rc == 0 {
		return nil
	}
	return newError(rc, op, path, msg, nil)
}
