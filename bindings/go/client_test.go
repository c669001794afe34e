package zkc_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

func open(t testing.TB, opts ...zkc.Option) *zkc.Client {
	t.Helper()
	c, err := zkc.Open(ctxFor(t, 60*time.Second), testURL, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", testURL, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestNodeOperationsRoundTripAndReportCodes(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 60*time.Second)
	p := uniquePath(t, "node")
	defer c.DeleteAll(context.Background(), p)

	got, st, err := c.Create(ctx, p+"/a/b", []byte("v1\x00bin"), &zkc.CreateOptions{Parents: true})
	if err != nil || got != p+"/a/b" || st.Version != 0 {
		t.Fatalf("create: %q %+v %v", got, st, err)
	}
	data, st, err := c.Get(ctx, p+"/a/b")
	if err != nil || !bytes.Equal(data, []byte("v1\x00bin")) || st.DataLength != 6 {
		t.Fatalf("get: %q %+v %v", data, st, err)
	}
	if _, _, err := c.Create(ctx, p+"/a/b", nil, nil); !errors.Is(err, zkc.ErrNodeExists) {
		t.Fatalf("second create: %v", err)
	}
	var ze *zkc.Error
	if _, _, err := c.Get(ctx, p+"/missing"); !errors.Is(err, zkc.ErrNoNode) || !errors.As(err, &ze) ||
		ze.Path != p+"/missing" || ze.Code != zkc.CodeNoNode || ze.Message == "" {
		t.Fatalf("get missing: %#v", err)
	}
	if _, err := c.Set(ctx, p+"/a/b", []byte("v2"), 7); !errors.Is(err, zkc.ErrBadVersion) {
		t.Fatalf("set at a wrong version: %v", err)
	}
	st2, err := c.Set(ctx, p+"/a/b", []byte("v2"), st.Version)
	if err != nil || st2.Version != st.Version+1 {
		t.Fatalf("set: %+v %v", st2, err)
	}
	seqPath, _, err := c.Create(ctx, p+"/a/s-", nil, &zkc.CreateOptions{Mode: zkc.EphemeralSequential, Protected: true})
	if err != nil || len(seqPath) <= len(p+"/a/") {
		t.Fatalf("sequential create: %q %v", seqPath, err)
	}
	kids, _, err := c.Children(ctx, p+"/a")
	if err != nil || len(kids) != 2 {
		t.Fatalf("children: %v %v", kids, err)
	}
	ok, _, err := c.Exists(ctx, p+"/a/b")
	if !ok || err != nil {
		t.Fatalf("exists: %v %v", ok, err)
	}
	if err := c.Delete(ctx, p+"/a", zkc.AnyVersion); !errors.Is(err, zkc.ErrNotEmpty) {
		t.Fatalf("delete non-empty: %v", err)
	}
	if _, _, err := c.Get(ctx, "no-slash"); !errors.Is(err, zkc.ErrBadArguments) {
		t.Fatalf("bad path: %v", err)
	}
	if _, _, err := c.Create(ctx, p+"/big", make([]byte, 2<<20), nil); !errors.Is(err, zkc.ErrTooLarge) {
		t.Fatalf("oversized data: %v", err)
	}
	if err := c.DeleteAll(ctx, p); err != nil {
		t.Fatalf("delete all: %v", err)
	}
	if ok, _, err := c.Exists(ctx, p); ok || err != nil {
		t.Fatalf("exists after delete: %v %v", ok, err)
	}
}

func TestWatchesArriveOnTheirOwnChannels(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 60*time.Second)
	p := uniquePath(t, "watch")
	defer c.DeleteAll(context.Background(), p)

	if _, _, err := c.Create(ctx, p, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	_, _, dataW, err := c.GetW(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	_, _, kidsW, err := c.ChildrenW(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	ok, _, existsW, err := c.ExistsW(ctx, p+"/later")
	if ok || err != nil {
		t.Fatalf("exists of a missing node: %v %v", ok, err)
	}
	if _, err := c.Set(ctx, p, []byte("y"), zkc.AnyVersion); err != nil {
		t.Fatal(err)
	}
	expect := func(ch <-chan zkc.Event, typ zkc.EventType, path string) {
		t.Helper()
		select {
		case ev, ok := <-ch:
			if !ok || ev.Type != typ || ev.Path != path {
				t.Fatalf("watch event %+v (open %v), want %v on %s", ev, ok, typ, path)
			}
			if _, ok := <-ch; ok {
				t.Fatalf("watch channel not closed after its one event")
			}
		case <-ctx.Done():
			t.Fatalf("no %v event for %s", typ, path)
		}
	}
	expect(dataW, zkc.EventChanged, p)
	if _, _, err := c.Create(ctx, p+"/later", nil, nil); err != nil {
		t.Fatal(err)
	}
	expect(existsW, zkc.EventCreated, p+"/later")
	expect(kidsW, zkc.EventChild, p)
	if _, _, w, err := c.GetW(ctx, p+"/none"); !errors.Is(err, zkc.ErrNoNode) || w != nil {
		t.Fatalf("GetW on a missing node: %v %v", w, err)
	}
}

func TestStateEventsAndSessionExpiry(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 90*time.Second)
	p := uniquePath(t, "expire")
	if c.State() != zkc.StateConnected {
		t.Fatalf("state after open: %v", c.State())
	}
	sid := c.SessionID()
	s0, ok := c.Session()
	if !ok || s0.ID != sid || sid == 0 || len(s0.Password) != 16 || s0.Timeout <= 0 {
		t.Fatalf("session %+v (ok %v) beside id %x", s0, ok, sid)
	}
	_, st, err := c.Create(ctx, p, nil, &zkc.CreateOptions{Mode: zkc.Ephemeral})
	if err != nil {
		t.Fatal(err)
	}
	if st.EphemeralOwner != sid {
		t.Fatalf("ephemeral owner %x, session %x", st.EphemeralOwner, sid)
	}
	if err := c.ExpireSession(ctx); err != nil {
		t.Fatalf("expire: %v", err)
	}
	var seen []zkc.State
	for lost := false; ; {
		select {
		case ev := <-c.Events():
			if ev.Type != zkc.EventState {
				continue
			}
			seen = append(seen, ev.State)
			if ev.State == zkc.StateLost {
				lost = true
			}
			if lost && ev.State == zkc.StateConnected {
				goto reconnected
			}
		case <-ctx.Done():
			t.Fatalf("no LOST then CONNECTED after expiry; saw %v", seen)
		}
	}
reconnected:
	if c.SessionID() == sid || c.SessionID() == 0 {
		t.Fatalf("session id %x after expiry of %x", c.SessionID(), sid)
	}
	if s1, ok := c.Session(); !ok || s1.ID != c.SessionID() || bytes.Equal(s1.Password, s0.Password) {
		t.Fatalf("session after expiry %+v (ok %v), before %+v", s1, ok, s0)
	}
	// the ephemeral node went with the old session
	waitUntil(t, 30*time.Second, "ephemeral node gone", func() bool {
		ok, _, err := c.Exists(ctx, p)
		return err == nil && !ok
	})
	if _, _, err := c.Get(ctx, "/"); err != nil {
		t.Fatalf("get on the new session: %v", err)
	}
}

func TestOpenFailsClearlyAndIsCancelable(t *testing.T) {
	if _, err := zkc.Open(context.Background(), "zk://[bad"); !errors.Is(err, zkc.ErrURL) {
		t.Fatalf("malformed URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := zkc.Open(ctx, "zk://127.0.0.1:1", zkc.WithConnectTimeout(2*time.Minute))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, zkc.ErrCanceled) {
		t.Fatalf("open with an expiring context: %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("canceled open took %v", d)
	}
}

func TestCallsAfterCloseReturnErrClosed(t *testing.T) {
	c, err := zkc.Open(ctxFor(t, 60*time.Second), testURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, _, err := c.Get(context.Background(), "/"); !errors.Is(err, zkc.ErrClosed) {
		t.Fatalf("get after close: %v", err)
	}
	for range c.Events() { // events queued before Close, then closed
	}
	if c.State() != zkc.StateClosed {
		t.Fatalf("state after close: %v", c.State())
	}
}
