package zkc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	zkc "github.com/zkc-project/zkc/bindings/go"
)

func TestACLOptionsGuardNodes(t *testing.T) {
	ctx := ctxFor(t, 60*time.Second)
	alice, err := zkc.DigestACL("alice", "secret", zkc.PermAll)
	if err != nil || alice.Scheme != "digest" || len(alice.ID) <= len("alice:") || alice.ID[:6] != "alice:" {
		t.Fatalf("digest acl: %+v %v", alice, err)
	}
	owner := open(t, zkc.WithDigest("alice:secret"), zkc.WithACL([]zkc.ACL{alice}))
	anon := open(t)
	base := uniquePath(t, "acl")
	defer owner.DeleteAll(context.Background(), base)

	// the client's default ACL applies to a create without its own
	if _, _, err := owner.Create(ctx, base, []byte("private"), nil); err != nil {
		t.Fatal(err)
	}
	// anon's session may be on another server: sync it past owner's
	// writes before each read of them
	if err := anon.Sync(ctx, base); err != nil {
		t.Fatal(err)
	}
	if _, _, err := anon.Get(ctx, base); !errors.Is(err, zkc.ErrNoAuth) {
		t.Fatalf("anonymous read of alice's node: %v", err)
	}
	if data, _, err := owner.Get(ctx, base); err != nil || string(data) != "private" {
		t.Fatalf("alice's read: %q %v", data, err)
	}
	acl, st, err := owner.GetACL(ctx, base)
	if err != nil || len(acl) != 1 || acl[0] != alice || st.Aversion != 0 {
		t.Fatalf("get acl: %+v %+v %v", acl, st, err)
	}

	// a create's own ACL wins over the default
	pub := base + "/public"
	if _, _, err := owner.Create(ctx, pub, []byte("hello"), &zkc.CreateOptions{ACL: zkc.ReadOnlyACL()}); err != nil {
		t.Fatal(err)
	}
	if err := anon.Sync(ctx, pub); err != nil {
		t.Fatal(err)
	}
	if data, _, err := anon.Get(ctx, pub); err != nil || string(data) != "hello" {
		t.Fatalf("anonymous read of a read-only node: %q %v", data, err)
	}
	if _, err := owner.Set(ctx, pub, []byte("x"), zkc.AnyVersion); !errors.Is(err, zkc.ErrNoAuth) {
		t.Fatalf("write to a read-only node: %v", err)
	}

	// SetACL is versioned by aversion
	if err := owner.SetACL(ctx, base, zkc.OpenACL(), 7); !errors.Is(err, zkc.ErrBadVersion) {
		t.Fatalf("set acl with a wrong aversion: %v", err)
	}
	if err := owner.SetACL(ctx, base, zkc.OpenACL(), 0); err != nil {
		t.Fatal(err)
	}
	if err := anon.Sync(ctx, base); err != nil {
		t.Fatal(err)
	}
	if data, _, err := anon.Get(ctx, base); err != nil || string(data) != "private" {
		t.Fatalf("anonymous read after opening the ACL: %q %v", data, err)
	}
	if err := owner.SetACL(ctx, base, nil, zkc.AnyVersion); !errors.Is(err, zkc.ErrBadArguments) {
		t.Fatalf("set an empty acl: %v", err)
	}
	if _, err := zkc.Open(ctx, testURL, zkc.WithACL([]zkc.ACL{})); !errors.Is(err, zkc.ErrBadArguments) {
		t.Fatalf("open with an empty default ACL: %v", err)
	}
}

// A 1-server ensemble with a TLS port, started once for the TLS tests
// with `zkc ensemble up --tls-config`; certificates made with openssl
// (a CA that signs the server for localhost and 127.0.0.1, and a
// stranger CA).
var tlsEns struct {
	once sync.Once
	dir  string
	url  string // zks://
	err  error
}

