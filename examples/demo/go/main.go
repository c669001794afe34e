// Command worker is the demo's worker in Go (examples/demo/worker.c and
// worker.py are the same worker in C and Python; docs/demo.md describes
// what they share and why each step is safe under faults).
//
//	worker -url URL -root /zkc-demo -name go-1 -jobs 300 [-work-ms 80] [-break]
//
// It registers as an instance of the service ROOT/workers, joins the
// election ROOT/election (the leader coordinates: it queues the jobs and
// says when all are done), takes jobs from the queue ROOT/jobs
// (at-least-once), and records each result under the lock ROOT/lock in the
// index ROOT/results, counted by the counter ROOT/done. Each line printed
// is one event.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

const lang = "go"

var outMu sync.Mutex

func say(format string, args ...any) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Printf(format+"\n", args...)
}

// collatzSteps is the job's "work": the number of Collatz steps from x
// down to 1.
func collatzSteps(x int64) int {
	n := 0
	for x != 1 {
		if x%2 == 0 {
			x /= 2
		} else {
			x = 3*x + 1
		}
		n++
	}
	return n
}

type worker struct {
	root, name   string
	jobs, workMs int
	brk, broken  bool
	coordinator  bool
	lockLost     atomic.Bool // set by the lock's events, cleared at each acquire
	done         int
	c            *zkc.Client
	reg          *zkc.Registration
	election     *zkc.Election
	queue        *zkc.Queue
	counter      *zkc.Counter
	lock         *zkc.Lock
	index        *zkc.Index
}

func (w *worker) path(leaf string) string { return w.root + "/" + leaf }

func main() {
	url := flag.String("url", os.Getenv("ZKC_URL"), "the ensemble")
	w := &worker{}
	flag.StringVar(&w.root, "root", "/zkc-demo", "znode under which everything lives")
	flag.StringVar(&w.name, "name", fmt.Sprintf("go-%d", os.Getpid()), "this worker's name")
	flag.IntVar(&w.jobs, "jobs", 0, "number of jobs in the run")
	flag.IntVar(&w.workMs, "work-ms", 80, "simulated work per job")
	flag.BoolVar(&w.brk, "break", false, "drop one job (to prove the demo's summary fails)")
	flag.Parse()
	if w.jobs <= 0 {
		fmt.Fprintln(os.Stderr, "worker: -jobs N is required")
		os.Exit(2)
	}
	ctx := context.Background()
	err := w.open(ctx, *url)
	if err == nil {
		err = w.run(ctx)
	}
	w.close(ctx)
	if err != nil {
		say("failed: %v", err)
		os.Exit(1)
	}
}

// ------------------------------------------------------------ setup

func (w *worker) open(ctx context.Context, url string) error {
	var err error
	if w.c, err = zkc.Open(ctx, url, zkc.WithSessionTimeout(10*time.Second)); err != nil {
		return err
	}
	go func() {
		for ev := range w.c.Events() {
			if ev.Type == zkc.EventState {
				say("session %v", ev.State)
			}
		}
	}()
	meta := fmt.Sprintf(`{"lang": "go", "pid": %d}`, os.Getpid())
	if w.reg, err = w.c.Register(ctx, w.path("workers"), zkc.Instance{
		ID: w.name, Address: "127.0.0.1", Metadata: []byte(meta)}); err != nil {
		return err
	}
	if w.election, err = w.c.NewElection(w.path("election"), w.name, nil); err != nil {
		return err
	}
	if err = w.election.Join(); err != nil {
		return err
	}
	if w.queue, err = w.c.OpenQueue(ctx, w.path("jobs"), &zkc.QueueOptions{Create: true}); err != nil {
		return err
	}
	if w.counter, err = w.c.NewCounter(w.path("done"), nil); err != nil {
		return err
	}
	if w.lock, err = w.c.NewLock(w.path("lock"), nil); err != nil {
		return err
	}
	go func() {
		for ev := range w.lock.Events() {
			say("lock %v", ev)
			if ev == zkc.LockLost {
				w.lockLost.Store(true)
			}
		}
	}()
	err = w.c.CreateIndex(ctx, w.path("results"), zkc.IndexField{Name: "worker"},
		zkc.IndexField{Name: "lang"}, zkc.IndexField{Name: "n", Unique: true})
	if err != nil && !errors.Is(err, zkc.ErrNodeExists) {
		return err
	}
	if w.index, err = w.c.OpenIndex(ctx, w.path("results"), nil); err != nil {
		return err
	}
	for _, leaf := range []string{"steps", "violations", "register"} {
		if _, _, err = w.c.Create(ctx, w.path(leaf), nil, nil); err != nil && !errors.Is(err, zkc.ErrNodeExists) {
			return err
		}
	}
	return nil
}

