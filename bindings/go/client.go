package zkc

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Client is one zkc client: a ZooKeeper session that survives faults
// (reconnects, and a new session after expiry), shared safely by any
// number of goroutines. Close it when done; it closes every recipe handle
// made from it.
type Client struct {
	g    guard
	zk   capi.Struct_SS_zkc
	toks tokens

	events   chan Event
	stopR    *os.File
	stopW    *os.File
	pumpDone chan struct{}

	mu       sync.Mutex
	children map[closer]struct{}
	watches  map[uintptr]chan Event
	routes   map[uintptr]func(Event) // cache ids
	nextID   atomic.Uintptr
	state    atomic.Int32
}

type closer interface{ Close() error }

type options struct {
	sessionTimeout time.Duration
	connectTimeout time.Duration
	background     bool
	chroot         string
	digest         string
	retry          *Retry
	eventBuffer    int
	tls            *TLSConfig
	acl            []ACL
	aclSet         bool
}

// Option configures Open.
type Option func(*options)

// WithSessionTimeout asks for a session timeout (the server may
// negotiate it); the default is the URL's or 10 s.
func WithSessionTimeout(d time.Duration) Option {
	return func(o *options) { o.sessionTimeout = d }
}

// WithConnectTimeout bounds how long Open waits for the first session
// (default: the URL's or 15 s). The context given to Open can end the wait
// earlier.
func WithConnectTimeout(d time.Duration) Option {
	return func(o *options) { o.connectTimeout = d }
}

// WithBackgroundConnect makes Open return at once and connect in the
// background; calls wait for the connection within their retry deadline.
func WithBackgroundConnect() Option {
	return func(o *options) { o.background = true }
}

// WithChroot overrides the URL's chroot.
func WithChroot(path string) Option { return func(o *options) { o.chroot = path } }

// WithDigest authenticates with "user:password" on every session.
func WithDigest(userPassword string) Option {
	return func(o *options) { o.digest = userPassword }
}

// TLSConfig is TLS to the servers, as PEM files (read again for every new
// connection, so rotated certificates are picked up). The server's
// certificate must chain to CAFile and name the host it is reached by
// (DNS or IP SAN) unless SkipHostVerify.
type TLSConfig struct {
	CAFile      string // PEM CA bundle; "": the system's
	CertFile    string // client certificate (chain) for mutual TLS; "": none
	KeyFile     string // CertFile's private key
	KeyPassword string // for an encrypted KeyFile; never logged
	ServerName  string // name to verify and send as SNI; "": each server's host
	// SkipHostVerify checks the CA chain only, not the name (the
	// default verifies it).
	SkipHostVerify bool
}

// WithTLS connects over TLS with these files (the URL's scheme may stay
// zk://; its ca=, cert=, key= options are replaced). Expected errors of
// Open: ErrTLS (a handshake or verification failure, a file that cannot
// be read) with the reason in the message.
func WithTLS(cfg TLSConfig) Option { return func(o *options) { o.tls = &cfg } }

// WithACL sets the default ACL of the nodes this client creates (node
// creates without their own ACL, and recipe nodes); the default is open
// to everyone (world:anyone, all permissions).
func WithACL(acl []ACL) Option {
	return func(o *options) { o.acl, o.aclSet = append([]ACL(nil), acl...), true }
}

// Retry is the policy every blocking call follows: exponential backoff
// from Base to Max with jitter, at most Attempts tries (0: no limit),
// within Deadline in total.
type Retry struct {
	Base, Max, Deadline time.Duration
	Attempts            int
}

// WithRetry replaces the default retry policy.
func WithRetry(r Retry) Option { return func(o *options) { o.retry = &r } }

// WithEventBuffer sets the capacity of the Events channel (default 256).
// While it is full, events wait in the C library's queue.
func WithEventBuffer(n int) Option { return func(o *options) { o.eventBuffer = n } }

