package zkc

import (
	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// EventType says what an Event reports.
type EventType int

// Event types: state changes and node watches, as the C library names
// them (zkc_event_type_t).
const (
	EventState          EventType = 1 // the client's state changed
	EventCreated        EventType = 2 // watched node was created
	EventDeleted        EventType = 3 // watched node was deleted
	EventChanged        EventType = 4 // watched node's data changed
	EventChild          EventType = 5 // watched node's children changed
	EventWatchCancelled EventType = 6 // the watch will never fire: re-read
	EventHosts          EventType = 7 // the server list changed (Path holds it)
	// The ensemble lost its data (wiped or restored): zxids, fencing
	// tokens and epochs from before are not comparable with later ones.
	// Comes between StateLost and the new session's StateConnected.
	EventHistoryReset EventType = 32
)

func (t EventType) String() string {
	switch t {
	case EventState:
		return "STATE"
	case EventCreated:
		return "CREATED"
	case EventDeleted:
		return "DELETED"
	case EventChanged:
		return "CHANGED"
	case EventChild:
		return "CHILD"
	case EventWatchCancelled:
		return "WATCH_CANCELLED"
	case EventHosts:
		return "HOSTS"
	case EventHistoryReset:
		return "HISTORY_RESET"
	}
	return "UNKNOWN"
}

// Event is one notice from the client: a state change, a node watch that
// fired, or a server-list change.
type Event struct {
	Type      EventType
	State     State  // the client's state when the event was made
	Path      string // the node (watches), the server list (HOSTS)
	SessionID int64  // the session the event belongs to
}

// Events delivers state changes and server-list changes in order (watches
// set through GetW, ExistsW and ChildrenW go to their own channels). The
// channel is closed when the client closes. One goroutine per client
// feeds it from the C library's event queue; no C thread calls Go.
func (c *Client) Events() <-chan Event { return c.events }

const (
	cacheEventFirst = 8
	cacheEventLast  = 15
)

// pump moves events from the C queue (its fd) to channels until Close
// writes to the stop pipe.
func (c *Client) pump(stopFd int) {
	defer close(c.pumpDone)
	fd := capi.Zkc_events_fd(c.zk)
	for {
		if r := capi.Zkcgo_wait2(fd, stopFd, -1); r != 1 {
			return
		}
		for {
			var h uintptr
			if capi.Zkc_events_next(&h, c.zk, 0) != 0 || h == 0 {
				break
			}
			e := capi.SwigcptrZkc_event_t(h)
			ev := Event{
				Type:      EventType(e.GetXtype()),
				State:     State(e.GetState()),
				Path:      e.GetPath(),
				SessionID: e.GetSession_id(),
			}
			payload := e.GetPayload()
			capi.Zkc_event_free(e)
			if !c.dispatch(ev, payload) {
				return
			}
		}
	}
}

// dispatch routes one event; false when the client is closing.
func (c *Client) dispatch(ev Event, payload uintptr) bool {
	if ev.Type == EventState {
		c.state.Store(int32(ev.State))
	}
	if payload != 0 {
		c.mu.Lock()
		if ev.Type >= cacheEventFirst && ev.Type <= cacheEventLast {
			route := c.routes[payload]
			c.mu.Unlock()
			if route != nil {
				route(ev)
			}
			return c.g.scope.Err() == nil
		}
		ch, ok := c.watches[payload]
		if ok {
			delete(c.watches, payload)
		}
		c.mu.Unlock()
		if ok {
			ch <- ev // buffered 1, one event per watch
			close(ch)
			return true
		}
	}
	select {
	case c.events <- ev:
		return true
	case <-c.g.scope.Done():
		return false
	}
}

// newWatch registers a one-shot watch channel and returns its id.
func (c *Client) newWatch() (uintptr, chan Event) {
	id := c.nextID.Add(1)
	ch := make(chan Event, 1)
	c.mu.Lock()
	c.watches[id] = ch
	c.mu.Unlock()
	return id, ch
}

// dropWatch forgets a watch whose call failed (C set no watch).
func (c *Client) dropWatch(id uintptr) {
	c.mu.Lock()
	if ch, ok := c.watches[id]; ok {
		delete(c.watches, id)
		close(ch)
	}
	c.mu.Unlock()
}
