package zkc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

func TestServiceRouterMovesOnlyTheLostInstancesKeys(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 60*time.Second)
	svc := uniquePath(t, "svc")
	defer c.DeleteAll(context.Background(), svc)

	var regs []*zkc.Registration
	for i := 0; i < 3; i++ {
		r, err := c.Register(ctx, svc, zkc.Instance{ID: fmt.Sprintf("inst-%d", i), Address: "10.0.0.1", Port: 8000 + i,
			Metadata: []byte(`{"zone":"a"}`)})
		if err != nil {
			t.Fatal(err)
		}
		regs = append(regs, r)
	}
	if _, err := c.Register(ctx, svc, zkc.Instance{ID: "inst-0", Address: "10.0.0.2", Port: 1}); !errors.Is(err, zkc.ErrNodeExists) {
		t.Fatalf("a second registration of one id: %v", err)
	}
	router, err := c.NewRouter(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	waitUntil(t, 30*time.Second, "three routable instances", func() bool { return router.Len() == 3 })

	route := func(key string) zkc.Endpoint {
		ep, err := router.Route([]byte(key))
		if err != nil {
			t.Fatalf("route %s: %v", key, err)
		}
		return ep
	}
	before := map[string]string{}
	for k := 0; k < 300; k++ {
		key := fmt.Sprintf("user-%d", k)
		before[key] = route(key).ID
	}
	if err := regs[1].Unregister(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "two routable instances", func() bool { return router.Len() == 2 })
	moved := 0
	for key, was := range before {
		now := route(key).ID
		if now == "inst-1" {
			t.Fatalf("%s still routed to the unregistered instance", key)
		}
		if now != was {
			if was != "inst-1" {
				t.Fatalf("%s moved from %s to %s though %s stayed", key, was, now, was)
			}
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("no key had been on the unregistered instance")
	}
	if err := regs[0].SetDraining(ctx, true); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "one routable instance", func() bool { return router.Len() == 1 })
	if ep := route("anything"); ep.ID != "inst-2" || ep.Port != 8002 {
		t.Fatalf("the only routable instance: %+v", ep)
	}
	for _, r := range regs {
		r.Close()
	}
	waitUntil(t, 30*time.Second, "no routable instance", func() bool { return router.Len() == 0 })
	if _, err := router.Route([]byte("k")); !errors.Is(err, zkc.ErrNoNode) {
		t.Fatalf("route with no instance: %v", err)
	}
}
