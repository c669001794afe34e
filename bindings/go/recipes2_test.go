package zkc_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

func TestRWLockReadersShareWritersExclude(t *testing.T) {
	c1, c2 := open(t), open(t)
	ctx := ctxFor(t, 60*time.Second)
	dir := uniquePath(t, "rwlock")
	defer c1.DeleteAll(context.Background(), dir)

	a, err := c1.NewRWLock(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c2.NewRWLock(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ReadLock().Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ReadLock().TryAcquire(ctx); err != nil {
		t.Fatalf("second reader: %v", err)
	}
	if _, err := b.WriteLock().TryAcquire(ctx); !errors.Is(err, zkc.ErrWouldBlock) {
		t.Fatalf("writer while read-locked: %v", err)
	}
	a.ReadLock().Release()
	b.ReadLock().Release()
	if _, err := b.WriteLock().Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ReadLock().TryAcquire(ctx); !errors.Is(err, zkc.ErrWouldBlock) {
		t.Fatalf("reader while write-locked: %v", err)
	}
	a.Close()
	b.Close()
	if _, err := a.WriteLock().Acquire(ctx); !errors.Is(err, zkc.ErrClosed) {
		t.Fatalf("half of a closed rwlock: %v", err)
	}
}

func TestSemaphoreAdmitsAtMostN(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 120*time.Second)
	path := uniquePath(t, "sem")
	defer c.DeleteAll(context.Background(), path)

	const n = 2
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := c.NewSemaphore(path, n)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := 0; i < 3; i++ {
				l, err := s.Acquire(ctx)
				if err != nil {
					errs <- err
					return
				}
				k := inside.Add(1)
				for m := most.Load(); k > m && !most.CompareAndSwap(m, k); m = most.Load() {
				}
				time.Sleep(2 * time.Millisecond)
				inside.Add(-1)
				if err := l.Release(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if most.Load() > n || most.Load() < 1 {
		t.Fatalf("at most %d leases were held at once; the limit is %d", most.Load(), n)
	}

	// a canceled acquire leaves no lease node behind
	s, _ := c.NewSemaphore(path, 1)
	defer s.Close()
	held, err := s.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := c.NewSemaphore(path, 1)
	defer s2.Close()
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := s2.Acquire(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire past its deadline: %v", err)
	}
	waitUntil(t, 30*time.Second, "one lease node", func() bool { return childCount(t, c, path+"/leases") == 1 })
	held.Release()
}

func TestElectionHasOneLeaderAndHandsOver(t *testing.T) {
	c1, c2 := open(t), open(t)
	ctx := ctxFor(t, 60*time.Second)
	path := uniquePath(t, "elect")
	defer c1.DeleteAll(context.Background(), path)

	a, err := c1.NewElection(path, "alpha", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c2.NewElection(path, "beta", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Join(); err != nil {
		t.Fatal(err)
	}
	epochA, err := a.Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Join(); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := b.Await(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second candidate's await: %v", err)
	}
	if id, epoch, err := c2.Leader(ctx, path); id != "alpha" || epoch != epochA || err != nil {
		t.Fatalf("leader: %q %d %v", id, epoch, err)
	}
	if err := a.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	epochB, err := b.Await(ctx)
	if err != nil || epochB <= epochA {
		t.Fatalf("hand-over: epoch %d after %d, %v", epochB, epochA, err)
	}
	if ok, _ := a.IsLeader(); ok {
		t.Fatal("resigned candidate still leads")
	}
	a.Close()
}

func TestBarriersHoldAndRelease(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 60*time.Second)
	path := uniquePath(t, "barrier")
	defer c.DeleteAll(context.Background(), path)

	if err := c.SetBarrier(ctx, path+"/gate"); err != nil {
		t.Fatal(err)
	}
	released := make(chan error, 1)
	go func() { released <- c.WaitBarrier(ctx, path+"/gate") }()
	select {
	case err := <-released:
		t.Fatalf("wait returned while the barrier is up: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := c.RemoveBarrier(ctx, path+"/gate"); err != nil {
		t.Fatal(err)
	}
	if err := <-released; err != nil {
		t.Fatal(err)
	}

	// a double barrier for three: two enter and wait, the third releases them
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := c.NewDoubleBarrier(path+"/double", 3, "")
			if err != nil {
				errs <- err
				return
			}
			defer b.Close()
			if err := b.Enter(ctx); err != nil {
				errs <- err
				return
			}
			errs <- b.Leave(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// a canceled enter is not counted: its node goes
	b, err := c.NewDoubleBarrier(path+"/lonely", 2, "solo")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := b.Enter(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("enter past its deadline: %v", err)
	}
	waitUntil(t, 30*time.Second, "no participant node", func() bool { return childCount(t, c, path+"/lonely") == 0 })
}
