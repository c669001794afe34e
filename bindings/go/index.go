package zkc

import (
	"context"
	"encoding/binary"
	"sort"
	"time"

	"github.com/zkc-project/zkc/bindings/go/internal/capi"
)

// Index is a collection of records with secondary indexes on named fields
// (docs/recipes/index.md): every Put and Delete changes the record and its
// index entries in one transaction, so the index never disagrees with the
// data; lookups come from a watch-driven cache without a round trip.
// Ids, values and data are byte strings (any bytes, NUL included): Go
// strings hold them as they are.
type Index struct {
	c    *Client
	g    guard
	h    capi.Struct_SS_zkc_index
	path string
}

// IndexField is one indexed field of a collection's schema.
type IndexField struct {
	Name   string // 1..64 bytes; '/' allowed
	Unique bool   // no two records may share a value
}

// CreateIndex makes the collection at path (missing parents too) with its
// schema, fixed for the collection's life. Expected: ErrNodeExists
// (something is at path), ErrBadArguments (no field, too many, a
// duplicate or bad name), ErrUnknownOutcome.
func (c *Client) CreateIndex(ctx context.Context, path string, fields ...IndexField) error {
	var packed []byte
	for _, f := range fields {
		flag := byte(0)
		if f.Unique {
			flag = byte(capi.ZKC_INDEX_UNIQUE)
		}
		packed = packStr(packed, f.Name)
		packed = packStr(packed, string([]byte{flag}))
	}
	return c.do(ctx, "index create", path, func() int {
		return capi.Zkcgo_index_create(c.zk, path, packed)
	})
}

// DropIndex deletes the collection with every record and entry (not
// atomic: a collection half dropped can be dropped again). Expected:
// ErrNoNode, ErrBadArguments (not a collection).
func (c *Client) DropIndex(ctx context.Context, path string) error {
	return c.do(ctx, "index drop", path, func() int { return capi.Zkc_index_drop(c.zk, path) })
}

// IndexOptions tune an Index handle; the zero value caches the index
// entries (lookups cost no round trip) but not the records.
type IndexOptions struct {
	// NoCache: every lookup reads the servers.
	NoCache bool
	// CacheRecords: Get reads records from a cache too (memory: every
	// record's data).
	CacheRecords bool
	// Timeout bounds one Put or Delete, retries after lost races
	// included (0: 30 s).
	Timeout time.Duration
}

// OpenIndex opens the collection at path: reads its schema and waits for
// the caches' first load (until ctx ends). Expected: ErrNoNode (no
// collection), ErrBadArguments (the node is not a collection).
func (c *Client) OpenIndex(ctx context.Context, path string, opts *IndexOptions) (*Index, error) {
	var o IndexOptions
	if opts != nil {
		o = *opts
	}
	cache, records := 1, 0
	if o.NoCache {
		cache = 0
	}
	if o.CacheRecords {
		records = 1
	}
	var h uintptr
	err := c.do(ctx, "index open", path, func() int {
		return capi.Zkcgo_index_open(&h, c.zk, path, cache, records, ms(o.Timeout))
	})
	if err != nil {
		return nil, err
	}
	ix := &Index{c: c, h: capi.SwigcptrStruct_SS_zkc_index(h), path: path}
	ix.g.init(c.g.scope)
	if !c.adopt(ix) {
		capi.Zkc_index_close(ix.h)
		return nil, closedError("index open", path)
	}
	return ix, nil
}

// Close stops the caches and frees the handle. Calling it again is a no-op.
func (ix *Index) Close() error {
	ix.g.shut(func() {
		capi.Zkc_index_close(ix.h)
		ix.c.forget(ix)
	})
	return nil
}

// Path is the collection's path.
func (ix *Index) Path() string { return ix.path }

func (ix *Index) do(ctx context.Context, op string, f func() int) error {
	if !ix.g.enter() {
		return closedError(op, ix.path)
	}
	defer ix.g.mu.RUnlock()
	return callC(ctx, &ix.g, &ix.c.toks, op, ix.path, f)
}

