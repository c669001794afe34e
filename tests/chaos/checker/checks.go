// The checks that need no search: fenced writes of the lock and the
// election, the queue's deliveries, the index, the caches, orphan nodes
// and the workers' exits.
package main

import (
	"fmt"
	"math"
	"sort"
)

// checkFenced: the token-checked register a lock (or a leader) protects.
// Each committed write claims SEQ = the read SEQ + 1 within one
// incarnation of the resource, with the writer's token (lock node czxid
// or leader epoch). Two committed writes with one SEQ mean two holders
// overlapped; a token smaller than the previous write's means a stale
// holder wrote after a newer one; a write seen by the next writer that
// zkc had reported as definitely not applied means a wrong answer.
func checkFenced(ops []op, k, name string) *check {
	c := &check{name: name}
	type w struct {
		proc  string
		token int64
		seq   int64
	}
	type key struct {
		inc string
		seq int64
	}
	okBy := map[key][]w{}
	byInc := map[string][]w{}
	outcomes := map[key]map[int64]string{} // (inc, seq) -> token -> best outcome
	n := 0
	for _, o := range ops {
		if o.f != "fwrite" || o.inv.K != k {
			continue
		}
		kk := key{o.inv.Inc, o.inv.Seq}
		if outcomes[kk] == nil {
			outcomes[kk] = map[int64]string{}
		}
		if prev := outcomes[kk][o.inv.Token]; prev != "ok" && prev != "unknown" {
			outcomes[kk][o.inv.Token] = o.outcome
		}
		if o.outcome != "ok" {
			continue
		}
		n++
		x := w{o.proc, o.inv.Token, o.inv.Seq}
		okBy[kk] = append(okBy[kk], x)
		byInc[o.inv.Inc] = append(byInc[o.inv.Inc], x)
	}
	for kk, ws := range okBy {
		if len(ws) > 1 {
			c.violate("incarnation %s seq %d was written by %d holders at once: %v",
				kk.inc, kk.seq, len(ws), ws)
		}
	}
	for inc, ws := range byInc {
		sort.Slice(ws, func(i, j int) bool { return ws[i].seq < ws[j].seq })
		for i := 1; i < len(ws); i++ {
			if ws[i].token < ws[i-1].token {
				c.violate("incarnation %s: seq %d by %s with token %x after seq %d by %s "+
					"with the larger token %x (a stale holder wrote)", inc, ws[i].seq,
					ws[i].proc, ws[i].token, ws[i-1].seq, ws[i-1].proc, ws[i-1].token)
			}
		}
	}
	// what the next writer read must have been written
	for _, o := range ops {
		if o.f != "fwrite" || o.inv.K != k || o.inv.Seq <= 1 {
			continue
		}
		prev := outcomes[key{o.inv.Inc, o.inv.Seq - 1}]
		if prev == nil {
			continue // written by a write whose invoke is not in the history
		}
		if out, ok := prev[o.inv.RTok]; ok && out == "fail" {
			c.violate("%s read seq %d with token %x, a write zkc had reported as not applied",
				o.proc, o.inv.Seq-1, o.inv.RTok)
		}
	}
	// one holder (or leader) per token, within one history of the
	// ensemble: a wipe starts zxids, and so tokens, again from zero
	type hk struct {
		epoch int
		token int64
	}
	owners := map[hk]string{}
	wl := wipeOps(ops)
	for _, o := range ops {
		if o.f != map[string]string{"lock": "acquire", "elect": "lead"}[k] || o.outcome != "ok" {
			continue
		}
		t := o.done.Token
		if o.f == "lead" {
			t = o.inv.Token
		}
		e := wipeEpoch(wl, o.call, o.ret)
		if e < 0 {
			continue // overlaps a wipe: which history it belongs to is unknown
		}
		if p, ok := owners[hk{e, t}]; ok && p != o.proc {
			c.violate("token %x was held by %s and by %s", t, p, o.proc)
		}
		owners[hk{e, t}] = o.proc
	}
	if n == 0 {
		c.violate("no fenced write committed: the check saw nothing")
	}
	c.notes = append(c.notes, fmt.Sprintf("%d fenced writes committed, %d tokens", n, len(owners)))
	return c
}

