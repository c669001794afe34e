// bench/peers/zkcgo - zkc's Go binding in `bench/run peers`: the same
// scenarios, arguments and JSON line as bench/peers/zkc_peer.c and
// bench/peers/gozk, through the idiomatic package (each call one cgo call
// with a context, on the C core's recipes).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

var (
	connect  = flag.String("connect", "", "HOST:PORT[,...]")
	scenario = flag.String("scenario", "", "lock|lock_sticky|handoff|counter|queue|get|pipelined_get|failover|cache")
	clients  = flag.Int("clients", 1, "clients (each its own session)")
	seconds  = flag.Float64("seconds", 3, "measured seconds")
	warmup   = flag.Float64("warmup", 1, "warm-up seconds")
	root     = flag.String("root", "/bench-peers-zkcgo", "root znode")
)

const pipeline = 100

var (
	ctx          = context.Background()
	tStart, tEnd time.Time
	mu           sync.Mutex
	counts       [][]int64
	samples      []float64
)

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "zkcgo_peer %s: %s: %v\n", *scenario, what, err)
	os.Exit(1)
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func open() *zkc.Client {
	c, err := zkc.Open(ctx, "zk://"+*connect, zkc.WithSessionTimeout(10*time.Second))
	if err != nil {
		die("open", err)
	}
	go func() {
		for range c.Events() {
		}
	}()
	return c
}

func record(client int, t0, t1 time.Time) bool {
	if !t1.Before(tEnd) {
		return false
	}
	if t1.Before(tStart) {
		return true
	}
	w := int(t1.Sub(tStart).Seconds())
	mu.Lock()
	if w < len(counts[client]) {
		counts[client][w]++
	}
	if client == 0 {
		samples = append(samples, t1.Sub(t0).Seconds())
	}
	mu.Unlock()
	return true
}

func pct(p float64) float64 {
	if len(samples) == 0 {
		return -1
	}
	return samples[int(p*float64(len(samples)-1))] * 1e6
}