func ms(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	if d < time.Millisecond {
		return 1
	}
	return int(d / time.Millisecond)
}

// Open connects to the ensemble at url ("zk://h1:2181,h2:2181/chroot",
// "zk+dns://...", "zks://..."; "" means $ZKC_URL) and waits for the first
// session, until the connect timeout or ctx ends.
func Open(ctx context.Context, url string, opts ...Option) (*Client, error) {
	o := options{eventBuffer: 256}
	for _, f := range opts {
		f(&o)
	}
	c := &Client{
		children: map[closer]struct{}{},
		watches:  map[uintptr]chan Event{},
		routes:   map[uintptr]func(Event){},
		events:   make(chan Event, max(o.eventBuffer, 1)),
		pumpDone: make(chan struct{}),
	}
	c.g.init(context.Background())

	copts := capi.NewZkc_options_t()
	capi.Zkc_options_init(copts, uint(capi.ZKC_OPTIONS_VERSION))
	copts.SetSession_timeout_ms(ms(o.sessionTimeout))
	switch {
	case o.background:
		copts.SetConnect_timeout_ms(-1)
	case o.connectTimeout > 0:
		copts.SetConnect_timeout_ms(ms(o.connectTimeout))
	}
	if o.chroot != "" {
		copts.SetChroot(o.chroot)
	}
	if o.digest != "" {
		copts.SetDigest(o.digest)
	}
	if o.tls != nil {
		verify := 1
		if o.tls.SkipHostVerify {
			verify = 0
		}
		if rc := capi.Zkcgo_options_tls(copts, o.tls.CAFile, o.tls.CertFile, o.tls.KeyFile,
			o.tls.KeyPassword, o.tls.ServerName, verify); rc != 0 {
			capi.Zkcgo_options_release(copts)
			return nil, newError(rc, "open", url, "TLS options", nil)
		}
	}
	var acl capi.Zkc_acl_list_t
	if o.aclSet {
		var err error
		if acl, err = cACL("open", url, o.acl); err != nil {
			capi.Zkcgo_options_release(copts)
			return nil, err
		}
		copts.SetAcl(acl) // copied by zkc_open
		defer capi.Zkcgo_acl_free(acl)
	}
	if o.retry != nil {
		r := capi.NewZkc_retry_t()
		capi.Zkc_retry_init(r, uint(capi.ZKC_RETRY_VERSION))
		r.SetBase_ms(ms(o.retry.Base))
		r.SetMax_ms(ms(o.retry.Max))
		r.SetMax_attempts(o.retry.Attempts)
		r.SetDeadline_ms(ms(o.retry.Deadline))
		copts.SetRetry(r)
		capi.DeleteZkc_retry_t(r)
	}
	var h uintptr
	var cURL *string
	if url != "" {
		cURL = &url
	}
	err := callC(ctx, &c.g, &c.toks, "open", url, func() int {
		if cURL == nil {
			return capi.Zkcgo_open_env(&h, copts)
		}
		return capi.Zkc_open(&h, *cURL, copts)
	})
	capi.Zkcgo_options_release(copts)
	if err != nil {
		c.toks.release()
		c.g.cancel()
		return nil, err
	}
	c.zk = capi.SwigcptrStruct_SS_zkc(h)
	c.stopR, c.stopW, err = os.Pipe()
	if err != nil {
		capi.Zkc_close(c.zk)
		c.toks.release()
		c.g.cancel()
		return nil, &Error{Code: CodeOS, Op: "open", Message: err.Error()}
	}
	c.state.Store(int32(capi.Zkc_state(c.zk)))
	go c.pump(int(c.stopR.Fd()))
	return c, nil
}

