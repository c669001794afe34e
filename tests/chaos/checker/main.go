// Command checker reads the histories of one chaos run (the *.jsonl files
// the workers and the runner wrote, docs/chaos.md) and checks them:
// registers and counters for linearizability with Porcupine, the lock's
// and the election's fenced writes, the queue's deliveries, the index's
// verification, the caches' convergence, orphan nodes and the workers'
// exits. It prints a summary table and "N violations" as its last line;
// its exit status is 0 only when there are none and every check decided.
//
//	checker [-timeout 120s] [-expect name,name] [-servers ENSEMBLE_DIR] HISTORY_DIR
//
// With -servers, the servers' logs are read too (servers.go): committed
// transactions the servers themselves dropped, and trees the servers found
// diverged, are reported on lines of their own, apart from the client
// checks, and fail the run as well.
//
// With -expect, the run is one that was broken on purpose: the exit
// status is 0 only if every named check found a violation.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// A record is one line of a history file.
type record struct {
	P      string          `json:"p"`
	Op     int64           `json:"op"`
	T      int64           `json:"t"`
	Type   string          `json:"type"`
	F      string          `json:"f"`
	K      string          `json:"k"`
	V      json.RawMessage `json:"v"`
	Ver    *int32          `json:"ver"`
	NewVer *int32          `json:"newver"`
	Exists *bool           `json:"exists"`
	D      int64           `json:"d"`
	Code   string          `json:"code"`
	Item   string          `json:"item"`
	Name   string          `json:"name"`
	Mode   string          `json:"mode"`
	Inc    string          `json:"inc"`
	Seq    int64           `json:"seq"`
	Token  int64           `json:"token"`
	RTok   int64           `json:"read_token"`
	Issues int64           `json:"issues"`
	N      int64           `json:"n"`
	First  string          `json:"first"`
	Why    string          `json:"why"`
	Worker string          `json:"worker"`
	Status int64           `json:"status"`
	Paths  []string        `json:"paths"`
	WallNs int64           `json:"wall_ns"`
}

// An op pairs an invoke with its completion. Outcome is ok, fail or
// unknown; an invoke that never completed (its process was stopped at the
// end) is unknown.
type op struct {
	proc    string
	f       string
	inv     record
	done    record
	call    int64
	ret     int64
	outcome string
}

type check struct {
	name       string
	violations []string
	undecided  []string
	notes      []string
}

func (c *check) violate(format string, a ...interface{}) {
	c.violations = append(c.violations, fmt.Sprintf(format, a...))
}

func readHistories(dir string) ([]op, []record, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no *.jsonl in %s", dir)
	}
	var ops []op
	var finals []record
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, nil, err
		}
		open := map[int64]*op{}
		var order []int64
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		line := 0
		for sc.Scan() {
			line++
			var r record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				// a process killed mid-line leaves a torn last line
				fmt.Fprintf(os.Stderr, "checker: %s:%d: %v (skipped)\n", f, line, err)
				continue
			}
			if r.P == "final" {
				finals = append(finals, r)
				continue
			}
			switch r.Type {
			case "invoke":
				open[r.Op] = &op{proc: r.P, f: r.F, inv: r, call: r.T}
				order = append(order, r.Op)
			case "ok", "fail", "unknown":
				if o := open[r.Op]; o != nil {
					o.done, o.ret, o.outcome = r, r.T, r.Type
				}
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", f, err)
		}
		for _, id := range order {
			o := open[id]
			if o.outcome == "" {
				o.outcome = "unknown"
				o.ret = math.MaxInt64
			}
			ops = append(ops, *o)
		}
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].call < ops[j].call })
	return ops, finals, nil
}

func main() {
	timeout := flag.Duration("timeout", 120*time.Second, "Porcupine's limit per key")
	expect := flag.String("expect", "", "checks that must find violations (a broken build)")
	servers := flag.String("servers", "", "the ensemble directory (nodeN/server.log) of the run")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: checker [-timeout D] [-expect a,b] [-servers DIR] HISTORY_DIR")
		os.Exit(2)
	}
	ops, finals, err := readHistories(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "checker:", err)
		os.Exit(2)
	}
	checks := []*check{
		checkRegisters(ops, *timeout),
		checkCounters(ops, *timeout),
		checkFenced(ops, "lock", "lock fencing"),
		checkFenced(ops, "elect", "election epochs"),
		checkQueue(ops, finals),
		checkIndex(ops, finals),
		checkCaches(ops),
		checkOrphans(finals),
		checkWorkers(finals),
	}
	var srv []*check
	if *servers != "" {
		srv = []*check{checkServers(*servers, ops, finals), checkDivergence(*servers)}
	}
	os.Exit(report(ops, checks, srv, *expect))
}

