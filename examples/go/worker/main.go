// Command worker is a small zkc service: it takes jobs from a queue
// (at-least-once, acked after the work), counts them in a replicated
// counter, and serialises one step of each job with a lock whose fencing
// token guards the write it makes. SIGINT or SIGTERM stops it cleanly:
// a blocked take or lock acquire is canceled and leaves nothing behind.
//
//	ZKC_URL=zk://127.0.0.1:2181 go run ./worker -root /demo -jobs 5
//
// With -jobs N it first puts N jobs itself, then works until the queue is
// empty for -idle, so it also runs as a self-contained demo.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

func main() {
	root := flag.String("root", "/zkc-go-worker", "znode under which the queue, counter and lock live")
	jobs := flag.Int("jobs", 0, "put this many jobs first")
	idle := flag.Duration("idle", 0, "stop after the queue stays empty this long (0: run until signalled)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv("ZKC_URL"), *root, *jobs, *idle); err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

func run(ctx context.Context, url, root string, jobs int, idle time.Duration) error {
	c, err := zkc.Open(ctx, url, zkc.WithSessionTimeout(10*time.Second))
	if err != nil {
		return err
	}
	defer c.Close()
	go func() {
		for ev := range c.Events() {
			if ev.Type == zkc.EventState {
				log.Printf("connection %v", ev.State)
			}
		}
	}()

	q, err := c.OpenQueue(ctx, root+"/jobs", &zkc.QueueOptions{Create: true})
	if err != nil {
		return err
	}
	done, err := c.NewCounter(root+"/done", nil)
	if err != nil {
		return err
	}
	lock, err := c.NewLock(root+"/lock", nil)
	if err != nil {
		return err
	}
	for i := 0; i < jobs; i++ {
		if _, err := q.Put(ctx, []byte(fmt.Sprintf("job-%d", i)), zkc.PriorityDefault); err != nil {
			return err
		}
	}

	for {
		tctx, cancel := ctx, context.CancelFunc(func() {})
		if idle > 0 {
			tctx, cancel = context.WithTimeout(ctx, idle)
		}
		it, err := q.Take(tctx, zkc.TakeAck)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			n, _ := done.Get(ctx)
			log.Printf("queue idle for %v; %d jobs done in all", idle, n)
			return nil
		}
		if err != nil {
			return err
		}
		if err := work(ctx, c, lock, root, it); err != nil {
			_ = q.Return(context.Background(), it) // someone else takes it
			return err
		}
		if err := q.Ack(ctx, it); err != nil {
			return err
		}
		n, err := done.Add(ctx, 1)
		if err != nil {
			return err
		}
		log.Printf("%s done (%d in all)", it.Data, n)
	}
}

// work records the job as the last one done, under the lock, in a fenced
// transaction: if the lock were lost meanwhile, nothing would be written.
func work(ctx context.Context, c *zkc.Client, lock *zkc.Lock, root string, it *zkc.Item) error {
	lease, err := lock.Acquire(ctx)
	if err != nil {
		return err
	}
	defer lock.Release()
	last := root + "/last"
	if _, _, err := c.Create(ctx, last, nil, nil); err != nil && !errors.Is(err, zkc.ErrNodeExists) {
		return err
	}
	msg := fmt.Sprintf("%s token=%d", it.Data, lease.Token)
	_, err = lock.Fence().Set(last, []byte(msg), zkc.AnyVersion).Commit(ctx)
	return err
}
