package zkc

import (
	"context"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Perm is a set of ZooKeeper permissions.
type Perm int32

// Permissions (ZooKeeper's bits).
const (
	PermRead   Perm = 1 << 0
	PermWrite  Perm = 1 << 1
	PermCreate Perm = 1 << 2
	PermDelete Perm = 1 << 3
	PermAdmin  Perm = 1 << 4
	PermAll    Perm = 0x1f
)

// ACL is one entry of a node's access list: who (Scheme and ID: "world"
// "anyone", "digest" "user:hash", "ip" "10.0.0.0/8", "auth" "",
// "x509" the certificate's name) may do what.
type ACL struct {
	Perms  Perm
	Scheme string
	ID     string
}

// OpenACL lets everyone do everything (ZooKeeper's default).
func OpenACL() []ACL { return []ACL{{PermAll, "world", "anyone"}} }

// CreatorAllACL gives every permission to the authenticated creator only
// (the client must have credentials, e.g. WithDigest).
func CreatorAllACL() []ACL { return []ACL{{PermAll, "auth", ""}} }

// ReadOnlyACL lets everyone read and nobody write.
func ReadOnlyACL() []ACL { return []ACL{{PermRead, "world", "anyone"}} }

// DigestACL is the entry for a digest user ("digest", "user:base64(sha1)")
// with perms: nodes created with it are readable (per perms) by clients
// opened WithDigest("user:password").
func DigestACL(user, password string, perms Perm) (ACL, error) {
	var id string
	if err := callQuick("digest acl", "", func() int {
		return capi.Zkc_acl_digest_id(&id, user, password)
	}); err != nil {
		return ACL{}, err
	}
	return ACL{Perms: perms, Scheme: "digest", ID: id}, nil
}

// cACL copies acl into C memory (freed with capi.Zkcgo_acl_free); an
// empty list is an error, as in C.
func cACL(op, path string, acl []ACL) (capi.Zkc_acl_list_t, error) {
	if len(acl) == 0 || len(acl) > 64 {
		return nil, &Error{Code: CodeBadArguments, Op: op, Path: path,
			Message: "an ACL needs 1..64 entries"}
	}
	l := capi.Zkcgo_acl_new(len(acl))
	if l.Swigcptr() == 0 {
		return nil, &Error{Code: CodeNoMemory, Op: op, Path: path, Message: "out of memory"}
	}
	for i, a := range acl {
		if rc := capi.Zkcgo_acl_set(l, i, int(a.Perms), a.Scheme, a.ID); rc != 0 {
			capi.Zkcgo_acl_free(l)
			return nil, newError(rc, op, path, "ACL entry", nil)
		}
	}
	return l, nil
}

// withACL runs open with acl copied into C memory and set through set
// (an options struct's ACL), freed when open returns: the recipes copy the
// ACL they are given. An empty acl sets nothing (the client's default).
func withACL(op, path string, acl []ACL, set func(capi.Zkc_acl_list_t), open func() error) error {
	if len(acl) == 0 {
		return open()
	}
	l, err := cACL(op, path, acl)
	if err != nil {
		return err
	}
	defer capi.Zkcgo_acl_free(l)
	set(l)
	return open()
}

// GetACL reads a node's ACL and stat (its Aversion is the version SetACL
// takes). A digest entry's hash is shown only to a client with PermAdmin.
// Expected: ErrNoNode, ErrNoAuth.
func (c *Client) GetACL(ctx context.Context, path string) ([]ACL, Stat, error) {
	st := make([]int64, statFields)
	var l capi.Zkc_acl_list_t
	err := c.do(ctx, "get acl", path, func() int {
		rc := []int{0}
		l = capi.Zkcgo_acl_get(rc, st, c.zk, path)
		return rc[0]
	})
	if err != nil {
		return nil, Stat{}, err
	}
	defer capi.Zkc_acl_list_free(l)
	n := capi.Zkcgo_acl_count(l)
	out := make([]ACL, n)
	for i := 0; i < n; i++ {
		out[i] = ACL{Perm(capi.Zkcgo_acl_perms(l, i)), capi.Zkcgo_acl_scheme(l, i),
			capi.Zkcgo_acl_id(l, i)}
	}
	return out, statFrom(st), nil
}

// SetACL replaces a node's ACL if its Aversion equals version
// (AnyVersion: any). Expected: ErrNoNode, ErrBadVersion, ErrNoAuth,
// ErrInvalidACL, ErrUnknownOutcome.
func (c *Client) SetACL(ctx context.Context, path string, acl []ACL, version int32) error {
	l, err := cACL("set acl", path, acl)
	if err != nil {
		return err
	}
	defer capi.Zkcgo_acl_free(l)
	return c.do(ctx, "set acl", path, func() int {
		return capi.Zkc_acl_set(c.zk, path, int(version), l)
	})
}