func (w *worker) close(ctx context.Context) {
	if w.index != nil {
		_ = w.index.Close()
	}
	if w.lock != nil {
		_ = w.lock.Close()
	}
	if w.counter != nil {
		_ = w.counter.Close()
	}
	if w.queue != nil {
		_ = w.queue.Close()
	}
	if w.election != nil {
		_ = w.election.Close()
	}
	if w.reg != nil {
		_ = w.reg.Unregister(ctx)
		_ = w.reg.Close()
	}
	if w.c != nil {
		_ = w.c.Close()
	}
}

// ------------------------------------------------------------ coordinator

// queued is how many jobs ROOT/plan says are queued ("QUEUED of JOBS").
func (w *worker) queued(ctx context.Context) int {
	data, _, err := w.c.Get(ctx, w.path("plan"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.Fields(string(data) + " 0")[0])
	return n
}

// fill queues jobs [queued, N), recording progress in ROOT/plan after each
// batch. A coordinator that dies mid-batch leaves part of it queued; the
// next queues it again: a duplicate is harmless, as a job whose result is
// recorded is acked without being done again.
func (w *worker) fill(ctx context.Context) error {
	from := w.queued(ctx)
	if from >= w.jobs {
		return nil
	}
	for i := from; i < w.jobs; i++ {
		if _, err := w.queue.Put(ctx, []byte(strconv.Itoa(i)), zkc.PriorityDefault); err != nil {
			return err
		}
		if (i+1)%50 == 0 || i+1 == w.jobs {
			plan := []byte(fmt.Sprintf("%d of %d", i+1, w.jobs))
			_, err := w.c.Set(ctx, w.path("plan"), plan, zkc.AnyVersion)
			if errors.Is(err, zkc.ErrNoNode) {
				_, _, err = w.c.Create(ctx, w.path("plan"), plan, nil)
			}
			if err != nil {
				return err
			}
		}
	}
	say("queued jobs %d..%d", from, w.jobs-1)
	return nil
}

func (w *worker) maybeFinish(ctx context.Context) {
	if w.queued(ctx) < w.jobs {
		return
	}
	if n, _, err := w.queue.Size(ctx); err != nil || n != 0 {
		return
	}
	if _, _, err := w.c.Create(ctx, w.path("finished"), []byte(w.name), nil); err == nil {
		say("all jobs acked: finished")
	}
}

// ------------------------------------------------------------ the step

func (w *worker) violation(ctx context.Context, what string) {
	say("VIOLATION %s", what)
	_, _, _ = w.c.Create(ctx, w.path("violations/v-"), []byte(what),
		&zkc.CreateOptions{Mode: zkc.PersistentSequential})
}

// enter proves the lock: an ephemeral node that exists only while someone
// is in the critical section. Finding another's means two holders.
func (w *worker) enter(ctx context.Context) {
	_, _, err := w.c.Create(ctx, w.path("holder"), []byte(w.name), &zkc.CreateOptions{Mode: zkc.Ephemeral})
	if !errors.Is(err, zkc.ErrNodeExists) {
		return
	}
	other, st, err := w.c.Get(ctx, w.path("holder"))
	if err == nil && st.EphemeralOwner != w.c.SessionID() {
		w.violation(ctx, fmt.Sprintf("%s entered while %s held the lock", w.name, other))
	}
}

func (w *worker) leave(ctx context.Context) {
	ok, st, err := w.c.Exists(ctx, w.path("holder"))
	if err == nil && ok && st.EphemeralOwner == w.c.SessionID() {
		_ = w.c.Delete(ctx, w.path("holder"), st.Version)
	}
}

func (w *worker) hasRecord(ctx context.Context, job string) (bool, error) {
	_, err := w.index.Get(ctx, job, &zkc.ReadOptions{Server: true})
	if errors.Is(err, zkc.ErrNoNode) {
		return false, nil
	}
	return err == nil, err
}

// parseRegister reads the register, "TOKEN JOB WORKER": the fencing token
// of the last lock holder that wrote it, and the job it was recording.
func parseRegister(data []byte) (int64, string) {
	f := strings.Fields(string(data))
	if len(f) != 3 {
		return 0, ""
	}
	t, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, ""
	}
	return t, f[1]
}

type outcome int

const (
	done outcome = iota
	lost
	failed
	again
)

// countRecorded counts every result that is recorded but not yet counted
// and returns the counter. Each result is recorded as the (counter+1)-th
// and the count positions are a unique field, so at most one such record
// exists: the one whose worker stopped between recording and counting.
func (w *worker) countRecorded(ctx context.Context) (int64, error) {
	c, err := w.counter.Get(ctx)
	if err != nil {
		return 0, err
	}
	for {
		hits, err := w.index.Find(ctx, "n", fmt.Sprintf("%08d", c+1), &zkc.ReadOptions{Server: true})
		if err != nil || len(hits) == 0 {
			return c, err
		}
		ok, cur, err := w.counter.CompareAndSet(ctx, c, c+1)
		if err != nil {
			return 0, err
		}
		if ok {
			say("counted %s, recorded by a worker that stopped before counting it", hits[0].ID)
			cur = c + 1
		}
		c = cur
	}
}

