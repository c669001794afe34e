package zkc_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

func hitIDs(h []zkc.IndexHit) []string {
	ids := []string{}
	for _, x := range h {
		ids = append(ids, x.ID)
	}
	return ids
}

func TestIndexKeepsRecordsAndLookupsTogether(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 90*time.Second)
	path := uniquePath(t, "index")
	defer c.DeleteAll(context.Background(), path)

	if err := c.CreateIndex(ctx, path, zkc.IndexField{Name: "city"},
		zkc.IndexField{Name: "email", Unique: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, path, zkc.IndexField{Name: "city"}); !errors.Is(err, zkc.ErrNodeExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := c.CreateIndex(ctx, path+"-none"); !errors.Is(err, zkc.ErrBadArguments) {
		t.Fatalf("create without fields: %v", err)
	}
	ix, err := c.OpenIndex(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	fields, err := ix.Fields()
	want := []zkc.IndexField{{Name: "city"}, {Name: "email", Unique: true}}
	if err != nil || !reflect.DeepEqual(fields, want) {
		t.Fatalf("schema: %+v %v", fields, err)
	}

	wait := &zkc.PutOptions{Wait: true}
	if err := ix.Put(ctx, "u1", []byte("alice"), map[string]string{"city": "paris", "email": "a@x"}, wait); err != nil {
		t.Fatal(err)
	}
	// any bytes: an id and a value with NUL and high bytes
	binID, binCity := "u\x00\xff2", "par\x00is"
	if err := ix.Put(ctx, binID, []byte("bob\x00"), map[string]string{"city": binCity}, wait); err != nil {
		t.Fatal(err)
	}
	if err := ix.Put(ctx, "u3", nil, map[string]string{"city": "paris", "email": "c@x"}, wait); err != nil {
		t.Fatal(err)
	}

	hits, err := ix.Find(ctx, "city", "paris", nil)
	if err != nil || !reflect.DeepEqual(hitIDs(hits), []string{"u1", "u3"}) {
		t.Fatalf("find paris: %+v %v", hits, err)
	}
	hits, err = ix.Find(ctx, "city", binCity, &zkc.ReadOptions{Server: true})
	if err != nil || len(hits) != 1 || hits[0].ID != binID || hits[0].Value != binCity {
		t.Fatalf("find a binary value from the servers: %+v %v", hits, err)
	}
	hits, err = ix.Prefix(ctx, "city", "par", nil)
	if err != nil || !reflect.DeepEqual(hitIDs(hits), []string{binID, "u1", "u3"}) {
		t.Fatalf("prefix par (value order, then id): %+v %v", hits, err)
	}
	hits, err = ix.Range(ctx, "email", "a@x", "c@x", nil)
	if err != nil || !reflect.DeepEqual(hitIDs(hits), []string{"u1"}) {
		t.Fatalf("range [a@x, c@x): %+v %v", hits, err)
	}
	hits, err = ix.Range(ctx, "email", "b", "", &zkc.ReadOptions{Limit: 5})
	if err != nil || !reflect.DeepEqual(hitIDs(hits), []string{"u3"}) {
		t.Fatalf("range [b, end): %+v %v", hits, err)
	}
	hits, err = ix.Prefix(ctx, "city", "", &zkc.ReadOptions{Limit: 2})
	if err != nil || len(hits) != 2 {
		t.Fatalf("prefix with limit 2: %+v %v", hits, err)
	}

	rec, err := ix.Get(ctx, binID, nil)
	if err != nil || rec.ID != binID || string(rec.Data) != "bob\x00" ||
		!reflect.DeepEqual(rec.Fields, map[string]string{"city": binCity}) {
		t.Fatalf("get %q: %+v %v", binID, rec, err)
	}
	if _, err := ix.Get(ctx, "nobody", nil); !errors.Is(err, zkc.ErrNoNode) {
		t.Fatalf("get a missing id: %v", err)
	}

	// the unique field refuses a second owner; nothing is written
	err = ix.Put(ctx, "u4", []byte("eve"), map[string]string{"email": "a@x", "city": "rome"}, wait)
	if !errors.Is(err, zkc.ErrNodeExists) {
		t.Fatalf("duplicate unique value: %v", err)
	}
	if hits, _ := ix.Find(ctx, "city", "rome", &zkc.ReadOptions{Server: true}); len(hits) != 0 {
		t.Fatalf("a refused put left entries: %+v", hits)
	}
	if err := ix.Put(ctx, "u1", nil, nil, &zkc.PutOptions{Create: true}); !errors.Is(err, zkc.ErrNodeExists) {
		t.Fatalf("create over an existing id: %v", err)
	}
	if err := ix.Put(ctx, "u9", nil, nil, &zkc.PutOptions{Update: true}); !errors.Is(err, zkc.ErrNoNode) {
		t.Fatalf("update of a missing id: %v", err)
	}
	if err := ix.Put(ctx, "u1", nil, map[string]string{"shoe size": "9"}, nil); !errors.Is(err, zkc.ErrBadArguments) {
		t.Fatalf("unknown field: %v", err)
	}
	if err := ix.Put(ctx, "", nil, nil, nil); !errors.Is(err, zkc.ErrBadArguments) {
		t.Fatalf("empty id: %v", err)
	}

	// an update moves the entries with the record
	if err := ix.Put(ctx, "u1", []byte("alice2"), map[string]string{"city": "oslo", "email": "a@x"}, wait); err != nil {
		t.Fatal(err)
	}
	if hits, _ := ix.Find(ctx, "city", "paris", nil); !reflect.DeepEqual(hitIDs(hits), []string{"u3"}) {
		t.Fatalf("paris after u1 moved: %+v", hits)
	}
	if err := ix.Delete(ctx, "u3", true); err != nil {
		t.Fatal(err)
	}
	if err := ix.Delete(ctx, "u3", false); !errors.Is(err, zkc.ErrNoNode) {
		t.Fatalf("second delete: %v", err)
	}
	if hits, _ := ix.Find(ctx, "city", "paris", nil); len(hits) != 0 {
		t.Fatalf("paris after deleting u3: %+v", hits)
	}

	// a second handle sees the first one's writes after Sync
	ix2, err := c.OpenIndex(ctx, path, &zkc.IndexOptions{CacheRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Put(ctx, "u5", []byte("zed"), map[string]string{"city": "oslo"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ix2.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if hits, _ := ix2.Find(ctx, "city", "oslo", nil); !reflect.DeepEqual(hitIDs(hits), []string{"u1", "u5"}) {
		t.Fatalf("oslo on the second handle after Sync: %+v", hits)
	}
	ix2.Close()

	rep, err := ix.Verify(ctx)
	if err != nil || len(rep.Issues) != 0 || rep.Records != 3 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	// break the index behind its back (docs/recipes/index.md's layout:
	// P/idx/FIELD/BB/VALUE+ID): Verify names it, Rebuild repairs it
	removed := ""
	for b := 0; b < 64 && removed == ""; b++ {
		dir := fmt.Sprintf("%s/idx/city/%02x", path, b)
		kids, _, err := c.Children(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kids {
			if strings.HasPrefix(k, "oslo+") {
				removed = dir + "/" + k
				break
			}
		}
	}
	if removed == "" {
		t.Fatal("no entry for oslo in the layout")
	}
	if err := c.Delete(ctx, removed, zkc.AnyVersion); err != nil {
		t.Fatal(err)
	}
	rep, err = ix.Verify(ctx)
	if err != nil || len(rep.Issues) != 1 || rep.Issues[0].Kind != "missing_entry" ||
		rep.Issues[0].Field != "city" || rep.Issues[0].Value != "oslo" || rep.Issues[0].Path != removed {
		t.Fatalf("verify after removing %s: %+v %v", removed, rep, err)
	}
	rep, err = ix.Rebuild(ctx)
	if err != nil || rep.Repaired != 1 {
		t.Fatalf("rebuild: %+v %v", rep, err)
	}
	if rep, err = ix.Verify(ctx); err != nil || len(rep.Issues) != 0 {
		t.Fatalf("verify after rebuild: %+v %v", rep, err)
	}
	ix.Close()
	if _, err := ix.Find(ctx, "city", "oslo", nil); !errors.Is(err, zkc.ErrClosed) {
		t.Fatalf("find on a closed index: %v", err)
	}
	if err := c.DropIndex(ctx, path); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OpenIndex(ctx, path, nil); !errors.Is(err, zkc.ErrNoNode) {
		t.Fatalf("open a dropped collection: %v", err)
	}
}