// Fields is the collection's schema, in order.
func (ix *Index) Fields() ([]IndexField, error) {
	var out string
	if !ix.g.enter() {
		return nil, closedError("index fields", ix.path)
	}
	defer ix.g.mu.RUnlock()
	if err := callQuick("index fields", ix.path, func() int {
		return capi.Zkcgo_index_fields(&out, ix.h)
	}); err != nil {
		return nil, err
	}
	r := unpacker{b: []byte(out)}
	var fields []IndexField
	for !r.done() {
		name, flag := r.str(), r.str()
		fields = append(fields, IndexField{Name: name,
			Unique: len(flag) == 1 && flag[0]&byte(capi.ZKC_INDEX_UNIQUE) != 0})
	}
	return fields, r.err("index fields", ix.path)
}

// PutOptions say what a Put expects to find, and whether to wait.
type PutOptions struct {
	Create bool // fail with ErrNodeExists if the id exists
	Update bool // fail with ErrNoNode if it does not
	// Wait returns once this handle's cache shows the write (one more
	// round trip), so a lookup right after sees it.
	Wait bool
}

// Put stores record id with data and field values (fields of the schema
// only; a field left out has no index entry), replacing the record and
// its entries if it exists, in one transaction. Expected: ErrNodeExists
// (a unique value belongs to another record, or Create and the id
// exists: nothing written), ErrNoNode (Update and no such id),
// ErrBadArguments (empty id, unknown field), ErrTooLarge (id, value or
// record over the limits), ErrUnknownOutcome (the reply was lost: the put
// happened entirely or not at all), ErrTimeout.
func (ix *Index) Put(ctx context.Context, id string, data []byte, fields map[string]string, opts *PutOptions) error {
	flags := 0
	if opts != nil {
		if opts.Create {
			flags |= capi.ZKC_INDEX_CREATE
		}
		if opts.Update {
			flags |= capi.ZKC_INDEX_UPDATE
		}
		if opts.Wait {
			flags |= capi.ZKC_INDEX_WAIT
		}
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names) // a stable order: the same put sends the same bytes
	var packed []byte
	for _, k := range names {
		packed = packStr(packStr(packed, k), fields[k])
	}
	return ix.do(ctx, "index put", func() int {
		return capi.Zkcgo_index_put(ix.h, []byte(id), data, packed, flags)
	})
}

// Delete removes record id and its entries in one transaction (wait: as
// PutOptions.Wait). Expected: ErrNoNode, ErrUnknownOutcome, ErrTimeout.
func (ix *Index) Delete(ctx context.Context, id string, wait bool) error {
	flags := 0
	if wait {
		flags = capi.ZKC_INDEX_WAIT
	}
	return ix.do(ctx, "index delete", func() int {
		return capi.Zkc_index_delete(ix.h, []byte(id), flags)
	})
}

// Record is a record as stored. Fields holds the values of the fields it
// has (schema fields it was put without are absent).
type Record struct {
	ID      string
	Data    []byte
	Fields  map[string]string
	Version int32 // the record node's version
}

// ReadOptions tune one read.
type ReadOptions struct {
	// Server reads from the servers, not the handle's cache.
	Server bool
	// Limit caps the number of hits of a lookup (0: none).
	Limit int
}

func readFlags(o *ReadOptions) (int, int) {
	if o == nil {
		return 0, 0
	}
	f := 0
	if o.Server {
		f = capi.ZKC_INDEX_SERVER
	}
	return f, max(o.Limit, 0)
}

// Get reads record id (from the record cache when the handle has one).
// Expected: ErrNoNode.
func (ix *Index) Get(ctx context.Context, id string, opts *ReadOptions) (*Record, error) {
	flags, _ := readFlags(opts)
	var out string
	if err := ix.do(ctx, "index get", func() int {
		return capi.Zkcgo_index_get(&out, ix.h, []byte(id), flags)
	}); err != nil {
		return nil, err
	}
	r := unpacker{b: []byte(out)}
	rec := &Record{Version: int32(r.u32()), ID: r.str(), Fields: map[string]string{}}
	rec.Data = []byte(r.str())
	for !r.done() {
		k := r.str()
		rec.Fields[k] = r.str()
	}
	return rec, r.err("index get", ix.path)
}

// IndexHit is one lookup result: a record's id and its value of the field.
type IndexHit struct {
	ID    string
	Value string
}

func (ix *Index) lookup(ctx context.Context, op string, kind int, field, a, b string, hasHi bool, opts *ReadOptions) ([]IndexHit, error) {
	flags, limit := readFlags(opts)
	hi := 0
	if hasHi {
		hi = 1
	}
	var out string
	if err := ix.do(ctx, op, func() int {
		return capi.Zkcgo_index_lookup(&out, ix.h, kind, field, []byte(a), []byte(b), hi, limit, flags)
	}); err != nil {
		return nil, err
	}
	r := unpacker{b: []byte(out)}
	hits := []IndexHit{}
	for !r.done() {
		id := r.str()
		hits = append(hits, IndexHit{ID: id, Value: r.str()})
	}
	return hits, r.err(op, ix.path)
}

