// Small histories with known answers, so each check is seen to pass a
// correct history and fail a wrong one.
package main

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func i32(v int32) *int32 { return &v }
func bp(v bool) *bool    { return &v }

func jv(v interface{}) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// o builds a completed op: call and return times, outcome, invoke and
// completion fields.
func o(p, f string, call, ret int64, outcome string, inv, done record) op {
	inv.F, done.F = f, f
	if outcome == "unknown" {
		ret = math.MaxInt64
	}
	return op{proc: p, f: f, inv: inv, done: done, call: call, ret: ret, outcome: outcome}
}

func TestRegisterStaleReadIsNotLinearizable(t *testing.T) {
	ops := []op{
		o("a", "create", 0, 1, "ok", record{K: "r", V: jv("x")}, record{}),
		o("a", "set", 2, 3, "ok", record{K: "r", V: jv("y"), Ver: i32(0)}, record{NewVer: i32(1)}),
		// begins after the set returned, yet reads the older value
		o("b", "get", 4, 5, "ok", record{K: "r"},
			record{Exists: bp(true), V: jv("x"), Ver: i32(0)}),
	}
	if c := checkRegisters(ops, 10*time.Second); len(c.violations) != 1 {
		t.Fatalf("want one violation, got %v", c.violations)
	}
	ops[2].done = record{Exists: bp(true), V: jv("y"), Ver: i32(1)}
	if c := checkRegisters(ops, 10*time.Second); len(c.violations) != 0 {
		t.Fatalf("want none, got %v", c.violations)
	}
}

func TestRegisterUnknownWriteMaySurface(t *testing.T) {
	ops := []op{
		o("a", "create", 0, 1, "ok", record{K: "r", V: jv("x")}, record{}),
		o("a", "set", 2, 0, "unknown", record{K: "r", V: jv("y"), Ver: i32(0)}, record{}),
		o("b", "get", 10, 11, "ok", record{K: "r"},
			record{Exists: bp(true), V: jv("y"), Ver: i32(1)}),
		o("b", "get", 12, 13, "ok", record{K: "r"},
			record{Exists: bp(true), V: jv("y"), Ver: i32(1)}),
	}
	if c := checkRegisters(ops, 10*time.Second); len(c.violations) != 0 {
		t.Fatalf("an unknown write seen later is legal: %v", c.violations)
	}
	// a refusal for a version that did match is not
	ops = append(ops, o("b", "set", 14, 15, "fail", record{K: "r", V: jv("z"), Ver: i32(1)},
		record{Code: "ZKC_EBADVERSION"}))
	if c := checkRegisters(ops, 10*time.Second); len(c.violations) != 1 {
		t.Fatalf("want one violation, got %v", c.violations)
	}
}

func TestCounterLostUpdateAndWipe(t *testing.T) {
	ops := []op{
		o("a", "add", 0, 1, "ok", record{K: "c", D: 2}, record{V: jv(2)}),
		o("b", "add", 2, 3, "ok", record{K: "c", D: 3}, record{V: jv(5)}),
		{proc: "nemesis", f: "wipe", call: 4, ret: 5, outcome: "ok"},
		o("a", "read", 6, 7, "ok", record{K: "c"}, record{V: jv(0)}),
		o("a", "add", 8, 9, "ok", record{K: "c", D: 1}, record{V: jv(1)}),
	}
	if c := checkCounters(ops, 10*time.Second); len(c.violations) != 0 {
		t.Fatalf("want none, got %v", c.violations)
	}
	// b's add computed from a stale value: a lost update
	ops[1].done = record{F: "add", V: jv(3)}
	if c := checkCounters(ops, 10*time.Second); len(c.violations) != 1 {
		t.Fatalf("want one violation, got %v", c.violations)
	}
}

func fw(p string, call int64, inc string, seq, token, rtok int64, outcome string) op {
	return o(p, "fwrite", call, call+1, outcome,
		record{K: "lock", Inc: inc, Seq: seq, Token: token, RTok: rtok}, record{})
}

