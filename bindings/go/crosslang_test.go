package zkc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

// C (the zkc program), Python and Go processes add to one counter and take
// turns on one lock while the ensemble's leader is killed and restarted:
// no acknowledged add is lost, none is counted twice, and no two holders
// are ever inside the lock at once (checked with an O_EXCL file).

const crossPy = `
import os, sys, time
import zkc
url, lock_path, counter_path, d, dur = sys.argv[1:6]
ok = unknown = 0
c = zkc.Client(url, session_timeout=10)
lk = c.lock(lock_path)
ctr = c.counter(counter_path)
end = time.monotonic() + float(dur)
while time.monotonic() < end:
    lease = lk.acquire()
    try:
        fd = os.open(os.path.join(d, "inside"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.close(fd)
        os.remove(os.path.join(d, "inside"))
    except FileExistsError:
        open(os.path.join(d, "overlap"), "a").write("python\n")
    try:
        lk.release()
    except zkc.Error:
        pass
    try:
        ctr.add(1)
        ok += 1
    except (zkc.UnknownOutcomeError, zkc.TimeoutError):
        unknown += 1
print(ok, unknown)
c.close()
`

const crossSh = `
end=$((SECONDS + DUR))
ok=0 unknown=0
while [ $SECONDS -lt $end ]; do
	"$ZKC" --url "$URL" lock "$LOCK" -- sh -c 'set -C; if ! : >"$D/inside" 2>/dev/null; then echo c >>"$D/overlap"; fi; rm -f "$D/inside"' >/dev/null 2>&1
	"$ZKC" --url "$URL" counter add "$CNT" 1 >/dev/null 2>&1
	case $? in
	0) ok=$((ok + 1)) ;;
	9) unknown=$((unknown + 1)) ;;
	esac
done
echo "$ok $unknown"
`

func pythonPath() string {
	if p := os.Getenv("ZKC_PYTHONPATH"); p != "" {
		return p
	}
	p, _ := filepath.Abs("../../build/python")
	return p
}

func TestCrossLanguageCounterAndLockUnderLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills an ensemble server")
	}
	needServers(t)
	pyPath := pythonPath()
	if os.Getenv("ZKC_PYTHONPATH") == "" {
		if _, err := os.Stat(filepath.Join(pyPath, "zkc")); err != nil {
			t.Skipf("no Python binding built at %s (set ZKC_PYTHONPATH)", pyPath)
		}
	}
	c := open(t, zkc.WithSessionTimeout(10*time.Second))
	ctx := ctxFor(t, 240*time.Second)
	root := uniquePath(t, "cross")
	defer c.DeleteAll(context.Background(), root)
	lockPath, counterPath := root+"/lock", root+"/counter"
	dir := t.TempDir()
	const dur = 15

	type tally struct {
		name        string
		ok, unknown int
		err         error
	}
	results := make(chan tally, 3)
	run := func(name string, cmd *exec.Cmd) {
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		r := tally{name: name, err: err}
		if err == nil {
			f := strings.Fields(out.String())
			if len(f) != 2 {
				r.err = fmt.Errorf("output %q", out.String())
			} else {
				r.ok, _ = strconv.Atoi(f[0])
				r.unknown, _ = strconv.Atoi(f[1])
			}
		}
		if r.err != nil {
			r.err = fmt.Errorf("%w: %s", r.err, errb.String())
		}
		results <- r
	}
	py := exec.Command("python3", "-c", crossPy, testURL, lockPath, counterPath, dir, strconv.Itoa(dur))
	py.Env = append(os.Environ(), "PYTHONPATH="+pyPath)
	sh := exec.Command("bash", "-c", crossSh)
	sh.Env = append(os.Environ(), "ZKC="+zkcBin, "URL="+testURL, "LOCK="+lockPath, "CNT="+counterPath,
		"D="+dir, "DUR="+strconv.Itoa(dur))
	go run("python", py)
	go run("c", sh)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := tally{name: "go"}
		defer func() { results <- r }()
		l, err := c.NewLock(lockPath, nil)
		if err != nil {
			r.err = err
			return
		}
		defer l.Close()
		k, err := c.NewCounter(counterPath, nil)
		if err != nil {
			r.err = err
			return
		}
		defer k.Close()
		end := time.Now().Add(dur * time.Second)
		for time.Now().Before(end) {
			if _, err := l.Acquire(ctx); err != nil {
				r.err = err
				return
			}
			f, err := os.OpenFile(filepath.Join(dir, "inside"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				os.WriteFile(filepath.Join(dir, "overlap"), []byte("go\n"), 0o600)
			} else {
				f.Close()
				os.Remove(filepath.Join(dir, "inside"))
			}
			_ = l.Release()
			_, err = k.Add(ctx, 1)
			switch {
			case err == nil:
				r.ok++
			case errors.Is(err, zkc.ErrUnknownOutcome) || errors.Is(err, zkc.ErrTimeout):
				r.unknown++
			default:
				r.err = err
				return
			}
		}
	}()

	// the leader dies once all three are at work, and comes back after the
	// counter has grown again without it
	watch, err := c.NewCounter(counterPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	atLeast := func(n int64) func() bool {
		return func() bool {
			v, err := watch.Get(ctx)
			return err == nil && v >= n
		}
	}
	waitUntil(t, 60*time.Second, "adds from the workers", atLeast(20))
	id := leaderID(t)
	if id == "" {
		t.Fatal("no leader")
	}
	ensemble(t, "kill", id)
	before, _ := watch.Get(ctx)
	waitUntil(t, 60*time.Second, "adds while the leader is down", atLeast(before+20))
	ensemble(t, "restart", id, "--timeout", "60")

	var acked, unknown int
	for i := 0; i < 3; i++ {
		r := <-results
		if r.err != nil {
			t.Fatalf("%s worker: %v", r.name, r.err)
		}
		if r.ok == 0 {
			t.Fatalf("%s worker acknowledged no add", r.name)
		}
		t.Logf("%s: %d adds acknowledged, %d unknown", r.name, r.ok, r.unknown)
		acked += r.ok
		unknown += r.unknown
	}
	wg.Wait()
	k, err := c.NewCounter(counterPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	v, err := k.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v < int64(acked) || v > int64(acked+unknown) {
		t.Fatalf("counter %d outside [%d acknowledged, %d with unknown outcomes]", v, acked, acked+unknown)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "overlap")); err == nil {
		t.Fatalf("two holders inside the lock at once: %s", b)
	}
}