// Find returns the records whose field equals value, in order of id.
// Expected: ErrBadArguments (unknown field), ErrTooLarge.
func (ix *Index) Find(ctx context.Context, field, value string, opts *ReadOptions) ([]IndexHit, error) {
	return ix.lookup(ctx, "index find", 0, field, value, "", false, opts)
}

// Prefix returns the records whose field starts with prefix ("": every
// record with the field), in order of value then id.
func (ix *Index) Prefix(ctx context.Context, field, prefix string, opts *ReadOptions) ([]IndexHit, error) {
	return ix.lookup(ctx, "index prefix", 1, field, prefix, "", false, opts)
}

// Range returns the records with lo <= value < hi (bytewise), in order of
// value then id; an empty hi means no upper bound.
func (ix *Index) Range(ctx context.Context, field, lo, hi string, opts *ReadOptions) ([]IndexHit, error) {
	return ix.lookup(ctx, "index range", 2, field, lo, hi, hi != "", opts)
}

// Sync waits until this handle's caches show every write that completed
// (on any client) before the call.
func (ix *Index) Sync(ctx context.Context) error {
	return ix.do(ctx, "index sync", func() int { return capi.Zkc_index_sync(ix.h, -1) })
}

// IndexIssue is one disagreement between records and index entries.
type IndexIssue struct {
	Kind    string // "missing_entry", "stale_entry", "unique_conflict", ...
	Field   string
	Value   string
	ID      string
	Path    string // the node concerned (missing: the one expected)
	Version int32
}

// IndexReport is what Verify found (and Rebuild repaired).
type IndexReport struct {
	Records, Entries int
	Issues           []IndexIssue
	Repaired         int
}

func (ix *Index) check(ctx context.Context, op string, repair int) (*IndexReport, error) {
	var out string
	if err := ix.do(ctx, op, func() int { return capi.Zkcgo_index_check(&out, ix.h, repair) }); err != nil {
		return nil, err
	}
	r := unpacker{b: []byte(out)}
	rep := &IndexReport{Records: int(r.u32()), Entries: int(r.u32()), Repaired: int(r.u32()),
		Issues: []IndexIssue{}}
	for !r.done() {
		is := IndexIssue{Kind: capi.Zkc_index_issue_name(int(r.u32())), Version: int32(r.u32())}
		is.Field, is.Value, is.ID, is.Path = r.str(), r.str(), r.str(), r.str()
		rep.Issues = append(rep.Issues, is)
	}
	return rep, r.err(op, ix.path)
}

// Verify reads the collection from the servers and lists every
// disagreement between records and index (run it while nobody writes).
func (ix *Index) Verify(ctx context.Context) (*IndexReport, error) {
	return ix.check(ctx, "index verify", 0)
}

// Rebuild verifies, then repairs missing and stale entries (unique
// conflicts and unparsable records are reported, not changed). Expected:
// ErrBadVersion (a record changed meanwhile: run it again).
func (ix *Index) Rebuild(ctx context.Context) (*IndexReport, error) {
	return ix.check(ctx, "index rebuild", 1)
}

// ------------------------------------------------------------ packed bytes
// The C helpers (zkc_go.i) exchange strings as a 32-bit little-endian
// length and the bytes.

func packStr(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

type unpacker struct {
	b   []byte
	bad bool
}

func (u *unpacker) done() bool { return u.bad || len(u.b) == 0 }

func (u *unpacker) u32() uint32 {
	if len(u.b) < 4 {
		u.bad = true
		return 0
	}
	v := binary.LittleEndian.Uint32(u.b)
	u.b = u.b[4:]
	return v
}

func (u *unpacker) str() string {
	n := u.u32()
	if n == 0xffffffff {
		return ""
	}
	if uint64(n) > uint64(len(u.b)) {
		u.bad = true
		return ""
	}
	s := string(u.b[:n])
	u.b = u.b[n:]
	return s
}

func (u *unpacker) err(op, path string) error {
	if u.bad {
		return &Error{Code: CodeBadArguments, Op: op, Path: path, Message: "malformed reply from the C helper"}
	}
	return nil
}
