package zkc

import (
	"context"
	"os"
	"sync"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// eventPump feeds a recipe handle's Events channel from its C event queue
// (a lock's, an election's): the first events call starts one goroutine
// that waits on the queue's file descriptor and a stop pipe, drains the
// queue into the channel, and ends when stop writes to the pipe or the
// handle's scope ends. No C thread calls into Go.
type eventPump[T any] struct {
	once sync.Once
	ch   chan T
	stop *os.File // write end of the stop pipe; nil: no goroutine
	done chan struct{}
}

// events returns the channel, starting the goroutine on the first call
// while the handle is open: fd gives the C queue's file descriptor, and
// open, called on the goroutine, gives next (takes one event from the C
// queue; false when it is empty) and free (may be nil; runs when the
// goroutine ends). A closed channel when the handle is closed.
func (p *eventPump[T]) events(g *guard, fd func() int, open func() (next func() (T, bool), free func())) <-chan T {
	if !g.enter() {
		ch := make(chan T)
		close(ch)
		return ch
	}
	defer g.mu.RUnlock()
	p.once.Do(func() {
		p.ch = make(chan T, 16)
		r, w, err := os.Pipe()
		if err != nil {
			close(p.ch)
			return
		}
		p.stop = w
		p.done = make(chan struct{})
		go p.run(g.scope, fd(), open, r)
	})
	return p.ch
}

func (p *eventPump[T]) run(scope context.Context, fd int, open func() (func() (T, bool), func()), stop *os.File) {
	defer close(p.done)
	defer stop.Close()
	next, free := open()
	if free != nil {
		defer free()
	}
	for {
		if capi.Zkcgo_wait2(fd, int(stop.Fd()), -1) != 1 {
			return
		}
		for {
			ev, ok := next()
			if !ok {
				break
			}
			select {
			case p.ch <- ev:
			case <-scope.Done():
				return
			}
		}
	}
}

// shut ends the goroutine and closes the channel (the handle is closing;
// called once, under the guard's write side). No goroutine starts after.
func (p *eventPump[T]) shut() {
	p.once.Do(func() {})
	if p.stop != nil {
		_, _ = p.stop.Write([]byte{1})
		<-p.done
		p.stop.Close()
		close(p.ch)
	} else if p.ch == nil {
		p.ch = make(chan T)
		close(p.ch)
	}
}
