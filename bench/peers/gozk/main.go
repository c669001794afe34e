// bench/peers/gozk - go-zookeeper's side of `bench/run peers`: the same
// scenarios, arguments and JSON line as bench/peers/zkc_peer.c. go-zookeeper
// has a lock recipe (zk.Lock); for the counter and the queue, which it
// lacks, this is the straightforward code on its primitives (labelled
// "straightforward" in the output), and it has no cache.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"
)

var (
	connect  = flag.String("connect", "", "HOST:PORT")
	scenario = flag.String("scenario", "", "lock|handoff|counter|queue|get|pipelined_get")
	clients  = flag.Int("clients", 1, "clients (each its own session)")
	seconds  = flag.Float64("seconds", 3, "measured seconds")
	warmup   = flag.Float64("warmup", 1, "warm-up seconds")
	root     = flag.String("root", "/bench-peers-gozk", "root znode")
)

const pipeline = 100

var (
	tStart, tEnd time.Time
	mu           sync.Mutex
	counts       [][]int64 // [client][window]
	samples      []float64 // client 0 latencies, seconds
)

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "gozk_peer %s: %s: %v\n", *scenario, what, err)
	os.Exit(1)
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func open() *zk.Conn {
	c, ev, err := zk.Connect(strings.Split(*connect, ","), 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		die("connect", err)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				go func() {
					for range ev {
					}
				}()
				return c
			}
		case <-deadline:
			die("connect", errors.New("no session in 30 s"))
		}
	}
}

// record counts an operation that ended at t1 (started at t0); false once
// the measured interval is over.
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

func report(cpu float64, label string, extra map[string]any) {
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
		"peer": "go-zookeeper", "scenario": *scenario, "clients": *clients,
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
	for k, v := range extra {
		out[k] = v
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func runClients(fn func(client int, c *zk.Conn), label string) {
	conns := make([]*zk.Conn, *clients)
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
	report(cpuSeconds()-cpu0, label, nil)
	for _, c := range conns {
		c.Close()
	}
}

func ensure(c *zk.Conn, path string, data []byte) {
	parts := []string{}
	for p := path; p != "/" && p != ""; {
		parts = append([]string{p}, parts...)
		i := len(p) - 1
		for i > 0 && p[i] != '/' {
			i--
		}
		p = p[:i]
	}
	for i, p := range parts {
		d := []byte{}
		if i == len(parts)-1 {
			d = data
		}
		if _, err := c.Create(p, d, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			die("create "+p, err)
		}
	}
}

func lockLoop(client int, c *zk.Conn) {
	l := zk.NewLock(c, *root+"/lock", zk.WorldACL(zk.PermAll))
	for {
		t0 := time.Now()
		if err := l.Lock(); err != nil {
			die("lock", err)
		}
		if err := l.Unlock(); err != nil {
			die("unlock", err)
		}
		if !record(client, t0, time.Now()) {
			return
		}
	}
}

// counterLoop: get, then a set at the version read; a lost race reads again.
func counterLoop(client int, c *zk.Conn) {
	path := *root + "/counter"
	for {
		t0 := time.Now()
		for {
			data, st, err := c.Get(path)
			if err != nil {
				die("get", err)
			}
			var v int64
			if len(data) == 8 {
				for _, b := range data {
					v = v<<8 | int64(b)
				}
			}
			v++
			buf := make([]byte, 8)
			for i := 7; i >= 0; i-- {
				buf[i] = byte(v)
				v >>= 8
			}
			_, err = c.Set(path, buf, st.Version)
			if err == nil {
				break
			}
			if !errors.Is(err, zk.ErrBadVersion) {
				die("set", err)
			}
		}
		if !record(client, t0, time.Now()) {
			return
		}
	}
}

// queueLoop: create a sequential item, list, read the first, delete it.
func queueLoop(client int, c *zk.Conn) {
	dir := fmt.Sprintf("%s/queue-%d", *root, client)
	ensure(c, dir, nil)
	for {
		t0 := time.Now()
		if _, err := c.Create(dir+"/item-", []byte("item"), zk.FlagSequence, zk.WorldACL(zk.PermAll)); err != nil {
			die("put", err)
		}
		for {
			kids, _, err := c.Children(dir)
			if err != nil {
				die("children", err)
			}
			sort.Strings(kids)
			taken := false
			for _, k := range kids {
				if _, _, err := c.Get(dir + "/" + k); err != nil {
					continue
				}
				if err := c.Delete(dir+"/"+k, -1); err == nil {
					taken = true
					break
				}
			}
			if taken {
				break
			}
		}
		if !record(client, t0, time.Now()) {
			return
		}
	}
}

// setLoop (failover): sequential sets, each retried until it succeeds
// while bench/peers/run kills the leader; max_us is the longest wait.
func setLoop(client int, c *zk.Conn) {
	path := *root + "/node"
	data := make([]byte, 100)
	for {
		t0 := time.Now()
		for {
			if _, err := c.Set(path, data, -1); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !record(client, t0, time.Now()) {
			return
		}
	}
}

func getLoop(client int, c *zk.Conn) {
	path := *root + "/node"
	for {
		t0 := time.Now()
		if _, _, err := c.Get(path); err != nil {
			die("get", err)
		}
		if !record(client, t0, time.Now()) {
			return
		}
	}
}

// pipelinedGetLoop: go-zookeeper has no asynchronous API; requests of
// concurrent goroutines share the connection, so pipeline goroutines keep
// that many gets in flight. Each get counts once.
func pipelinedGetLoop(client int, c *zk.Conn) {
	path := *root + "/node"
	for {
		t0 := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, pipeline)
		for i := 0; i < pipeline; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := c.Get(path); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			die("get", err)
		}
		t1 := time.Now()
		for i := 0; i < pipeline; i++ {
			if !record(client, t0, t1) {
				return
			}
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
		runClients(lockLoop, "zk.Lock")
	case "counter":
		ensure(admin, *root+"/counter", make([]byte, 8))
		runClients(counterLoop, "straightforward: get + versioned set")
	case "queue":
		ensure(admin, *root, nil)
		runClients(queueLoop, "straightforward: create, children, get, delete")
	case "failover":
		ensure(admin, *root+"/node", make([]byte, 100))
		runClients(setLoop, "set, retried every 10 ms until it succeeds")
	case "get":
		ensure(admin, *root+"/node", make([]byte, 100))
		runClients(getLoop, "")
	case "pipelined_get":
		ensure(admin, *root+"/node", make([]byte, 100))
		runClients(pipelinedGetLoop, "100 goroutines on one connection")
	default:
		fmt.Fprintf(os.Stderr, "gozk_peer: no scenario %q (go-zookeeper has no cache)\n", *scenario)
		admin.Close()
		os.Exit(3)
	}
	deleteTree(admin, *root)
	admin.Close()
}

func deleteTree(c *zk.Conn, path string) {
	kids, _, err := c.Children(path)
	if err != nil {
		return
	}
	for _, k := range kids {
		deleteTree(c, path+"/"+k)
	}
	c.Delete(path, -1)
}
