// Linearizability of the versioned registers and the counters, checked by
// Porcupine. Operations whose outcome is unknown (a lost reply, a process
// stopped at the end) are given no return time, as Porcupine's
// documentation describes for timed-out calls: the checker may place them
// anywhere after their call, or after everything (where they change
// nothing anyone saw). A wipe of the ensemble is an operation of the
// nemesis that every key's history contains: it empties the register or
// zeroes the counter, concurrently with whatever overlapped it.
package main

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"
)

type regState struct {
	exists bool
	v      string
	ver    int32
}

type regIn struct {
	f   string // get, set, create, wipe
	v   string
	ver int32
}

type regOut struct {
	outcome string // ok, fail, unknown
	code    string
	exists  bool
	v       string
	ver     int32
	newver  int32
}

func regStep(st, in, out interface{}) (bool, interface{}) {
	s, i, o := st.(regState), in.(regIn), out.(regOut)
	switch i.f {
	case "wipe":
		return true, regState{}
	case "get":
		if o.exists != s.exists {
			return false, s
		}
		return !s.exists || (o.v == s.v && o.ver == s.ver), s
	case "set":
		match := s.exists && s.ver == i.ver
		next := regState{true, i.v, i.ver + 1}
		switch {
		case o.outcome == "unknown":
			// applied here if it could be; the checker may also place
			// it after everything, which is "not applied"
			if match {
				return true, next
			}
			return true, s
		case o.outcome == "ok":
			return match && o.newver == i.ver+1, next
		case o.code == "ZKC_EBADVERSION":
			return s.exists && s.ver != i.ver, s
		case o.code == "ZKC_ENONODE":
			return !s.exists, s
		}
		return true, s
	case "create":
		next := regState{true, i.v, 0}
		switch {
		case o.outcome == "unknown":
			if !s.exists {
				return true, next
			}
			return true, s
		case o.outcome == "ok":
			return !s.exists, next
		case o.code == "ZKC_ENODEEXISTS":
			return s.exists, s
		case o.code == "ZKC_ENONODE": // the parent is gone: a wiped tree
			return !s.exists, s
		}
		return true, s
	}
	return false, s
}

func unquote(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if s, err := strconv.Unquote(string(raw)); err == nil {
		return s
	}
	return string(raw)
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// wipes returns the nemesis's wipes as operations for every key.
func wipes(ops []op, in interface{}, out interface{}) []porcupine.Operation {
	var w []porcupine.Operation
	for _, o := range ops {
		if o.proc == "nemesis" && o.f == "wipe" {
			ret := o.ret
			if o.outcome != "ok" {
				ret = math.MaxInt64
			}
			w = append(w, porcupine.Operation{ClientId: 0, Input: in, Call: o.call,
				Output: out, Return: ret})
		}
	}
	return w
}

type clientIds map[string]int

func (c clientIds) id(p string) int {
	if n, ok := c[p]; ok {
		return n
	}
	c[p] = len(c) + 1
	return c[p]
}

func runPorcupine(c *check, model porcupine.Model, byKey map[string][]porcupine.Operation,
	timeout time.Duration) {
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h := byKey[k]
		t0 := time.Now()
		res, _ := porcupine.CheckOperationsVerbose(model, h, timeout)
		took := time.Since(t0).Round(time.Millisecond)
		switch res {
		case porcupine.Illegal:
			c.violate("key %s: the history of %d operations is not linearizable (%v)", k,
				len(h), took)
		case porcupine.Unknown:
			c.undecided = append(c.undecided,
				fmt.Sprintf("key %s: Porcupine did not decide within %v (%d operations)",
					k, timeout, len(h)))
		default:
			c.notes = append(c.notes, fmt.Sprintf("key %s: %d operations linearizable (%v)",
				k, len(h), took))
		}
	}
}

func checkRegisters(ops []op, timeout time.Duration) *check {
	c := &check{name: "register (porcupine)"}
	ids := clientIds{}
	byKey := map[string][]porcupine.Operation{}
	for _, o := range ops {
		if o.proc == "nemesis" || (o.f != "get" && o.f != "set" && o.f != "create") {
			continue
		}
		if o.f == "get" && o.outcome != "ok" {
			continue // a read that failed says nothing
		}
		in := regIn{f: o.f, v: unquote(o.inv.V), ver: deref(o.inv.Ver)}
		out := regOut{outcome: o.outcome, code: o.done.Code, v: unquote(o.done.V),
			ver: deref(o.done.Ver), newver: deref(o.done.NewVer)}
		if o.done.Exists != nil {
			out.exists = *o.done.Exists
		}
		ret := o.ret
		if o.outcome == "unknown" {
			ret = math.MaxInt64
		}
		byKey[o.inv.K] = append(byKey[o.inv.K], porcupine.Operation{ClientId: ids.id(o.proc),
			Input: in, Call: o.call, Output: out, Return: ret})
	}
	w := wipes(ops, regIn{f: "wipe"}, regOut{outcome: "ok"})
	for k := range byKey {
		byKey[k] = append(byKey[k], w...)
	}
	model := porcupine.Model{
		Init: func() interface{} { return regState{} },
		Step: regStep,
		DescribeOperation: func(in, out interface{}) string {
			return fmt.Sprintf("%v -> %v", in, out)
		},
	}
	runPorcupine(c, model, byKey, timeout)
	if len(byKey) == 0 {
		c.violate("no register operations were recorded")
	}
	return c
}

type ctrIn struct {
	f string // add, read, wipe
	d int64
}

type ctrOut struct {
	outcome string
	v       int64
}

func ctrStep(st, in, out interface{}) (bool, interface{}) {
	s, i, o := st.(int64), in.(ctrIn), out.(ctrOut)
	switch i.f {
	case "wipe":
		return true, int64(0)
	case "read":
		return o.v == s, s
	case "add":
		if o.outcome == "unknown" {
			return true, s + i.d
		}
		return o.v == s+i.d, s + i.d
	}
	return false, s
}

func checkCounters(ops []op, timeout time.Duration) *check {
	c := &check{name: "counter (porcupine)"}
	ids := clientIds{}
	byKey := map[string][]porcupine.Operation{}
	for _, o := range ops {
		if o.proc == "nemesis" || (o.f != "add" && o.f != "read") {
			continue
		}
		if o.outcome == "fail" {
			continue // not applied (zkc/counter.h), or a read that failed
		}
		var v int64
		if o.outcome == "ok" {
			v, _ = strconv.ParseInt(string(o.done.V), 10, 64)
		}
		ret := o.ret
		if o.outcome == "unknown" {
			ret = math.MaxInt64
		}
		byKey[o.inv.K] = append(byKey[o.inv.K], porcupine.Operation{ClientId: ids.id(o.proc),
			Input: ctrIn{f: o.f, d: o.inv.D}, Call: o.call,
			Output: ctrOut{outcome: o.outcome, v: v}, Return: ret})
	}
	w := wipes(ops, ctrIn{f: "wipe"}, ctrOut{outcome: "ok"})
	for k := range byKey {
		byKey[k] = append(byKey[k], w...)
	}
	model := porcupine.Model{
		Init: func() interface{} { return int64(0) },
		Step: ctrStep,
		DescribeOperation: func(in, out interface{}) string {
			return fmt.Sprintf("%v -> %v", in, out)
		},
	}
	runPorcupine(c, model, byKey, timeout)
	if len(byKey) == 0 {
		c.violate("no counter operations were recorded")
	}
	return c
}
