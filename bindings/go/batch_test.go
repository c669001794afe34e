package zkc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

func TestBatchRunsOpsInOrderEachWithItsOwnOutcome(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 60*time.Second)
	p := uniquePath(t, "batch")
	defer c.DeleteAll(context.Background(), p)
	if _, _, err := c.Create(ctx, p, []byte("root\x00"), nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.Batch().
		Create(p+"/a", []byte("A"), zkc.Persistent).
		Get(p+"/a").
		Exists(p+"/missing").
		Set(p+"/a", []byte("B"), 0).
		Children(p).
		Get(p).
		Delete(p+"/a", zkc.AnyVersion).
		Get(p + "/a").
		Run(ctx)
	if err != nil || len(res) != 8 {
		t.Fatalf("run: %d results, %v", len(res), err)
	}
	if res[0].Err != nil || res[0].Path != p+"/a" {
		t.Fatalf("create: %+v", res[0])
	}
	if res[1].Err != nil || string(res[1].Data) != "A" {
		t.Fatalf("get after create: %+v", res[1])
	}
	if !errors.Is(res[2].Err, zkc.ErrNoNode) {
		t.Fatalf("exists of a missing node: %+v", res[2])
	}
	if res[3].Err != nil || res[3].Stat.Version != 1 {
		t.Fatalf("set: %+v", res[3])
	}
	if res[4].Err != nil || len(res[4].Children) != 1 || res[4].Children[0] != "a" {
		t.Fatalf("children: %+v", res[4])
	}
	if string(res[5].Data) != "root\x00" {
		t.Fatalf("binary data: %q", res[5].Data)
	}
	if res[6].Err != nil || !errors.Is(res[7].Err, zkc.ErrNoNode) {
		t.Fatalf("delete then get: %+v %+v", res[6], res[7])
	}
	if _, err := c.Batch().Get("bad").Run(ctx); !errors.Is(err, zkc.ErrBadArguments) {
		t.Fatalf("bad path in a batch: %v", err)
	}
}
