package zkc_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

func childCount(t testing.TB, c *zkc.Client, path string) int {
	kids, _, err := c.Children(context.Background(), path)
	if errors.Is(err, zkc.ErrNoNode) {
		return 0
	}
	if err != nil {
		t.Fatalf("children %s: %v", path, err)
	}
	return len(kids)
}

func TestLockExcludesAndFencesWithGrowingTokens(t *testing.T) {
	c1, c2 := open(t), open(t)
	ctx := ctxFor(t, 60*time.Second)
	dir := uniquePath(t, "lock")
	defer c1.DeleteAll(context.Background(), dir)

	a, err := c1.NewLock(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c2.NewLock(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	la, err := a.Acquire(ctx)
	if err != nil || la.SessionID != c1.SessionID() || la.Path == "" {
		t.Fatalf("acquire: %+v %v", la, err)
	}
	if !a.Valid() {
		t.Fatalf("held lock not valid")
	}
	if _, err := b.TryAcquire(ctx); !errors.Is(err, zkc.ErrWouldBlock) {
		t.Fatalf("try on a held lock: %v", err)
	}
	res, err := a.Fence().Create(dir+"-data", []byte("x"), zkc.Persistent).Commit(ctx)
	if err != nil || len(res) != 2 || res[1].Path != dir+"-data" {
		t.Fatalf("fenced commit: %+v %v", res, err)
	}
	defer c1.Delete(context.Background(), dir+"-data", zkc.AnyVersion)
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	lb, err := b.Acquire(ctx)
	if err != nil || lb.Token <= la.Token {
		t.Fatalf("second holder: %+v (first token %d) %v", lb, la.Token, err)
	}
	// a fence of a handle that does not hold the lock commits nothing
	if _, err := a.Fence().Set(dir+"-data", []byte("y"), zkc.AnyVersion).Commit(ctx); !errors.Is(err, zkc.ErrInvalidState) {
		t.Fatalf("fence without the lock: %v", err)
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	if _, err := a.Acquire(ctx); !errors.Is(err, zkc.ErrClosed) {
		t.Fatalf("acquire on a closed lock: %v", err)
	}
}

// Two holders never overlap, with many goroutines on two shared clients.
func TestLockMutualExclusionAcrossGoroutines(t *testing.T) {
	clients := []*zkc.Client{open(t), open(t)}
	ctx := ctxFor(t, 120*time.Second)
	dir := uniquePath(t, "mutex")
	defer clients[0].DeleteAll(context.Background(), dir)

	var inside, maxInside, total atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(c *zkc.Client) {
			defer wg.Done()
			l, err := c.NewLock(dir, nil)
			if err != nil {
				errs <- err
				return
			}
			defer l.Close()
			for j := 0; j < 5; j++ {
				if _, err := l.Acquire(ctx); err != nil {
					errs <- err
					return
				}
				n := inside.Add(1)
				if n > maxInside.Load() {
					maxInside.Store(n)
				}
				total.Add(1)
				time.Sleep(time.Millisecond) // hold it across a scheduling point
				inside.Add(-1)
				if err := l.Release(); err != nil {
					errs <- err
					return
				}
			}
		}(clients[i%2])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if maxInside.Load() != 1 || total.Load() != 40 {
		t.Fatalf("max holders at once %d, acquisitions %d", maxInside.Load(), total.Load())
	}
}

func TestCanceledLockAcquireLeavesNoContenderNode(t *testing.T) {
	c1, c2 := open(t), open(t)
	ctx := ctxFor(t, 60*time.Second)
	dir := uniquePath(t, "lockcancel")
	defer c1.DeleteAll(context.Background(), dir)

	holder, _ := c1.NewLock(dir, nil)
	waiter, _ := c2.NewLock(dir, nil)
	if _, err := holder.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := waiter.Acquire(wctx)
		done <- err
	}()
	waitUntil(t, 30*time.Second, "the waiter's node", func() bool { return childCount(t, c1, dir) == 2 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !errors.Is(err, zkc.ErrCanceled) {
			t.Fatalf("canceled acquire: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("canceled acquire still blocked")
	}
	waitUntil(t, 30*time.Second, "only the holder's node", func() bool { return childCount(t, c1, dir) == 1 })

	// a deadline works the same way
	dctx, dcancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer dcancel()
	if _, err := waiter.Acquire(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire past its deadline: %v", err)
	}
	waitUntil(t, 30*time.Second, "only the holder's node", func() bool { return childCount(t, c1, dir) == 1 })
	holder.Close()
	if _, err := waiter.Acquire(ctx); err != nil {
		t.Fatalf("acquire after the holder left: %v", err)
	}
	waiter.Close()
}

func TestCounterAddsFromManyGoroutinesAreAllCounted(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 120*time.Second)
	p := uniquePath(t, "counter")
	defer c.DeleteAll(context.Background(), p)

	k, err := c.NewCounter(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if v, err := k.Get(ctx); v != 0 || err != nil {
		t.Fatalf("missing counter reads %d %v", v, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := k.Add(ctx, 1); err != nil {
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
	if v, err := k.Get(ctx); v != 200 || err != nil {
		t.Fatalf("after 200 adds: %d %v", v, err)
	}
	ok, cur, err := k.CompareAndSet(ctx, 5, 9)
	if ok || cur != 200 || err != nil {
		t.Fatalf("cas with a stale value: %v %d %v", ok, cur, err)
	}
	ok, cur, err = k.CompareAndSet(ctx, 200, -7)
	if !ok || cur != -7 || err != nil {
		t.Fatalf("cas: %v %d %v", ok, cur, err)
	}
	if err := k.Set(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Add(ctx, -2); v != 40 || err != nil {
		t.Fatalf("add -2 to 42: %d %v", v, err)
	}
}

func TestQueueFIFOAckAndCanceledTakeLeavesNothingTaken(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 60*time.Second)
	p := uniquePath(t, "queue")
	defer c.DeleteAll(context.Background(), p)

	if _, err := c.OpenQueue(ctx, p, nil); !errors.Is(err, zkc.ErrNoNode) {
		t.Fatalf("open of a missing queue: %v", err)
	}
	q, err := c.OpenQueue(ctx, p, &zkc.QueueOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()

	// a blocked take, canceled, leaves no taken marker
	tctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := q.Take(tctx, zkc.TakeAck)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it block (a short cancel is checked too)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled take: %v", err)
	}
	if n, taken, err := q.Size(ctx); n != 0 || taken != 0 || err != nil {
		t.Fatalf("after a canceled take: %d items, %d taken, %v", n, taken, err)
	}

	for i, pr := range []int{zkc.PriorityDefault, zkc.PriorityDefault, 5} {
		if _, err := q.Put(ctx, []byte(fmt.Sprintf("item-%d\x00", i)), pr); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"item-2\x00", "item-0\x00", "item-1\x00"}
	for i, w := range want {
		it, err := q.Take(ctx, zkc.TakeAck)
		if err != nil || string(it.Data) != w {
			t.Fatalf("take %d: %+v %v", i, it, err)
		}
		if n, taken, _ := q.Size(ctx); taken != 1 || n != 3-i {
			t.Fatalf("after take %d: %d items, %d taken", i, n, taken)
		}
		if err := q.Ack(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.TryTake(ctx, zkc.TakeDelete); !errors.Is(err, zkc.ErrWouldBlock) {
		t.Fatalf("take from an empty queue: %v", err)
	}

	// an item given back is in the queue, untaken, and the next take gets
	// it again before the lower-priority item behind it
	if _, err := q.Put(ctx, []byte("behind"), zkc.PriorityDefault); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Put(ctx, []byte("again"), 5); err != nil {
		t.Fatal(err)
	}
	it, err := q.Take(ctx, zkc.TakeAck)
	if err != nil || string(it.Data) != "again" {
		t.Fatalf("first take: %+v %v", it, err)
	}
	if err := q.Return(ctx, it); err != nil {
		t.Fatal(err)
	}
	if n, taken, err := q.Size(ctx); n != 2 || taken != 0 || err != nil {
		t.Fatalf("after return: %d items, %d taken, %v", n, taken, err)
	}
	if it, err := q.Take(ctx, zkc.TakeDelete); err != nil || string(it.Data) != "again" {
		t.Fatalf("take after return: %+v %v", it, err)
	}
	if it, err := q.Take(ctx, zkc.TakeDelete); err != nil || string(it.Data) != "behind" {
		t.Fatalf("take after that: %+v %v", it, err)
	}
}

func TestCacheFollowsChangesWithEvents(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 60*time.Second)
	p := uniquePath(t, "cache")
	defer c.DeleteAll(context.Background(), p)

	if _, _, err := c.Create(ctx, p+"/a", []byte("1"), &zkc.CreateOptions{Parents: true}); err != nil {
		t.Fatal(err)
	}
	k, err := c.NewCache(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.WaitInitialized(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _, err := k.Get(p + "/a"); string(d) != "1" || err != nil {
		t.Fatalf("cached a: %q %v", d, err)
	}
	st, err := c.Set(ctx, p+"/a", []byte("2"), zkc.AnyVersion)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.WaitZxid(ctx, st.Mzxid); err != nil {
		t.Fatal(err)
	}
	if d, _, _ := k.Get(p + "/a"); string(d) != "2" {
		t.Fatalf("cached a after set: %q", d)
	}
	_, st2, err := c.Create(ctx, p+"/b", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.WaitZxid(ctx, st2.Czxid); err != nil {
		t.Fatal(err)
	}
	if kids, err := k.Children(p); err != nil || len(kids) != 2 || kids[0] != "a" || kids[1] != "b" {
		t.Fatalf("cached children: %v %v", kids, err)
	}
	if _, _, err := k.Get(p + "/none"); !errors.Is(err, zkc.ErrNoNode) {
		t.Fatalf("uncached node: %v", err)
	}
	// events: the initial load, the update and the add, in order
	var seen []string
	wantSeq := []string{"INITIALIZED " + "", "UPDATED " + p + "/a", "ADDED " + p + "/b"}
	for len(seen) < 64 {
		var ev zkc.CacheEvent
		select {
		case ev = <-k.Events():
		case <-ctx.Done():
			t.Fatalf("cache events so far: %v", seen)
		}
		seen = append(seen, ev.Type.String()+" "+ev.Path)
		if ev.Type == zkc.CacheAdded && ev.Path == p+"/b" {
			break
		}
	}
	idx := 0
	for _, s := range seen {
		if idx < len(wantSeq) && s == wantSeq[idx] {
			idx++
		}
	}
	if idx != len(wantSeq) {
		t.Fatalf("cache events %v lack %v in order", seen, wantSeq)
	}
	k.Close()
	if _, ok := <-k.Events(); ok {
		// events queued before Close may remain; drain then expect closed
		for range k.Events() {
		}
	}
	if _, _, err := k.Get(p + "/a"); !errors.Is(err, zkc.ErrClosed) {
		t.Fatalf("get on a closed cache: %v", err)
	}
}

// Closing a client ends every handle made from it and their blocked calls.
func TestClientCloseEndsBlockedCallsAndHandles(t *testing.T) {
	c1 := open(t)
	c2, err := zkc.Open(ctxFor(t, 60*time.Second), testURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, 60*time.Second)
	dir := uniquePath(t, "closeall")
	defer c1.DeleteAll(context.Background(), dir)
	holder, _ := c1.NewLock(dir+"/lock", nil)
	if _, err := holder.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	waiter, _ := c2.NewLock(dir+"/lock", nil)
	q, err := c2.OpenQueue(ctx, dir+"/queue", &zkc.QueueOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { _, err := waiter.Acquire(context.Background()); errs <- err }()
	go func() { _, err := q.Take(context.Background(), zkc.TakeAck); errs <- err }()
	waitUntil(t, 30*time.Second, "the waiter's node", func() bool { return childCount(t, c1, dir+"/lock") == 2 })
	c2.Close()
	for i := 0; i < 2; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, zkc.ErrClosed) {
				t.Fatalf("blocked call at close: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a blocked call outlived Close")
		}
	}
	waitUntil(t, 30*time.Second, "only the holder's node", func() bool { return childCount(t, c1, dir+"/lock") == 1 })
}

func TestLockHolderHearsLostWhenTheSessionExpires(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 90*time.Second)
	dir := uniquePath(t, "locklost")
	defer c.DeleteAll(context.Background(), dir)

	l, err := c.NewLock(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	events := l.Events()
	if _, err := l.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.ExpireSession(ctx); err != nil {
		t.Fatal(err)
	}
	for lost := false; !lost; {
		select {
		case ev := <-events:
			lost = ev == zkc.LockLost
		case <-ctx.Done():
			t.Fatal("no LOST event after the session expired")
		}
	}
	if l.Valid() {
		t.Fatal("a lost lock is still valid")
	}
	if _, err := l.Fence().Set(dir, nil, zkc.AnyVersion).Commit(ctx); err == nil {
		t.Fatal("a fenced write of a lost lock committed")
	}
	if err := l.Release(); !errors.Is(err, zkc.ErrLost) {
		t.Fatalf("release of a lost lock: %v", err)
	}
	l.Close()
	if _, ok := <-events; ok {
		for range events {
		}
	}
}

// The data of LockOptions is stored in every contender node, of a lock
// and of both halves of a read-write lock, and the options can be used
// again after the open (the binding hands C its own copy).
func TestLockDataIsStoredInTheContenderNode(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 60*time.Second)
	dir := uniquePath(t, "lockdata")
	defer c.DeleteAll(context.Background(), dir)
	opts := &zkc.LockOptions{Data: []byte("host-a:1234")}

	l, err := c.NewLock(dir+"/mutex", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rw, err := c.NewRWLock(dir+"/rw", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	opts.Data[0] = 'X' // the handles must not see this: they hold copies
	for _, h := range []*zkc.Lock{l, rw.WriteLock()} {
		lease, err := h.Acquire(ctx)
		if err != nil {
			t.Fatalf("acquire %s: %v", h.Path(), err)
		}
		data, _, err := c.Get(ctx, lease.Path)
		if err != nil || string(data) != "host-a:1234" {
			t.Fatalf("contender node %s holds %q (%v), want %q", lease.Path, data, err, "host-a:1234")
		}
		if err := h.Release(); err != nil {
			t.Fatal(err)
		}
	}
}