func tlsEnsemble(t *testing.T) (dir, url string) {
	t.Helper()
	tlsEns.once.Do(func() {
		dir, err := os.MkdirTemp("", "zkc-go-tls-")
		if err != nil {
			tlsEns.err = err
			return
		}
		tlsEns.dir = dir
		script := `set -e
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > ext.cnf
for ca in ca stranger; do
  openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.pem -days 30 -subj "/CN=zkc go test $ca" 2>/dev/null
done
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt -days 30 -extfile ext.cnf 2>/dev/null
cat server.key server.crt > server.pem
cat > tls.cfg <<CFG
ssl.keyStore.location=$PWD/server.pem
ssl.keyStore.type=PEM
ssl.trustStore.location=$PWD/ca.pem
ssl.trustStore.type=PEM
ssl.clientAuth=none
CFG
`
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			tlsEns.err = fmt.Errorf("certificates: %v\n%s", err, out)
			return
		}
		out, err := exec.Command(zkcBin, "ensemble", "up", "--nodes", "1", "--dir",
			filepath.Join(dir, "ens"), "--tls-config", filepath.Join(dir, "tls.cfg"), "--env").CombinedOutput()
		if err != nil {
			tlsEns.err = fmt.Errorf("zkc ensemble up --tls-config: %v\n%s", err, out)
			return
		}
		m := regexp.MustCompile(`(?m)^export ZKC_SECURE_URL='([^']*)'$`).FindSubmatch(out)
		if m == nil {
			tlsEns.err = fmt.Errorf("no ZKC_SECURE_URL in:\n%s", out)
			return
		}
		tlsEns.url = string(m[1])
	})
	if tlsEns.err != nil {
		t.Fatal(tlsEns.err)
	}
	return tlsEns.dir, tlsEns.url
}

// stopTLSEnsemble runs after the tests (TestMain).
func stopTLSEnsemble() {
	if tlsEns.dir == "" {
		return
	}
	_ = exec.Command(zkcBin, "ensemble", "down", "--dir", filepath.Join(tlsEns.dir, "ens")).Run()
	os.RemoveAll(tlsEns.dir)
}

