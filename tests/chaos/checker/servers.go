package main

// The servers' own account of their history. A chaos run can only blame
// the client for what the servers kept; when the servers themselves drop
// transactions that a majority of them had logged, every client check
// downstream sees the rollback. This file reads the servers' logs
// (ensemble/nodeN/server.log) and finds those rollbacks, so the summary
// can say so on a line of its own. It changes no client check.
//
// How a rollback is found. Each time a node becomes leader it starts from
// the zxid it proposed in its last election (Z0). Each learner that syncs
// with it reports its last zxid P, next to the leader's own last processed
// zxid L at that moment ("Synchronizing with Learner sid: S ...
// lastProcessedZxid=L peerLastZxid=P"). The learner's transactions that
// the leader's history does not hold are dropped by that sync (TRUNC, or
// the snapshot that replaces them):
//
//   - P > L: the learner is ahead of the leader: (L, P] is dropped;
//   - P <= L, P > Z0 and P is of an older epoch than L: the leader's
//     history went on from Z0 in a new epoch: (Z0, P] is dropped.
//
// A transaction logged by a majority of the nodes is committed by the
// protocol's own rule (a quorum acknowledged it), and no later leader may
// lose it. So when, under one leader, the dropped ranges of a majority of
// the nodes overlap, the overlap is committed history the servers lost.
// A range dropped by fewer nodes may hold only proposals that never
// committed, which the protocol allows to disappear; those are not counted.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"
)