func report(cpu float64, label string) {
	var total int64
	per := make([]int64, *clients)
	minWindow := int64(-1)
	for c := range counts {
		for w, n := range counts[c] {
			per[c] += n
			if w < int(*seconds) && (minWindow < 0 || n < minWindow) {
				minWindow = n
			}
		}
		total += per[c]
	}
	sort.Float64s(samples)
	out := map[string]any{
		"peer": "zkc-go", "scenario": *scenario, "clients": *clients,
		"seconds": *seconds, "ops": total, "rate_per_s": float64(total) / *seconds,
		"p50_us": pct(0.5), "p99_us": pct(0.99), "max_us": pct(1.0), "min_window_ops": minWindow,
		"per_client": per, "cpu_us_per_op": -1.0,
	}
	if total > 0 {
		out["cpu_us_per_op"] = cpu / float64(total) * 1e6
	}
	if label != "" {
		out["implementation"] = label
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func runClients(fn func(client int, c *zkc.Client), label string) {
	conns := make([]*zkc.Client, *clients)
	counts = make([][]int64, *clients)
	for i := range conns {
		conns[i] = open()
		counts[i] = make([]int64, int(*seconds)+1)
	}
	tStart = time.Now().Add(time.Duration(*warmup * float64(time.Second)))
	tEnd = tStart.Add(time.Duration(*seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			fn(i, conns[i])
		}(i)
	}
	time.Sleep(time.Until(tStart))
	cpu0 := cpuSeconds()
	wg.Wait()
	report(cpuSeconds()-cpu0, label)
	for _, c := range conns {
		c.Close()
	}
}

func ensure(c *zkc.Client, path string, data []byte) {
	_, _, err := c.Create(ctx, path, data, &zkc.CreateOptions{Parents: true})
	if err != nil && !errors.Is(err, zkc.ErrNodeExists) {
		die("create "+path, err)
	}
}

func lockLoop(sticky bool) func(int, *zkc.Client) {
	return func(client int, c *zkc.Client) {
		l, err := c.NewLock(*root+"/lock", &zkc.LockOptions{Sticky: sticky})
		if err != nil {
			die("lock open", err)
		}
		defer l.Close()
		for {
			t0 := time.Now()
			if _, err := l.Acquire(ctx); err != nil {
				die("acquire", err)
			}
			if err := l.Release(); err != nil {
				die("release", err)
			}
			if !record(client, t0, time.Now()) {
				return
			}
		}
	}
}

func counterLoop(client int, c *zkc.Client) {
	k, err := c.NewCounter(*root+"/counter", nil)
	if err != nil {
		die("counter open", err)
	}
	defer k.Close()
	for {
		t0 := time.Now()
		if _, err := k.Add(ctx, 1); err != nil {
			die("add", err)
		}
		if !record(client, t0, time.Now()) {
			return
		}
	}
}

func queueLoop(client int, c *zkc.Client) {
	q, err := c.OpenQueue(ctx, fmt.Sprintf("%s/queue-%d", *root, client), &zkc.QueueOptions{Create: true})
	if err != nil {
		die("queue open", err)
	}
	defer q.Close()
	item := []byte("item")
	for {
		t0 := time.Now()
		if _, err := q.Put(ctx, item, zkc.PriorityDefault); err != nil {
			die("put", err)
		}
		if _, err := q.Take(ctx, zkc.TakeDelete); err != nil {
			die("take", err)
		}
		if !record(client, t0, time.Now()) {
			return
		}
	}
}

func getLoop(client int, c *zkc.Client) {
	path := *root + "/node"
	for {
		t0 := time.Now()
		if _, _, err := c.Get(ctx, path); err != nil {
			die("get", err)
		}
		if !record(client, t0, time.Now()) {
			return
		}
	}
}

// pipelinedGetLoop: a Batch of pipeline gets, sent back to back and
// answered in one round trip (one blocking cgo call per batch).
func pipelinedGetLoop(client int, c *zkc.Client) {
	path := *root + "/node"
	b := c.Batch()
	for i := 0; i < pipeline; i++ {
		b.Get(path)
	}
	for {
		t0 := time.Now()
		res, err := b.Run(ctx)
		if err != nil {
			die("batch", err)
		}
		for _, r := range res {
			if r.Err != nil {
				die("get", r.Err)
			}
		}
		t1 := time.Now()
		for i := 0; i < pipeline; i++ {
			if !record(client, t0, t1) {
				return
			}
		}
	}
}

func setLoop(client int, c *zkc.Client) {
	path := *root + "/node"
	data := make([]byte, 100)
	for {
		t0 := time.Now()
		for {
			if _, err := c.Set(ctx, path, data, zkc.AnyVersion); err == nil {
				break
			}
		}
		if !record(client, t0, time.Now()) {
			return
		}
	}
}

func cacheLoop(client int, c *zkc.Client) {
	path := *root + "/node"
	k, err := c.NewCache(path, &zkc.CacheOptions{NodeOnly: true, NoEvents: true})
	if err != nil {
		die("cache open", err)
	}
	defer k.Close()
	if err := k.WaitInitialized(ctx); err != nil {
		die("cache wait", err)
	}
	for {
		t0 := time.Now()
		if _, _, err := k.Get(path); err != nil {
			die("cache get", err)
		}
		if !record(client, t0, time.Now()) {
			return
		}
	}
}

func main() {
	flag.Parse()
	if *connect == "" || *scenario == "" || *clients < 1 || *seconds <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	admin := open()
	switch *scenario {
	case "lock", "handoff":
		ensure(admin, *root, nil)
		runClients(lockLoop(false), "Lock")
	case "lock_sticky":
		ensure(admin, *root, nil)
		runClients(lockLoop(true), "Lock, Sticky")
	case "counter":
		ensure(admin, *root, nil)
		runClients(counterLoop, "Counter")
	case "queue":
		ensure(admin, *root, nil)
		runClients(queueLoop, "Queue, TakeDelete")
	case "failover":
		ensure(admin, *root+"/node", make([]byte, 100))
		runClients(setLoop, "Set (the client's retry)")
	case "get":
		ensure(admin, *root+"/node", make([]byte, 100))
		runClients(getLoop, "")
	case "pipelined_get":
		ensure(admin, *root+"/node", make([]byte, 100))
		runClients(pipelinedGetLoop, "Batch of 100 gets")
	case "cache":
		ensure(admin, *root+"/node", make([]byte, 100))
		runClients(cacheLoop, "Cache.Get (timed alone)")
	default:
		fmt.Fprintf(os.Stderr, "zkcgo_peer: no scenario %q\n", *scenario)
		admin.Close()
		os.Exit(3)
	}
	_ = admin.DeleteAll(ctx, *root)
	admin.Close()
}
