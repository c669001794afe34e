package zkc

import (
	"context"
	"runtime"
	"sync"

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
}

func (g *guard) init(parent context.Context) {
	g.scope, g.cancel = context.WithCancel(parent)
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

// tokens is a small free list of C cancel tokens, one per call in flight.
type tokens struct {
	mu   sync.Mutex
	free []capi.Struct_SS_zkc_cancel
}

const maxIdleTokens = 64

func (t *tokens) get() (capi.Struct_SS_zkc_cancel, bool) {
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
	return capi.SwigcptrStruct_SS_zkc_cancel(h), true
}

func (t *tokens) put(tok capi.Struct_SS_zkc_cancel) {
	capi.Zkc_cancel_reset(tok)
	t.mu.Lock()
	if len(t.free) < maxIdleTokens {
		t.free = append(t.free, tok)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	capi.Zkc_cancel_free(tok)
}

func (t *tokens) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tok := range t.free {
		capi.Zkc_cancel_free(tok)
	}
	t.free = nil
}

var noToken = capi.SwigcptrStruct_SS_zkc_cancel(0)

// callC runs f, one C call, with ctx's cancellation (and the handle's
// closing) reaching the C wait through a cancel token bound to the OS
// thread, and copies the C error of that same thread if f fails. The
// caller holds the handle's guard.
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
	fire := func() {
		defer wg.Done()
		capi.Zkc_cancel_fire(tok)
	}
	stopCtx := func() bool { return false }
	if ctx.Done() != nil { // context.Background and friends never end
		wg.Add(1)
		stopCtx = context.AfterFunc(ctx, fire)
	}
	wg.Add(1)
	stopScope := context.AfterFunc(g.scope, fire)

	runtime.LockOSThread()
	capi.Zkc_cancel_bind(tok)
	rc := f()
	var msg string
	if rc != 0 {
		msg = capi.Zkcgo_error_message()
	}
	capi.Zkc_cancel_bind(noToken)
	runtime.UnlockOSThread()

	if stopCtx() {
		wg.Done()
	}
	if stopScope() {
		wg.Done()
	}
	wg.Wait() // a fire already started must end before the token is reused
	toks.put(tok)
	if rc == 0 {
		return nil
	}
	var cause error
	if Code(rc) == CodeCanceled || Code(rc) == CodeUnknownOutcome {
		if g.scope.Err() != nil && ctx.Err() == nil {
			if Code(rc) == CodeCanceled {
				return closedError(op, path)
			}
		}
		cause = ctx.Err()
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
