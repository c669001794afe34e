package zkc

import (
	"context"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Stat is a node's metadata. Version is an equality token (it wraps):
// compare it only with ==.
type Stat struct {
	Czxid, Mzxid   int64
	Ctime, Mtime   int64 // ms since the epoch
	Version        int32
	Cversion       int32
	Aversion       int32
	EphemeralOwner int64
	DataLength     int32
	NumChildren    int32
	Pzxid          int64
}

const statFields = 11

func statFrom(a []int64) Stat {
	return Stat{
		Czxid: a[0], Mzxid: a[1], Ctime: a[2], Mtime: a[3],
		Version: int32(a[4]), Cversion: int32(a[5]), Aversion: int32(a[6]),
		EphemeralOwner: a[7], DataLength: int32(a[8]), NumChildren: int32(a[9]), Pzxid: a[10],
	}
}

// AnyVersion matches every version in Set and Delete.
const AnyVersion int32 = -1

// Mode is a node's creation mode.
type Mode int

// Creation modes (ZooKeeper's numbering).
const (
	Persistent                  Mode = 0
	Ephemeral                   Mode = 1
	PersistentSequential        Mode = 2
	EphemeralSequential         Mode = 3
	Container                   Mode = 4
	PersistentWithTTL           Mode = 5
	PersistentSequentialWithTTL Mode = 6
)

// CreateOptions are Create's options; the zero value makes a persistent
// node without parents.
type CreateOptions struct {
	Mode Mode
	// Parents creates missing parents.
	Parents bool
	// Protected puts a GUID in the name so a create whose reply was lost
	// is found again instead of repeated (sequential and ephemeral modes).
	Protected bool
	TTLms     int64
	// ACL of the new node (and of parents made by Parents); nil: the
	// client's default (WithACL), else open.
	ACL []ACL
}

// Create makes a node and returns its actual path (sequential suffix,
// protected prefix) and stat. Expected errors: ErrNodeExists, ErrNoNode
// (parent), ErrUnknownOutcome, ErrBadArguments, ErrTooLarge.
func (c *Client) Create(ctx context.Context, path string, data []byte, opts *CreateOptions) (string, Stat, error) {
	var o CreateOptions
	if opts != nil {
		o = *opts
	}
	var out string
	st := make([]int64, statFields)
	co := capi.NewZkc_create_options_t()
	defer capi.DeleteZkc_create_options_t(co)
	capi.Zkc_create_options_init(co, uint(capi.ZKC_CREATE_OPTIONS_VERSION))
	co.SetMode(int(o.Mode))
	flags := 0
	if o.Parents {
		flags |= capi.ZKC_CREATE_PARENTS
	}
	if o.Protected {
		flags |= capi.ZKC_CREATE_PROTECTED
	}
	co.SetFlags(flags)
	co.SetTtl_ms(o.TTLms)
	if o.ACL != nil {
		l, err := cACL("create", path, o.ACL)
		if err != nil {
			return "", Stat{}, err
		}
		defer capi.Zkcgo_acl_free(l)
		co.SetAcl(l)
	}
	err := c.do(ctx, "create", path, func() int {
		return capi.Zkc_create(&out, st, c.zk, path, data, co)
	})
	if err != nil {
		return "", Stat{}, err
	}
	return out, statFrom(st), nil
}

// Get reads a node's data and stat. Expected: ErrNoNode.
func (c *Client) Get(ctx context.Context, path string) ([]byte, Stat, error) {
	var out string
	st := make([]int64, statFields)
	err := c.do(ctx, "get", path, func() int { return capi.Zkc_get(&out, st, c.zk, path) })
	if err != nil {
		return nil, Stat{}, err
	}
	return []byte(out), statFrom(st), nil
}

// GetW is Get that also leaves a watch: the channel gets one event (data
// changed, node deleted, or EventWatchCancelled when the session ends)
// and is then closed; it is closed without an event when the client
// closes. No watch is left when GetW fails.
func (c *Client) GetW(ctx context.Context, path string) ([]byte, Stat, <-chan Event, error) {
	var out string
	st := make([]int64, statFields)
	id, ch := c.newWatch()
	err := c.do(ctx, "get", path, func() int { return capi.Zkc_get_w(&out, st, c.zk, path, id) })
	if err != nil {
		c.dropWatch(id)
		return nil, Stat{}, nil, err
	}
	return []byte(out), statFrom(st), ch, nil
}

// Set writes a node's data if its version equals version (AnyVersion:
// any). Expected: ErrNoNode, ErrBadVersion, ErrUnknownOutcome.
func (c *Client) Set(ctx context.Context, path string, data []byte, version int32) (Stat, error) {
	st := make([]int64, statFields)
	err := c.do(ctx, "set", path, func() int {
		return capi.Zkc_set(st, c.zk, path, data, int(version))
	})
	if err != nil {
		return Stat{}, err
	}
	return statFrom(st), nil
}

// Delete removes a node at version (AnyVersion: any). Expected: ErrNoNode,
// ErrBadVersion, ErrNotEmpty.
func (c *Client) Delete(ctx context.Context, path string, version int32) error {
	return c.do(ctx, "delete", path, func() int { return capi.Zkc_delete(c.zk, path, int(version), 0) })
}

// DeleteAll removes a node and its whole subtree.
func (c *Client) DeleteAll(ctx context.Context, path string) error {
	return c.do(ctx, "delete", path, func() int {
		return capi.Zkc_delete(c.zk, path, -1, capi.ZKC_DELETE_RECURSIVE)
	})
}

// Exists reports whether the node exists, with its stat when it does.
func (c *Client) Exists(ctx context.Context, path string) (bool, Stat, error) {
	st := make([]int64, statFields)
	err := c.do(ctx, "exists", path, func() int { return capi.Zkc_exists(st, c.zk, path) })
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code == CodeNoNode {
			return false, Stat{}, nil
		}
		return false, Stat{}, err
	}
	return true, statFrom(st), nil
}