func TestFencedWrites(t *testing.T) {
	ops := []op{
		fw("a", 0, "i", 1, 10, 0, "ok"),
		fw("b", 2, "i", 2, 11, 10, "ok"),
		fw("a", 4, "i", 3, 12, 11, "ok"),
	}
	if c := checkFenced(ops, "lock", "lock fencing"); len(c.violations) != 0 {
		t.Fatalf("want none, got %v", c.violations)
	}
	overlap := append(ops, fw("c", 5, "i", 3, 13, 11, "ok"))
	if c := checkFenced(overlap, "lock", "lock fencing"); len(c.violations) == 0 {
		t.Fatal("two writes of seq 3 must be a violation")
	}
	stale := append(ops, fw("c", 6, "i", 4, 9, 12, "ok"))
	if c := checkFenced(stale, "lock", "lock fencing"); len(c.violations) == 0 {
		t.Fatal("a smaller token after a larger one must be a violation")
	}
	lied := []op{fw("a", 0, "i", 1, 10, 0, "ok"), fw("b", 2, "i", 2, 11, 10, "fail"),
		fw("c", 4, "i", 3, 12, 11, "ok")}
	if c := checkFenced(lied, "lock", "lock fencing"); len(c.violations) == 0 {
		t.Fatal("a write reported as not applied and then read must be a violation")
	}
}

func TestQueueDeliveries(t *testing.T) {
	ops := []op{
		o("p", "put", 0, 1, "ok", record{Item: "x"}, record{}),
		o("p", "put", 2, 3, "ok", record{Item: "y"}, record{}),
		o("c", "take", 4, 5, "ok", record{Mode: "ack", Op: 1}, record{Item: "x"}),
		o("c", "ack", 6, 7, "ok", record{Item: "x", Op: 2}, record{}),
	}
	finals := []record{{F: "drain", Item: "y"}, {F: "drain-end", Type: "ok"}}
	if c := checkQueue(ops, finals); len(c.violations) != 0 {
		t.Fatalf("want none, got %v", c.violations)
	}
	// x acked, and then still in the queue at the end
	twice := append(finals, record{F: "drain", Item: "x"})
	if c := checkQueue(ops, twice); len(c.violations) != 1 {
		t.Fatalf("want one violation, got %v", c.violations)
	}
	// y put and never seen again
	if c := checkQueue(ops, finals[1:]); len(c.violations) != 1 {
		t.Fatalf("want one violation, got %v", c.violations)
	}
}

// A delete-mode take whose outcome is unknown reports the node it took but
// not its data: the item put as that node (the last put of that name
// before the take) may have been consumed, so it is not lost; an item put
// as another node still is.
func TestQueueUnknownTakeByName(t *testing.T) {
	ops := []op{
		o("p", "put", 0, 1, "ok", record{Item: "old"}, record{Name: "entries/entry-000-0000000001"}),
		o("n", "wipe", 2, 3, "ok", record{}, record{}),
		o("p", "put", 4, 5, "ok", record{Item: "x"}, record{Name: "entries/entry-000-0000000001"}),
		o("p", "put", 6, 7, "ok", record{Item: "y"}, record{Name: "entries/entry-000-0000000002"}),
		o("c", "take", 8, 0, "unknown", record{Mode: "delete", Op: 1},
			record{Name: "entries/entry-000-0000000001"}),
	}
	ops[1].proc = "nemesis"
	finals := []record{{F: "drain", Item: "y"}, {F: "drain-end", Type: "ok"}}
	if c := checkQueue(ops, finals); len(c.violations) != 0 {
		t.Fatalf("want none, got %v", c.violations)
	}
	// the take named y's node instead: x is lost
	ops[4].done.Name = "entries/entry-000-0000000002"
	if c := checkQueue(ops, finals); len(c.violations) != 1 {
		t.Fatalf("want x lost, got %v", c.violations)
	}
}
