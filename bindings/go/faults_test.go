package zkc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

func leaderID(t testing.TB) string {
	for _, line := range strings.Split(ensemble(t, "status"), "\n") {
		f := strings.Fields(line)
		if len(f) == 5 && f[4] == "leader" {
			return f[0]
		}
	}
	return ""
}

// Every write acknowledged while the leader is killed (and comes back) is
// there afterwards; writes whose outcome is unknown say so.
func TestLeaderKillDuringWritesLosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("kills an ensemble server")
	}
	needServers(t)
	c := open(t, zkc.WithSessionTimeout(10*time.Second))
	ctx := ctxFor(t, 180*time.Second)
	p := uniquePath(t, "leaderkill")
	defer c.DeleteAll(context.Background(), p)
	if _, _, err := c.Create(ctx, p, nil, nil); err != nil {
		t.Fatal(err)
	}
	k, err := c.NewCounter(p+"/counter", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()

	var (
		mu      sync.Mutex
		acked   []string
		unknown int
		adds    int64
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				node := fmt.Sprintf("%s/w%d-%d", p, w, i)
				_, _, err := c.Create(ctx, node, []byte("x"), nil)
				_, aerr := k.Add(ctx, 1)
				mu.Lock()
				switch {
				case err == nil:
					acked = append(acked, node)
				case errors.Is(err, zkc.ErrUnknownOutcome) || errors.Is(err, zkc.ErrTimeout):
					unknown++
				default:
					mu.Unlock()
					t.Errorf("create %s: %v", node, err)
					return
				}
				if aerr == nil {
					adds++
				} else if !errors.Is(aerr, zkc.ErrUnknownOutcome) && !errors.Is(aerr, zkc.ErrTimeout) {
					mu.Unlock()
					t.Errorf("counter add: %v", aerr)
					return
				}
				mu.Unlock()
			}
		}(w)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitUntil(t, 60*time.Second, "writes before the kill", func() bool { return count() >= 20 })
	id := leaderID(t)
	if id == "" {
		t.Fatal("no leader in `zkc ensemble status`")
	}
	ensemble(t, "kill", id)
	before := count()
	waitUntil(t, 120*time.Second, "writes after the kill", func() bool { return count() >= before+20 })
	ensemble(t, "restart", id, "--timeout", "60")
	after := count()
	waitUntil(t, 60*time.Second, "writes after the restart", func() bool { return count() >= after+10 })
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for _, node := range acked {
		if ok, _, err := c.Exists(ctx, node); !ok || err != nil {
			t.Fatalf("acknowledged write %s is missing (%v)", node, err)
		}
	}
	v, err := k.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v < adds {
		t.Fatalf("counter %d < %d acknowledged adds", v, adds)
	}
	t.Logf("%d acknowledged creates present, %d unknown outcomes; counter %d >= %d acknowledged adds",
		len(acked), unknown, v, adds)
}

func openFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// 10,000 clients opened and closed leave no file descriptor, goroutine or
// C client behind.
func TestManyOpenCloseCyclesLeakNothing(t *testing.T) {
	cycles := 10000
	if testing.Short() {
		cycles = 500
	}
	budget := 5 * time.Minute
	ctx := ctxFor(t, budget)
	warm, err := zkc.Open(ctx, testURL)
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	runtime.GC()
	fds0, gs0 := openFDs(t), runtime.NumGoroutine()
	start := time.Now()
	for i := 0; i < cycles; i++ {
		c, err := zkc.Open(ctx, testURL, zkc.WithBackgroundConnect())
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if i%100 == 0 {
			// every hundredth client makes a session and a call first
			if _, _, err := c.Get(ctx, "/"); err != nil {
				t.Fatalf("cycle %d get: %v", i, err)
			}
		}
		c.Close()
		if time.Since(start) > budget {
			t.Fatalf("only %d cycles in %v", i, budget)
		}
	}
	elapsed := time.Since(start)
	waitUntil(t, 30*time.Second, "fds and goroutines back to their start", func() bool {
		return openFDs(t) <= fds0 && runtime.NumGoroutine() <= gs0
	})
	t.Logf("%d open/close cycles in %v (%v each); fds %d, goroutines %d", cycles, elapsed,
		elapsed/time.Duration(cycles), openFDs(t), runtime.NumGoroutine())
}