// ExistsW is Exists that leaves a watch (creation, deletion or data
// change) in both cases; see GetW for the channel.
func (c *Client) ExistsW(ctx context.Context, path string) (bool, Stat, <-chan Event, error) {
	st := make([]int64, statFields)
	id, ch := c.newWatch()
	err := c.do(ctx, "exists", path, func() int { return capi.Zkc_exists_w(st, c.zk, path, id) })
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code == CodeNoNode {
			return false, Stat{}, ch, nil
		}
		c.dropWatch(id)
		return false, Stat{}, nil, err
	}
	return true, statFrom(st), ch, nil
}

func (c *Client) listChildren(ctx context.Context, path string, watch uintptr) ([]string, Stat, error) {
	var h uintptr
	st := make([]int64, statFields)
	err := c.do(ctx, "children", path, func() int {
		if watch != 0 {
			return capi.Zkc_children_w(&h, st, c.zk, path, watch)
		}
		return capi.Zkc_children(&h, st, c.zk, path)
	})
	if err != nil {
		return nil, Stat{}, err
	}
	return takeStrings(h), statFrom(st), nil
}

// takeStrings copies a C string list into Go and frees it.
func takeStrings(h uintptr) []string {
	l := capi.SwigcptrZkc_strings_t(h)
	n := capi.Zkcgo_strings_count(l)
	out := make([]string, n)
	for i := range out {
		out[i] = capi.Zkcgo_strings_item(l, int64(i))
	}
	capi.Zkc_strings_free(l)
	return out
}

// Children lists a node's children (names, in the server's order).
// Expected: ErrNoNode.
func (c *Client) Children(ctx context.Context, path string) ([]string, Stat, error) {
	return c.listChildren(ctx, path, 0)
}

// ChildrenW is Children that leaves a child watch; see GetW.
func (c *Client) ChildrenW(ctx context.Context, path string) ([]string, Stat, <-chan Event, error) {
	id, ch := c.newWatch()
	names, st, err := c.listChildren(ctx, path, id)
	if err != nil {
		c.dropWatch(id)
		return nil, Stat{}, nil, err
	}
	return names, st, ch, nil
}

// Sync waits until the connected server has caught up with the leader
// for path.
func (c *Client) Sync(ctx context.Context, path string) error {
	return c.do(ctx, "sync", path, func() int { return capi.Zkc_sync(c.zk, path) })
}
