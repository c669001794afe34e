package zkc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

// freezeAll stops every server of the test ensemble with SIGSTOP; the
// cleanup (also after a failure) lets them run again and waits for a
// quorum, so later tests find a working ensemble.
func freezeAll(t *testing.T) (thaw func()) {
	t.Helper()
	const n = 3
	frozen := 0
	thawed := false
	thaw = func() {
		if thawed {
			return
		}
		thawed = true
		for i := 1; i <= frozen; i++ {
			ensemble(t, "cont", fmt.Sprint(i))
		}
		ensemble(t, "wait", "--timeout", "120")
	}
	t.Cleanup(thaw)
	for i := 1; i <= n; i++ {
		ensemble(t, "stop", fmt.Sprint(i))
		frozen = i
	}
	return thaw
}

// A context's deadline reaches the C core's inner retries: against an
// ensemble frozen with SIGSTOP (60 s retry deadline, 30 s sessions, so the
// client notices the dead connection only after 20 s), calls given a
// context with a 2 s deadline return soon after 2 s with
// context.DeadlineExceeded. A batch is the call a cancel alone does not
// end: once sent it waits for its replies. A try-acquire with a context
// that never ends returns ErrTimeout after the C library's 3 s try
// deadline.
func TestContextDeadlineEndsCallsUnderAFreeze(t *testing.T) {
	if testing.Short() {
		t.Skip("freezes the ensemble's servers")
	}
	needServers(t)
	const (
		timeout = 2 * time.Second
		bound   = 12 * time.Second // the timeout plus a margin for a loaded machine
	)
	c := open(t, zkc.WithSessionTimeout(30*time.Second),
		zkc.WithRetry(zkc.Retry{Base: 20 * time.Millisecond, Max: time.Second,
			Deadline: 60 * time.Second}))
	p := uniquePath(t, "deadline")
	if _, _, err := c.Create(ctxFor(t, 60*time.Second), p, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	defer c.DeleteAll(context.Background(), p)
	lk, err := c.NewLock(p+"/lock", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	// the lock directory exists: the frozen try goes straight to its create
	if _, err := lk.TryAcquire(ctxFor(t, 60*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := lk.Release(); err != nil {
		t.Fatal(err)
	}

	type result struct {
		what string
		took time.Duration
		err  error
	}
	var got []result
	timed := func(what string, f func(ctx context.Context) error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		t0 := time.Now()
		err := f(ctx)
		got = append(got, result{what, time.Since(t0), err})
	}

	thaw := freezeAll(t)
	timed("batch", func(ctx context.Context) error {
		res, err := c.Batch().Get(p).Children(p).Run(ctx)
		if err != nil {
			return err
		}
		for i, r := range res { // sent: each op reports its own outcome
			if !errors.Is(r.Err, zkc.ErrTimeout) {
				return fmt.Errorf("op %d: %v, want a timeout", i, r.Err)
			}
			if !errors.Is(r.Err, context.DeadlineExceeded) {
				return fmt.Errorf("op %d: %v, want context.DeadlineExceeded", i, r.Err)
			}
		}
		return res[0].Err
	})
	timed("get", func(ctx context.Context) error {
		_, _, err := c.Get(ctx, p)
		return err
	})
	timed("set", func(ctx context.Context) error {
		_, err := c.Set(ctx, p, []byte("z"), -1)
		return err
	})
	// a try with a context that never ends waits for the servers only
	// the C library's short try deadline (3 s), not the retry deadline
	t0 := time.Now()
	_, tryErr := lk.TryAcquire(context.Background())
	tryTook := time.Since(t0)
	thaw()

	t.Logf("try-acquire without a deadline: %v after %v", tryErr, tryTook)
	if !errors.Is(tryErr, zkc.ErrTimeout) {
		t.Errorf("try-acquire: %v, want zkc.ErrTimeout", tryErr)
	}
	if tryTook < 3*time.Second-10*time.Millisecond || tryTook > 3*time.Second+bound {
		t.Errorf("try-acquire: returned after %v, want about 3 s", tryTook)
	}
	for _, r := range got {
		t.Logf("%s: %v after %v", r.what, r.err, r.took)
		if !errors.Is(r.err, context.DeadlineExceeded) {
			t.Errorf("%s: %v, want context.DeadlineExceeded", r.what, r.err)
		}
		if r.took < timeout-10*time.Millisecond || r.took > bound {
			t.Errorf("%s: returned after %v, want %v..%v", r.what, r.took, timeout, bound)
		}
	}
	// ended by its context, as when the context's token fires first: a
	// read is canceled, a write sent and not answered may have been applied
	if !errors.Is(got[1].err, zkc.ErrCanceled) {
		t.Errorf("get: %v, want zkc.ErrCanceled", got[1].err)
	}
	if !errors.Is(got[2].err, zkc.ErrUnknownOutcome) && !errors.Is(got[2].err, zkc.ErrCanceled) {
		t.Errorf("set: %v, want zkc.ErrUnknownOutcome or zkc.ErrCanceled", got[2].err)
	}

	// unbound again: the client works once the servers run
	ctx := ctxFor(t, 60*time.Second)
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	data, _, err := c.Get(ctx, p)
	if err != nil || (string(data) != "x" && string(data) != "z") {
		t.Fatalf("get after the freeze: %q %v", data, err)
	}
	// the frozen try's node, if its create was applied late, goes in the
	// background: the lock is free again
	waitUntil(t, 60*time.Second, "the lock free after the freeze", func() bool {
		kids, _, err := c.Children(ctx, p+"/lock")
		return err == nil && len(kids) == 0
	})
	if _, err := lk.TryAcquire(ctx); err != nil {
		t.Fatalf("try-acquire after the freeze: %v", err)
	}
	if err := lk.Release(); err != nil {
		t.Fatal(err)
	}
}