var (
	reLogTime  = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) `)
	reElection = regexp.MustCompile(`New election\. My id = (\d+), proposed zxid=0x([0-9a-f]+)`)
	reLeading  = regexp.MustCompile(`Leader@\d+\] - LEADING - LEADER ELECTION TOOK`)
	reSync     = regexp.MustCompile(`Synchronizing with Learner sid: (\d+) maxCommittedLog=0x[0-9a-f]+ ` +
		`minCommittedLog=0x[0-9a-f]+ lastProcessedZxid=0x([0-9a-f]+) peerLastZxid=0x([0-9a-f]+)`)
	reTrunc = regexp.MustCompile(`Truncating log to get in sync with the leader 0x([0-9a-f]+)`)
	// a server compares its tree's digest with the one each transaction
	// carries and logs the first difference: its tree is not the leader's
	reDigest = regexp.MustCompile(`First digest mismatch on txn: -?\d+,-?\d+,(\d+),`)
)

// A divergence is a server's own report that its tree differs from the
// history's (the first digest mismatch of one server process).
type divergence struct {
	sid  int
	at   time.Time
	zxid uint64
}

// serverDivergences returns the digest mismatches the servers logged.
func serverDivergences(dir string) ([]divergence, error) {
	logs, err := filepath.Glob(filepath.Join(dir, "node*", "server.log"))
	if err != nil || len(logs) == 0 {
		return nil, fmt.Errorf("no node*/server.log in %s", dir)
	}
	var out []divergence
	for _, path := range logs {
		sid, err := strconv.Atoi(filepath.Base(filepath.Dir(path))[len("node"):])
		if err != nil {
			continue
		}
		fh, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			m := reDigest.FindStringSubmatch(line)
			tm := reLogTime.FindStringSubmatch(line)
			if m == nil || tm == nil {
				continue
			}
			at, _ := time.ParseInLocation("2006-01-02 15:04:05,000", tm[1], time.Local)
			z, _ := strconv.ParseUint(m[1], 10, 64)
			out = append(out, divergence{sid: sid, at: at, zxid: z})
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out, nil
}

// A drop is one learner's transactions (from, to] that one sync discarded.
type drop struct {
	sid      int
	from, to uint64
	at       time.Time
	trunc    bool // the learner logged "Truncating log"
}

// A rollback is committed history lost under one leader.
type rollback struct {
	leader   int
	at       time.Time // the first sync that dropped it
	from, to uint64    // (from, to] was logged by a majority and dropped
	nodes    []int
	acked    int // distinct zxids in (from, to] acknowledged to a client
}

func hexz(s string) uint64 {
	v, _ := strconv.ParseUint(s, 16, 64)
	return v
}

func epochOf(z uint64) uint64 { return z >> 32 }

// serverDrops reads every nodeN/server.log under dir and returns, per
// leadership (leader sid and its start), the drops of its syncs, and the
// number of nodes.
func serverDrops(dir string) (map[string][]drop, map[string]int, int, error) {
	logs, err := filepath.Glob(filepath.Join(dir, "node*", "server.log"))
	if err != nil || len(logs) == 0 {
		return nil, nil, 0, fmt.Errorf("no node*/server.log in %s", dir)
	}
	terms := map[string][]drop{}
	leaderOf := map[string]int{}
	truncs := map[int][]time.Time{}
	for _, path := range logs {
		sid, err := strconv.Atoi(filepath.Base(filepath.Dir(path))[len("node"):])
		if err != nil {
			continue
		}
		fh, err := os.Open(path)
		if err != nil {
			return nil, nil, 0, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var proposed uint64
		term := "" // the leadership this node holds now, if any
		for sc.Scan() {
			line := sc.Text()
			if m := reElection.FindStringSubmatch(line); m != nil {
				proposed = hexz(m[2])
				term = ""
				continue
			}
			tm := reLogTime.FindStringSubmatch(line)
			if tm == nil {
				continue
			}
			at, err := time.ParseInLocation("2006-01-02 15:04:05,000", tm[1], time.Local)
			if err != nil {
				continue
			}
			if reLeading.MatchString(line) {
				term = fmt.Sprintf("%d@%s", sid, at.Format(time.RFC3339Nano))
				leaderOf[term] = sid
				terms[term] = terms[term][:0]
				// the leader's own start point, kept as a zero-length drop
				terms[term] = append(terms[term], drop{sid: sid, from: proposed, to: proposed, at: at})
				continue
			}
			if m := reTrunc.FindStringSubmatch(line); m != nil {
				truncs[sid] = append(truncs[sid], at)
				continue
			}
			if term == "" {
				continue
			}
			if m := reSync.FindStringSubmatch(line); m != nil {
				s, _ := strconv.Atoi(m[1])
				l, p := hexz(m[2]), hexz(m[3])
				z0 := terms[term][0].from
				d := drop{sid: s, at: at}
				switch {
				case p > l:
					d.from, d.to = l, p
				case p > z0 && epochOf(p) < epochOf(l):
					d.from, d.to = z0, p
				default:
					continue
				}
				terms[term] = append(terms[term], d)
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, nil, 0, fmt.Errorf("%s: %v", path, err)
		}
	}
	// mark the drops the learner confirmed with its own "Truncating log"
	for k, ds := range terms {
		for i := range ds {
			for _, t := range truncs[ds[i].sid] {
				if !t.Before(ds[i].at) && t.Sub(ds[i].at) < 30*time.Second {
					ds[i].trunc = true
				}
			}
		}
		terms[k] = ds
	}
	return terms, leaderOf, len(logs), nil
}

// serverRollbacks finds committed history the servers dropped: under one
// leader, the overlap of the dropped ranges of a majority of the nodes.
func serverRollbacks(dir string) ([]rollback, error) {
	terms, leaderOf, n, err := serverDrops(dir)
	if err != nil {
		return nil, err
	}
	quorum := n/2 + 1
	var out []rollback
	for term, ds := range terms {
		// per node, the widest range it lost under this leader
		last := map[int]drop{}
		for _, d := range ds[1:] {
			if cur, ok := last[d.sid]; !ok || d.to > cur.to {
				last[d.sid] = d
			}
		}
		if len(last) < quorum {
			continue
		}
		var all []drop
		for _, d := range last {
			all = append(all, d)
		}
		// the quorum-th largest end, over the largest start: the range a
		// majority had logged and lost
		sort.Slice(all, func(i, j int) bool { return all[i].to > all[j].to })
		top := all[:quorum]
		rb := rollback{leader: leaderOf[term], from: 0, to: top[quorum-1].to, at: top[0].at}
		for _, d := range top {
			if d.from > rb.from {
				rb.from = d.from
			}
			if d.at.Before(rb.at) {
				rb.at = d.at
			}
			rb.nodes = append(rb.nodes, d.sid)
		}
		if rb.to <= rb.from {
			continue
		}
		sort.Ints(rb.nodes)
		out = append(out, rb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out, nil
}

// ackedIn counts the distinct zxids in (from, to] that a client was told
// were committed (a lock or leader node's czxid, the token an acquire or a
// fenced write reported ok), completed between lo and hi on the history's
// clock. Zero when the history carries no clock record to place the
// rollback on it.
func ackedIn(ops []op, from, to uint64, lo, hi int64) int {
	seen := map[int64]bool{}
	for _, o := range ops {
		if o.outcome != "ok" || o.ret < lo || o.ret > hi {
			continue
		}
		t := o.done.Token
		if t == 0 {
			t = o.inv.Token
		}
		if t > 0 && uint64(t) > from && uint64(t) <= to {
			seen[t] = true
		}
	}
	return len(seen)
}

// checkDivergence reports the servers' own digest mismatches.
func checkDivergence(dir string) *check {
	c := &check{name: "trees diverged (digest)"}
	ds, err := serverDivergences(dir)
	if err != nil {
		c.undecided = append(c.undecided, err.Error())
		return c
	}
	for _, d := range ds {
		c.violate("node%d at %s: its tree's digest differs from the one transaction 0x%x carries",
			d.sid, d.at.Format("15:04:05.000"), d.zxid)
	}
	return c
}

// checkServers reports the rollbacks found in the servers' logs, with the
// acknowledged transactions among them, as a line of the summary of its
// own (not a client check).
func checkServers(dir string, ops []op, finals []record) *check {
	c := &check{name: "committed txns dropped"}
	rbs, err := serverRollbacks(dir)
	if err != nil {
		c.undecided = append(c.undecided, err.Error())
		return c
	}
	// the runner records its two clocks once, so server log times can be
	// placed on the histories' monotonic clock
	var off int64
	haveClock := false
	for _, r := range finals {
		if r.F == "clock" && r.WallNs > 0 {
			off, haveClock = r.WallNs-r.T, true
		}
	}
	// a rollback's transactions were logged after the last wipe before it
	var wipes []int64
	for _, o := range ops {
		if o.proc == "nemesis" && o.f == "wipe" {
			wipes = append(wipes, o.ret)
		}
	}
	for _, rb := range rbs {
		acked := "unknown (no clock record)"
		if haveClock {
			hi := rb.at.UnixNano() - off
			lo := int64(0)
			for _, w := range wipes {
				if w < hi && w > lo {
					lo = w
				}
			}
			acked = strconv.Itoa(ackedIn(ops, rb.from, rb.to, lo, hi))
		}
		c.violate("leader node%d at %s dropped zxids 0x%x..0x%x (%d transactions) that nodes %v "+
			"had logged (a majority: committed); acknowledged to clients among them: %s",
			rb.leader, rb.at.Format("15:04:05.000"), rb.from+1, rb.to, rb.to-rb.from, rb.nodes, acked)
	}
	return c
}