// stepOnce is one pass of the step; again asks for another.
func (w *worker) stepOnce(ctx context.Context, job, result string, token int64) outcome {
	data, st, err := w.c.Get(ctx, w.path("register"))
	if err != nil {
		say("read register: %v", err)
		return again
	}
	rToken, rJob := parseRegister(data)
	if rToken > token {
		say("fenced off: my token %d is older than the register's %d", token, rToken)
		return lost
	}
	c, err := w.countRecorded(ctx)
	if err != nil {
		say("count: %v", err)
		return again
	}
	if has, err := w.hasRecord(ctx, job); err != nil {
		return again
	} else if has {
		return done
	}
	if rToken != token || rJob != job {
		// the token-checked register and the step log, written only
		// while this lock node exists (a fenced transaction)
		entry := []byte(fmt.Sprintf("%d %s %s", token, job, w.name))
		_, err := w.lock.Fence().
			Set(w.path("register"), entry, st.Version).
			Create(w.path("steps/s-"), entry, zkc.PersistentSequential).
			Commit(ctx)
		if errors.Is(err, zkc.ErrBadVersion) {
			// the guard passed (this lock node exists) yet someone wrote
			// the register since it was read: two holders at once
			w.violation(ctx, w.name+": the register changed under the lock")
		}
		if err != nil {
			say("write register: %v", err)
			return again
		}
	}
	fields := map[string]string{"worker": w.name, "lang": lang, "n": fmt.Sprintf("%08d", c+1)}
	if err := w.index.Put(ctx, job, []byte(result), fields, &zkc.PutOptions{Create: true}); err != nil {
		say("index put: %v", err)
		return again
	}
	if ok, _, err := w.counter.CompareAndSet(ctx, c, c+1); err != nil || !ok {
		return again
	}
	return done
}

// step records the job's result and counts it, exactly once however often
// it runs (a retry, or another worker redoing the job of one that died).
func (w *worker) step(ctx context.Context, job, result string, token int64) outcome {
	for i := 0; i < 30; i++ {
		if o := w.stepOnce(ctx, job, result, token); o != again {
			return o
		}
		if w.lockLost.Load() {
			return lost
		}
		time.Sleep(200 * time.Millisecond)
	}
	return failed
}

// ------------------------------------------------------------ main loop

func (w *worker) work(ctx context.Context, it *zkc.Item) {
	i, _ := strconv.Atoi(string(it.Data))
	job := fmt.Sprintf("job-%05d", i)
	result := strconv.Itoa(collatzSteps(1000000 + int64(i)))
	time.Sleep(time.Duration(w.workMs/2+rand.Intn(w.workMs+1)) * time.Millisecond)
	if w.brk && !w.broken {
		w.broken = true
		say("dropping %s without recording it (--break)", job)
		_ = w.queue.Ack(ctx, it)
		return
	}
	actx, cancel := context.WithTimeout(ctx, time.Minute)
	lease, err := w.lock.Acquire(actx)
	cancel()
	if err != nil {
		say("lock acquire: %v", err)
		_ = w.queue.Return(ctx, it)
		return
	}
	w.lockLost.Store(false)
	w.enter(ctx)
	o := w.step(ctx, job, result, lease.Token)
	w.leave(ctx)
	_ = w.lock.Release()
	if o == done {
		if err := w.queue.Ack(ctx, it); err != nil {
			say("ack: %v", err)
		} else {
			w.done++
		}
		return
	}
	what := "failed"
	if o == lost {
		what = "lock lost"
	}
	say("%s: %s; giving it back", job, what)
	_ = w.queue.Return(ctx, it)
}

func (w *worker) run(ctx context.Context) error {
	say("ready (pid %d, session 0x%x)", os.Getpid(), w.c.SessionID())
	for {
		if leads, epoch := w.election.IsLeader(); leads != w.coordinator {
			w.coordinator = leads
			if leads {
				say("elected coordinator (epoch %d)", epoch)
			} else {
				say("no longer the coordinator")
			}
		}
		if w.coordinator {
			if err := w.fill(ctx); err != nil {
				say("fill: %v", err)
			}
		}
		tctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		it, err := w.queue.Take(tctx, zkc.TakeAck)
		cancel()
		if err == nil {
			w.work(ctx, it)
			continue
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			say("take: %v", err)
		}
		if w.coordinator {
			w.maybeFinish(ctx)
		}
		if ok, _, _ := w.c.Exists(ctx, w.path("finished")); ok {
			break
		}
	}
	say("exiting: %d jobs done here", w.done)
	return nil
}