func report(ops []op, checks []*check, srv []*check, expect string) int {
	// operations by outcome
	type counts struct{ ok, fail, unknown int }
	byF := map[string]*counts{}
	faults := map[string]*counts{}
	var fnames, knames []string
	for _, o := range ops {
		m, names := byF, &fnames
		if o.proc == "nemesis" {
			m, names = faults, &knames
		}
		c := m[o.f]
		if c == nil {
			c = &counts{}
			m[o.f] = c
			*names = append(*names, o.f)
		}
		switch o.outcome {
		case "ok":
			c.ok++
		case "fail":
			c.fail++
		default:
			c.unknown++
		}
	}
	sort.Strings(fnames)
	sort.Strings(knames)
	fmt.Println("operations        ok    fail unknown")
	var tot counts
	for _, f := range fnames {
		c := byF[f]
		fmt.Printf("  %-12s %7d %7d %7d\n", f, c.ok, c.fail, c.unknown)
		tot.ok, tot.fail, tot.unknown = tot.ok+c.ok, tot.fail+c.fail, tot.unknown+c.unknown
	}
	fmt.Printf("  %-12s %7d %7d %7d\n", "total", tot.ok, tot.fail, tot.unknown)
	fmt.Println("faults         injected  failed")
	nf := 0
	for _, k := range knames {
		c := faults[k]
		fmt.Printf("  %-16s %6d %7d\n", k, c.ok+c.fail+c.unknown, c.fail+c.unknown)
		if k != "heal" {
			nf += c.ok + c.fail + c.unknown
		}
	}
	fmt.Printf("  %-16s %6d\n", "total", nf)
	fmt.Println("checks                      violations  undecided")
	nv, nu := 0, 0
	found := map[string]bool{}
	for _, c := range checks {
		fmt.Printf("  %-26s %9d %10d\n", c.name, len(c.violations), len(c.undecided))
		nv += len(c.violations)
		nu += len(c.undecided)
		if len(c.violations) > 0 {
			found[c.name] = true
		}
	}
	// the servers' own losses: a line apart, never mixed with the client
	// checks' counts
	nr := 0
	if srv != nil {
		fmt.Println("servers (their own logs)         found  undecided")
		for _, c := range srv {
			fmt.Printf("  %-26s %9d %10d\n", c.name, len(c.violations), len(c.undecided))
			nr += len(c.violations)
			nu += len(c.undecided)
		}
		for _, c := range srv {
			for i, v := range c.violations {
				if i == 10 {
					fmt.Printf("SERVER FAULT %s: ... and %d more\n", c.name, len(c.violations)-10)
					break
				}
				fmt.Printf("SERVER FAULT %s: %s\n", c.name, v)
			}
			for _, u := range c.undecided {
				fmt.Printf("UNDECIDED %s: %s\n", c.name, u)
			}
		}
	}
	for _, c := range checks {
		for i, v := range c.violations {
			if i == 10 {
				fmt.Printf("VIOLATION %s: ... and %d more\n", c.name, len(c.violations)-10)
				break
			}
			fmt.Printf("VIOLATION %s: %s\n", c.name, v)
		}
		for _, u := range c.undecided {
			fmt.Printf("UNDECIDED %s: %s\n", c.name, u)
		}
		for _, n := range c.notes {
			fmt.Printf("note %s: %s\n", c.name, n)
		}
	}
	if expect != "" {
		missing := 0
		for _, name := range strings.Split(expect, ",") {
			if found[name] {
				fmt.Printf("expected violations found: %s\n", name)
			} else {
				fmt.Printf("EXPECTED VIOLATIONS NOT FOUND: %s\n", name)
				missing++
			}
		}
		fmt.Printf("%d violations\n", nv)
		if missing > 0 {
			return 1
		}
		return 0
	}
	if nu > 0 {
		fmt.Printf("%d undecided\n", nu)
	}
	if srv != nil {
		fmt.Printf("%d server faults (the servers lost or changed committed history: not zkc's)\n", nr)
	}
	fmt.Printf("%d violations\n", nv)
	if nv > 0 || nu > 0 || nr > 0 {
		return 1
	}
	return 0
}
