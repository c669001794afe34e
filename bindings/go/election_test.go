package zkc_test

import (
	"context"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

// nextElectionEvent waits for the next leadership event or fails.
func nextElectionEvent(t *testing.T, ctx context.Context, ch <-chan zkc.ElectionEvent, who string) zkc.ElectionEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("%s: events channel closed early", who)
		}
		return ev
	case <-ctx.Done():
		t.Fatalf("%s: no leadership event", who)
	}
	return zkc.ElectionEvent{}
}

func TestElectionEventsFollowLeadershipAcrossHandOverAndExpiry(t *testing.T) {
	c1, c2 := open(t), open(t)
	ctx := ctxFor(t, 120*time.Second)
	path := uniquePath(t, "elect-events")
	defer c1.DeleteAll(context.Background(), path)

	a, err := c1.NewElection(path, "alpha", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := c2.NewElection(path, "beta", nil)
	if err != nil {
		t.Fatal(err)
	}
	aEvents, bEvents := a.Events(), b.Events()
	if a.Events() != aEvents {
		t.Fatal("Events returned a second channel")
	}
	if err := a.Join(); err != nil {
		t.Fatal(err)
	}
	ev := nextElectionEvent(t, ctx, aEvents, "alpha")
	epochA, err := a.Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != zkc.ElectedLeader || ev.Epoch != epochA || ev.Reason != 0 {
		t.Fatalf("alpha's first event: %+v, epoch from Await %d", ev, epochA)
	}
	if err := b.Join(); err != nil {
		t.Fatal(err)
	}
	// beta waits behind alpha: nothing for it until alpha resigns
	select {
	case ev := <-bEvents:
		t.Fatalf("beta heard %+v while alpha leads", ev)
	case <-time.After(300 * time.Millisecond):
	}
	if err := a.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	ev = nextElectionEvent(t, ctx, bEvents, "beta")
	if ev.Type != zkc.ElectedLeader || ev.Epoch <= epochA {
		t.Fatalf("beta after the hand-over: %+v (alpha's epoch %d)", ev, epochA)
	}
	epochB := ev.Epoch

	// beta's session expires: it stops leading (at SUSPENDED or LOST,
	// its step-down policy), then joins again by itself on the new
	// session and, alone, leads again with a newer epoch. The expiry
	// opens a second connection on the same session, which can bounce
	// beta's first: SUSPENDED, then RECONNECTED with its node still
	// first gives ElectedLeader again with the same epoch.
	if err := c2.ExpireSession(ctx); err != nil {
		t.Fatal(err)
	}
	stepDown := func(ev zkc.ElectionEvent) bool {
		return ev.Type == zkc.NotLeader && (ev.Reason == zkc.ReasonSuspended || ev.Reason == zkc.ReasonLost)
	}
	ev = nextElectionEvent(t, ctx, bEvents, "beta")
	if !stepDown(ev) {
		t.Fatalf("beta after expiry: %+v", ev)
	}
	for ev.Type != zkc.ElectedLeader || ev.Epoch == epochB {
		ev = nextElectionEvent(t, ctx, bEvents, "beta")
		if ev.Type == zkc.NotLeader && !stepDown(ev) {
			t.Fatalf("beta after expiry: %+v", ev)
		}
	}
	if ev.Epoch <= epochB {
		t.Fatalf("beta's new leadership: epoch %d after %d", ev.Epoch, epochB)
	}
	if ok, epoch := b.IsLeader(); !ok || epoch != ev.Epoch {
		t.Fatalf("IsLeader after the event: %v %d, event epoch %d", ok, epoch, ev.Epoch)
	}
	// alpha resigned: no event came for it
	select {
	case ev := <-aEvents:
		t.Fatalf("alpha heard %+v after resigning", ev)
	default:
	}
	b.Close()
	for range bEvents { // closed by Close
	}
	if _, ok := <-b.Events(); ok {
		t.Fatal("a closed election's Events is open")
	}
}