// wipeEpoch is the number of wipes (the nemesis's, in wipes) that ended
// before call, or -1 when [call, ret] overlaps a wipe.
func wipeEpoch(wipes []op, call, ret int64) int {
	n := 0
	for _, o := range wipes {
		switch {
		case o.ret < call:
			n++
		case o.call > ret:
		default:
			return -1
		}
	}
	return n
}

func wipeOps(ops []op) []op {
	var w []op
	for _, o := range ops {
		if o.proc == "nemesis" && o.f == "wipe" {
			w = append(w, o)
		}
	}
	return w
}

// checkQueue: every item put (and acknowledged by the put) after the last
// wipe is delivered or still in the queue at the end; no item is consumed
// twice (a delete-mode take, even one whose outcome is unknown, or an
// acked ack-mode take); nothing comes out that nobody put.
func checkQueue(ops []op, finals []record) *check {
	c := &check{name: "queue"}
	lastWipe := int64(math.MinInt64)
	for _, o := range ops {
		if o.proc == "nemesis" && o.f == "wipe" && o.ret > lastWipe {
			lastWipe = o.ret
		}
	}
	putOk := map[string]int64{} // item -> put call time
	putAny := map[string]string{}
	final := map[string]int{}
	maybe := map[string]int{}
	seen := map[string]int{}
	// an ack-mode take is final when its process acks it: the ack (or
	// nack) is that process's next operation
	type pk struct {
		proc string
		op   int64
	}
	byNum := map[pk]*op{}
	// a take whose outcome is unknown may name the node it took without
	// its data: the item is the one put as that node last before the take
	// (names repeat after a wipe)
	type named struct {
		item string
		call int64
	}
	putNamed := map[string][]named{}
	for i := range ops {
		o := &ops[i]
		byNum[pk{o.proc, o.inv.Op}] = o
		if o.f == "put" {
			putAny[o.inv.Item] = o.outcome
			if o.outcome == "ok" {
				putOk[o.inv.Item] = o.call
				if o.done.Name != "" {
					putNamed[o.done.Name] = append(putNamed[o.done.Name], named{o.inv.Item, o.call})
				}
			}
		}
	}
	itemOf := func(o op) string {
		if o.done.Item != "" || o.outcome != "unknown" || o.done.Name == "" {
			return o.done.Item
		}
		it, best := "", int64(math.MinInt64)
		for _, p := range putNamed[o.done.Name] {
			if p.call < o.call && p.call > best {
				it, best = p.item, p.call
			}
		}
		return it
	}
	for _, o := range ops {
		if o.f != "take" {
			continue
		}
		it := itemOf(o)
		if it == "" {
			continue
		}
		seen[it]++
		if o.outcome != "ok" && o.outcome != "unknown" {
			continue
		}
		ackOut := ""
		if next := byNum[pk{o.proc, o.inv.Op + 1}]; next != nil && next.f == "ack" &&
			next.inv.Item == it {
			ackOut = next.outcome
		}
		switch {
		case o.inv.Mode == "delete" && o.outcome == "ok":
			final[it]++
		case o.inv.Mode == "delete":
			maybe[it]++
		case ackOut == "ok":
			final[it]++
		case ackOut == "unknown":
			maybe[it]++
		}
	}
	drained := 0
	for _, r := range finals {
		if r.F == "drain" && r.Item != "" {
			final[r.Item]++
			seen[r.Item]++
			drained++
		}
		if r.F == "drain-end" && r.Type != "ok" {
			c.violate("the final drain of the queue stopped: %s", r.Code)
		}
	}
	for it, n := range final {
		if n > 1 {
			c.violate("item %s was consumed %d times", it, n)
		}
	}
	for it := range seen {
		if out, ok := putAny[it]; !ok {
			c.violate("item %s came out of the queue but nobody put it", it)
		} else if out == "fail" {
			c.violate("item %s came out of the queue but its put had failed", it)
		}
	}
	lost := 0
	for it, call := range putOk {
		if call <= lastWipe {
			continue // the wipe may have taken it
		}
		if final[it]+maybe[it] == 0 {
			lost++
			if lost <= 10 {
				c.violate("item %s was put (ok) and never delivered nor left in the queue "+
					"(taken %d times, not consumed)", it, seen[it])
			}
		}
	}
	if lost > 10 {
		c.violate("... %d lost items in all", lost)
	}
	if len(putOk) == 0 {
		c.violate("no put succeeded: the check saw nothing")
	}
	c.notes = append(c.notes, fmt.Sprintf("%d items put, %d left in the queue at the end",
		len(putOk), drained))
	return c
}