func TestTLSToARealTLSPort(t *testing.T) {
	dir, url := tlsEnsemble(t)
	ctx := ctxFor(t, 90*time.Second)
	ca := filepath.Join(dir, "ca.pem")

	c, err := zkc.Open(ctx, url, zkc.WithTLS(zkc.TLSConfig{CAFile: ca}), zkc.WithConnectTimeout(30*time.Second))
	if err != nil {
		t.Fatalf("open %s over TLS: %v", url, err)
	}
	path := uniquePath(t, "tls")
	if _, _, err := c.Create(ctx, path, []byte("sealed"), nil); err != nil {
		t.Fatal(err)
	}
	if data, _, err := c.Get(ctx, path); err != nil || string(data) != "sealed" {
		t.Fatalf("get over TLS: %q %v", data, err)
	}
	if err := c.Delete(ctx, path, zkc.AnyVersion); err != nil {
		t.Fatal(err)
	}
	c.Close()

	fails := []struct {
		name   string
		cfg    zkc.TLSConfig
		want   error
		reason string
	}{
		{"a stranger CA", zkc.TLSConfig{CAFile: filepath.Join(dir, "stranger.pem")}, zkc.ErrTLS, "verif"},
		{"a name the certificate lacks", zkc.TLSConfig{CAFile: ca, ServerName: "zk.example.org"}, zkc.ErrTLS, "zk.example.org"},
		{"a CA file that is not there", zkc.TLSConfig{CAFile: filepath.Join(dir, "missing.pem")}, zkc.ErrBadArguments, "missing.pem"},
	}
	for _, f := range fails {
		c, err := zkc.Open(ctx, url, zkc.WithTLS(f.cfg), zkc.WithConnectTimeout(4*time.Second))
		var ze *zkc.Error
		if err == nil {
			c.Close()
			t.Fatalf("%s: open succeeded", f.name)
		}
		if !errors.Is(err, f.want) || !errors.As(err, &ze) || !strings.Contains(ze.Message, f.reason) {
			t.Fatalf("%s: want %v naming %q, got %v", f.name, f.want, f.reason, err)
		}
	}
	// without host-name verification the chain alone is checked
	c, err = zkc.Open(ctx, url, zkc.WithTLS(zkc.TLSConfig{CAFile: ca, ServerName: "zk.example.org",
		SkipHostVerify: true}), zkc.WithConnectTimeout(30*time.Second))
	if err != nil {
		t.Fatalf("open with SkipHostVerify: %v", err)
	}
	if _, _, err := c.Exists(ctx, "/"); err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// Each recipe's own ACL option reaches the nodes it creates, read back
// with GetACL; the client's default ACL (open) would fail every check.
func TestRecipeACLOptionsReachTheirNodes(t *testing.T) {
	c := open(t)
	ctx := ctxFor(t, 60*time.Second)
	base := uniquePath(t, "recipe-acl")
	defer c.DeleteAll(context.Background(), base)
	acl := []zkc.ACL{
		{Perms: zkc.PermRead | zkc.PermWrite | zkc.PermCreate | zkc.PermDelete, Scheme: "world", ID: "anyone"},
		{Perms: zkc.PermAll, Scheme: "ip", ID: "127.0.0.1"},
	}
	if _, _, err := c.Create(ctx, base, nil, nil); err != nil {
		t.Fatal(err)
	}
	check := func(what, path string) {
		t.Helper()
		got, _, err := c.GetACL(ctx, path)
		if err != nil {
			t.Fatalf("%s: get acl of %s: %v", what, path, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(acl) {
			t.Fatalf("%s: %s has ACL %+v, want %+v", what, path, got, acl)
		}
	}

	lock, err := c.NewLock(base+"/lock", &zkc.LockOptions{ACL: acl})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	lease, err := lock.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("lock", lease.Path)
	if err := lock.Release(); err != nil {
		t.Fatal(err)
	}

	rw, err := c.NewRWLock(base+"/rwlock", &zkc.LockOptions{ACL: acl})
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	for _, half := range []*zkc.Lock{rw.ReadLock(), rw.WriteLock()} {
		l, err := half.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check("rwlock", l.Path)
		if err := half.Release(); err != nil {
			t.Fatal(err)
		}
	}

	sem, err := c.NewSemaphore(base+"/semaphore", 2, &zkc.SemaphoreOptions{ACL: acl})
	if err != nil {
		t.Fatal(err)
	}
	defer sem.Close()
	sl, err := sem.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("semaphore", sl.Path)
	if err := sl.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewSemaphore(base+"/semaphore2", 1, nil, nil); !errors.Is(err, zkc.ErrBadArguments) {
		t.Fatalf("semaphore with two options: %v", err)
	}

	el, err := c.NewElection(base+"/election", "acl", &zkc.ElectionOptions{ACL: acl})
	if err != nil {
		t.Fatal(err)
	}
	defer el.Close()
	if err := el.Join(); err != nil {
		t.Fatal(err)
	}
	if _, err := el.Await(ctx); err != nil {
		t.Fatal(err)
	}
	kids, _, err := c.Children(ctx, base+"/election")
	if err != nil || len(kids) != 1 {
		t.Fatalf("election candidates: %v %v", kids, err)
	}
	check("election", base+"/election/"+kids[0])

	q, err := c.OpenQueue(ctx, base+"/queue", &zkc.QueueOptions{Create: true, ACL: acl})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	check("queue taken directory", base+"/queue/taken")
	item, err := q.Put(ctx, []byte("x"), zkc.PriorityDefault)
	if err != nil {
		t.Fatal(err)
	}
	check("queue item", base+"/queue/"+item)

	// a list over 64 entries is refused before anything is sent
	long := make([]zkc.ACL, 65)
	for i := range long {
		long[i] = zkc.ACL{Perms: zkc.PermRead, Scheme: "ip", ID: fmt.Sprintf("10.0.0.%d", i)}
	}
	if _, err := c.NewLock(base+"/bad", &zkc.LockOptions{ACL: long}); !errors.Is(err, zkc.ErrBadArguments) {
		t.Fatalf("lock with a 65-entry ACL: %v", err)
	}
}
