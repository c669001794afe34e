// Server logs with known answers for servers.go: a rollback of history a
// majority had logged is found, a follower's uncommitted tail dropped
// alone is not, and a digest mismatch is reported.
package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeLogs(t *testing.T, logs map[int][]string) string {
	t.Helper()
	dir := t.TempDir()
	for sid, lines := range logs {
		nd := filepath.Join(dir, "node"+string(rune('0'+sid)))
		if err := os.MkdirAll(nd, 0o755); err != nil {
			t.Fatal(err)
		}
		body := strings.Join(lines, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(nd, "server.log"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	pfx     = "2026-12-05 10:20:"
	elect   = " INFO  [QuorumPeer[myid=%d]:FastLeaderElection@946] - New election. My id = "
	leading = " INFO  [QuorumPeer[myid=2]:Leader@588] - LEADING - LEADER ELECTION TOOK - 3559 MS"
)

func syncLine(sec string, sid, last, peer string) string {
	return pfx + sec + " INFO  [LearnerHandler-/127.0.0.1:1:LearnerHandler@805] - " +
		"Synchronizing with Learner sid: " + sid + " maxCommittedLog=0x" + last +
		" minCommittedLog=0x600000fe7 lastProcessedZxid=0x" + last + " peerLastZxid=0x" + peer
}

func truncLine(sec, sid, to string) string {
	return pfx + sec + " WARN  [QuorumPeer[myid=" + sid + "]:Learner@599] - " +
		"Truncating log to get in sync with the leader 0x" + to
}

// Node 2 took the new epoch with a database at 0x6000011db; nodes 1 and 3
// had logged up to 0x600002321 and 0x600002300 and were truncated.
func TestServerRollbackOfMajorityIsFound(t *testing.T) {
	dir := writeLogs(t, map[int][]string{
		1: {truncLine("35,474", "1", "6000011db")},
		2: {
			pfx + "30,626" + strings.Replace(elect, "%d", "2", 1) + "2, proposed zxid=0x6000011db",
			pfx + "34,186" + leading,
			syncLine("34,970", "3", "6000011db", "600002300"),
			syncLine("35,469", "1", "6000011db", "600002321"),
		},
		3: {truncLine("34,990", "3", "6000011db")},
	})
	rbs, err := serverRollbacks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rbs) != 1 {
		t.Fatalf("want one rollback, got %+v", rbs)
	}
	rb := rbs[0]
	if rb.leader != 2 || rb.from != 0x6000011db || rb.to != 0x600002300 ||
		len(rb.nodes) != 2 || rb.nodes[0] != 1 || rb.nodes[1] != 3 {
		t.Fatalf("wrong rollback %+v", rb)
	}
	// acknowledged creates inside the range, on the history's clock
	at := rb.at.UnixNano()
	ops := []op{
		o("lock-1", "acquire", at-3e9, at-2e9, "ok", record{}, record{Token: 0x600002000}),
		o("lock-2", "acquire", at-3e9, at-2e9, "ok", record{}, record{Token: 0x600000001}),
		o("lock-3", "acquire", at-3e9, at+2e9, "ok", record{}, record{Token: 0x600002001}),
	}
	if n := ackedIn(ops, rb.from, rb.to, 0, at); n != 1 {
		t.Fatalf("want 1 acknowledged zxid in the range, got %d", n)
	}
	c := checkServers(dir, ops, []record{{P: "final", F: "clock", T: 0, WallNs: 1}})
	if len(c.violations) != 1 || len(c.undecided) != 0 {
		t.Fatalf("want one server fault, got %v %v", c.violations, c.undecided)
	}
}

// The killed leader comes back with a proposal nobody else logged: the
// protocol may drop it, and that is no fault of the servers.
func TestServerUncommittedTailIsNotAFault(t *testing.T) {
	dir := writeLogs(t, map[int][]string{
		1: {truncLine("35,474", "1", "600002321")},
		2: {
			pfx + "30,626" + strings.Replace(elect, "%d", "2", 1) + "2, proposed zxid=0x600002321",
			pfx + "34,186" + leading,
			syncLine("34,970", "3", "600002321", "600002321"),
			syncLine("35,469", "1", "600002321", "600002322"),
			// a learner that rejoins later in the term, behind: nothing lost
			syncLine("50,000", "3", "700000040", "700000010"),
		},
		3: {},
	})
	rbs, err := serverRollbacks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rbs) != 0 {
		t.Fatalf("want none, got %+v", rbs)
	}
}

func TestServerDigestMismatchIsReported(t *testing.T) {
	dir := writeLogs(t, map[int][]string{
		1: {pfx + "35,689 ERROR [CommitProcessor:1:DataTree@1818] - First digest mismatch on txn: " +
			"144115954785124359,1796455239,34359738369,1796454600495,5"},
		2: {pfx + "35,000 INFO  [main:ZKDatabase@289] - Snapshot loaded in 1 ms"},
	})
	c := checkDivergence(dir)
	if len(c.violations) != 1 || !strings.Contains(c.violations[0], "node1") ||
		!strings.Contains(c.violations[0], "0x800000001") {
		t.Fatalf("want node1's mismatch at 0x800000001, got %v", c.violations)
	}
	if c := checkDivergence(t.TempDir()); len(c.undecided) != 1 {
		t.Fatalf("no logs must be undecided, got %v", c.undecided)
	}
}