func checkIndex(ops []op, finals []record) *check {
	c := &check{name: "index"}
	verified := false
	for _, r := range finals {
		if r.F != "index-verify" {
			continue
		}
		verified = true
		switch r.Type {
		case "ok":
			if r.Issues > 0 {
				c.violate("verify found %d disagreements between records and index "+
					"(first: %s)", r.Issues, r.First)
			}
			if r.Issues == 0 {
				c.notes = append(c.notes, "verify: records and index agree")
			}
		case "info":
			c.notes = append(c.notes, "no collection at the end (wiped): "+r.Code)
		default:
			c.violate("verify failed: %s", r.Code)
		}
	}
	if !verified {
		c.violate("the runner recorded no verify")
	}
	n := 0
	for _, o := range ops {
		if (o.f == "iput" || o.f == "idel") && o.done.Code == "ZKC_EDATAINCONSISTENCY" {
			c.violate("%s: %s on record %s", o.proc, o.done.Code, o.inv.Item)
		}
		if o.f == "iput" && o.outcome == "ok" {
			n++
		}
	}
	if n == 0 {
		c.violate("no index put succeeded: the check saw nothing")
	}
	return c
}

// checkCaches: after the faults stop and the writers end, every cache
// equals the servers' tree; and a cache never shows a value nobody wrote.
func checkCaches(ops []op) *check {
	c := &check{name: "cache convergence"}
	written := map[string]bool{}
	for _, o := range ops {
		if o.f == "set" || o.f == "create" {
			written[unquote(o.inv.V)] = true
		}
	}
	procs := map[string]bool{}
	converged := map[string]bool{}
	for _, o := range ops {
		switch o.f {
		case "cread":
			procs[o.proc] = true
			if o.done.Exists != nil && *o.done.Exists && !written[unquote(o.done.V)] {
				c.violate("%s read %q from its cache, a value nobody wrote", o.proc,
					unquote(o.done.V))
			}
		case "converge":
			procs[o.proc] = true
			if o.outcome == "ok" {
				converged[o.proc] = true
			} else {
				c.violate("%s did not converge: %s", o.proc, o.done.Why)
			}
		}
	}
	for p := range procs {
		if !converged[p] && len(c.violations) == 0 {
			c.violate("%s recorded no convergence", p)
		}
	}
	if len(procs) == 0 {
		c.violate("no cache process recorded anything")
	}
	return c
}

func checkOrphans(finals []record) *check {
	c := &check{name: "orphan nodes"}
	seen := false
	for _, r := range finals {
		if r.F == "orphans" {
			seen = true
			if r.N > 0 {
				c.violate("%d ephemeral nodes outlived every session: %v", r.N, r.Paths)
			}
		}
	}
	if !seen {
		c.violate("the runner recorded no orphan scan")
	}
	return c
}

func checkWorkers(finals []record) *check {
	c := &check{name: "workers stopped"}
	for _, r := range finals {
		if r.F == "worker-exit" && r.Type != "ok" {
			c.violate("%s did not stop cleanly on SIGTERM (wait status %d)", r.Worker, r.Status)
		}
	}
	return c
}
