package zkc_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The tests run against a real ZooKeeper ensemble: $ZKC_TEST_URL if set
// (and then no fault test can kill its servers unless $ZKC_TEST_ENSEMBLE_DIR
// names its `zkc ensemble` directory), else three servers started here with
// the build tree's `zkc ensemble up` ($ZKC_BIN, default ../../build/zkc).
var (
	testURL string
	ensDir  string
	zkcBin  string
	seq     atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	zkcBin = os.Getenv("ZKC_BIN")
	if zkcBin == "" {
		zkcBin, _ = filepath.Abs("../../build/zkc")
	}
	testURL = os.Getenv("ZKC_TEST_URL")
	ensDir = os.Getenv("ZKC_TEST_ENSEMBLE_DIR")
	if testURL == "" {
		dir, err := os.MkdirTemp("", "zkc-go-ens-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ensDir = dir
		out, err := exec.Command(zkcBin, "ensemble", "up", "--nodes", "3", "--dir", dir).Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "zkc ensemble up: %v\n", err)
			if ee, ok := err.(*exec.ExitError); ok {
				os.Stderr.Write(ee.Stderr)
			}
			return 1
		}
		testURL = strings.TrimSpace(string(bytes.Split(out, []byte("\n"))[0]))
		defer func() {
			// down keeps a directory it did not make: remove it too
			if exec.Command(zkcBin, "ensemble", "down", "--dir", dir).Run() == nil {
				os.RemoveAll(dir)
			}
		}()
	}
	code := m.Run()
	stopTLSEnsemble()
	if code == 0 {
		// every test closed what it opened: no goroutine of ours is left
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	return code
}

// uniquePath is a fresh znode path for one test.
func uniquePath(t testing.TB, name string) string {
	return fmt.Sprintf("/zkc-go-%s-%d-%d-%d", name, os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for delay := time.Millisecond; !cond(); delay = min(delay*2, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(delay)
	}
}

// needServers skips a fault test when the ensemble was given as a bare
// $ZKC_TEST_URL: its servers cannot be killed from here. check.sh (CI)
// never sets it, so there the fault tests always run.
func needServers(t testing.TB) {
	t.Helper()
	if ensDir == "" {
		t.Skip("ZKC_TEST_URL without ZKC_TEST_ENSEMBLE_DIR: no servers to kill")
	}
}

func ensemble(t testing.TB, args ...string) string {
	t.Helper()
	if ensDir == "" {
		t.Fatalf("no ensemble directory: set ZKC_TEST_ENSEMBLE_DIR with ZKC_TEST_URL")
	}
	out, err := exec.Command(zkcBin, append([]string{"ensemble", args[0], "--dir", ensDir}, args[1:]...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("zkc ensemble %v: %v\n%s", args, err, out)
	}
	return string(out)
}