// Close ends the session (its ephemeral nodes go at once), cancels calls
// still running (they return ErrClosed), closes every recipe handle made
// from this client and the Events channel and every watch channel.
// Calling it again is a no-op.
func (c *Client) Close() error {
	c.g.cancel()
	c.mu.Lock()
	kids := make([]closer, 0, len(c.children))
	for k := range c.children {
		kids = append(kids, k)
	}
	c.mu.Unlock()
	for _, k := range kids {
		_ = k.Close()
	}
	c.g.shut(func() {
		// stop the event goroutine before the client (and its fd) goes
		_, _ = c.stopW.Write([]byte{1})
		<-c.pumpDone
		capi.Zkc_close(c.zk)
		c.stopR.Close()
		c.stopW.Close()
		c.toks.release()
		c.mu.Lock()
		for id, ch := range c.watches {
			close(ch)
			delete(c.watches, id)
		}
		c.routes = map[uintptr]func(Event){}
		c.mu.Unlock()
		close(c.events)
	})
	return nil
}

func (c *Client) adopt(k closer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.g.scope.Err() != nil {
		return false
	}
	c.children[k] = struct{}{}
	return true
}

func (c *Client) forget(k closer) {
	c.mu.Lock()
	delete(c.children, k)
	c.mu.Unlock()
}

// do runs one blocking C call on this client.
func (c *Client) do(ctx context.Context, op, path string, f func() int) error {
	if !c.g.enter() {
		return closedError(op, path)
	}
	defer c.g.mu.RUnlock()
	return callC(ctx, &c.g, &c.toks, op, path, f)
}

// State is the client's connection state.
type State int

// Connection states, as recipes see them.
const (
	StateConnecting  State = 0
	StateConnected   State = 1
	StateSuspended   State = 2 // connection gone; the session may live
	StateReconnected State = 3
	StateLost        State = 4 // session gone; a new one is being made
	StateClosed      State = 5
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "CONNECTING"
	case StateConnected:
		return "CONNECTED"
	case StateSuspended:
		return "SUSPENDED"
	case StateReconnected:
		return "RECONNECTED"
	case StateLost:
		return "LOST"
	case StateClosed:
		return "CLOSED"
	}
	return "UNKNOWN"
}

// State is the current connection state (local, no round trip).
func (c *Client) State() State {
	if !c.g.enter() {
		return StateClosed
	}
	defer c.g.mu.RUnlock()
	return State(capi.Zkc_state(c.zk))
}

// SessionID is the current session's id (0 when there is none).
func (c *Client) SessionID() int64 {
	s, ok := c.Session()
	if !ok {
		return 0
	}
	return s.ID
}

// Session is a client's session as Client.Session gives it.
type Session struct {
	ID       int64
	Timeout  time.Duration // negotiated with the server
	Password []byte        // 16 bytes
}

// Session is the current session (local, no round trip); false when
// there is none.
func (c *Client) Session() (Session, bool) {
	if !c.g.enter() {
		return Session{}, false
	}
	defer c.g.mu.RUnlock()
	info := capi.NewZkc_session_info_t()
	defer capi.DeleteZkc_session_info_t(info)
	if capi.Zkc_session_info(info, c.zk) != 0 {
		return Session{}, false
	}
	n := int(info.GetPasswd_len())
	pw := make([]byte, n)
	copy(pw, unsafe.Slice(info.GetPasswd(), n))
	return Session{ID: info.GetId(), Timeout: time.Duration(info.GetTimeout_ms()) * time.Millisecond,
		Password: pw}, true
}

// WaitConnected waits until the client is CONNECTED or RECONNECTED.
func (c *Client) WaitConnected(ctx context.Context) error {
	return c.do(ctx, "wait connected", "", func() int { return capi.Zkc_wait_connected(c.zk, -1) })
}

// ExpireSession ends the current session from the outside, as the
// server would after a partition: for tests of code built on zkc.
func (c *Client) ExpireSession(ctx context.Context) error {
	return c.do(ctx, "expire session", "", func() int {
		return capi.Zkc_testing_expire_session(c.zk, 30000)
	})
}
