package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/store/migrations"
)

// Postgres is a private PostgreSQL cluster for tests that stop and start
// the server (fault injection). `go test ./...` runs packages in parallel
// against the one server scripts/stack.sh started, so a test must never
// stop that one: it gets its own cluster, in t.TempDir(), on its own port.
//
// The cluster runs with fsync, synchronous_commit and full_page_writes on
// (the shared one has them off for speed), so what a crash loses is what
// production would lose.
type Postgres struct {
	t       testing.TB
	bin     string
	asUser  []string // command prefix that drops root to the cluster's OS user
	user    string   // that OS user, also the database superuser
	uid     int      // and its ids, to chown what root creates for it
	gid     int
	data    string
	logFile string
	port    int
	dsn     string

	mu      sync.Mutex
	running bool
}

// pgStartAttempts bounds retries of the first start when another process
// took the port between the pick and the bind.
const pgStartAttempts = 4

// StartPostgres creates, starts and migrates a private cluster with one
// database, frostguard. It is stopped (crash-style) when the test ends. It
// needs PG_BIN and, as root, PG_OS_USER (else the system's postgres user),
// which scripts/stack.sh exports.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	p := &Postgres{t: t, bin: Require(t, "PG_BIN")}
	p.setUser()
	root := p.root()
	p.data, p.logFile = filepath.Join(root, "data"), filepath.Join(root, "postgres.log")

	// initdb's own final sync of the new files only protects them against
	// an OS crash, which these tests never cause; the server's fsync is on.
	if out, err := p.run(filepath.Join(p.bin, "initdb"), "-D", p.data, "-U", p.user, "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	conf, err := os.OpenFile(filepath.Join(p.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conf.WriteString("\n# shared/testenv StartPostgres\ninclude 'frostguard.conf'\n")
	if cerr := conf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.cleanup)

	var lastErr error
	for attempt := 0; attempt < pgStartAttempts; attempt++ {
		if p.port, err = pgFreePort(); err != nil {
			t.Fatal(err)
		}
		p.writeConf()
		if lastErr = p.start(); lastErr == nil {
			break
		}
		// Only a lost race for the port is worth another port.
		if !strings.Contains(p.tail(), "could not bind") {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("starting the private PostgreSQL: %v\n%s", lastErr, p.tail())
	}
	p.dsn = fmt.Sprintf("postgres://%s@127.0.0.1:%d/frostguard?sslmode=disable", url.PathEscape(p.user), p.port)
	p.createDatabase()
	return p
}

// DSN is the URL of the migrated database frostguard.
func (p *Postgres) DSN() string { return p.dsn }

// Port is the server's loopback TCP port; it stays the same across Stop
// and Start.
func (p *Postgres) Port() int { return p.port }

// Stop crashes the server: `pg_ctl stop -m immediate` kills every backend
// without a checkpoint, so the next Start replays the WAL, as after the
// server process dies. Idempotent.
func (p *Postgres) Stop() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return
	}
	if out, err := p.run(filepath.Join(p.bin, "pg_ctl"), "-D", p.data, "-m", "immediate", "-w", "-t", "30", "stop"); err != nil {
		p.t.Fatalf("pg_ctl stop: %v\n%s\n%s", err, out, p.tail())
	}
	p.running = false
}

// Start starts the server again on the same port and data directory and
// returns once it accepts connections (crash recovery done). Idempotent.
func (p *Postgres) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return
	}
	if err := p.startLocked(); err != nil {
		p.t.Fatalf("pg_ctl start: %v\n%s", err, p.tail())
	}
}

func (p *Postgres) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.startLocked()
}

func (p *Postgres) startLocked() error {
	// pg_ctl -w waits on postmaster.pid's status line (no connection), so
	// it works without a Unix socket; the server's output goes to the log,
	// never to our pipes, which pg_ctl's detached postmaster would hold open.
	out, err := p.run(filepath.Join(p.bin, "pg_ctl"), "-D", p.data, "-l", p.logFile, "-w", "-t", "60", "start")
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	p.running = true
	return nil
}

func (p *Postgres) cleanup() {
	if p.t.Failed() {
		p.t.Logf("private PostgreSQL log (last lines):\n%s", p.tail())
	}
	// postmaster.pid rather than p.running: a start that timed out may
	// still have left a server behind.
	if _, err := os.Stat(filepath.Join(p.data, "postmaster.pid")); err == nil {
		// Crash-stop: nothing in it is kept, so a checkpoint is wasted time.
		if out, err := p.run(filepath.Join(p.bin, "pg_ctl"), "-D", p.data, "-m", "immediate", "-w", "-t", "30", "stop"); err != nil {
			p.t.Logf("stopping the private PostgreSQL: %v\n%s", err, out)
		}
	}
}

// setUser chooses who runs the server: PostgreSQL refuses to run as root,
// so as root it is PG_OS_USER (through setpriv, as scripts/stack.sh does);
// otherwise the current user, directly.
func (p *Postgres) setUser() {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			p.t.Fatal(err)
		}
		p.user = u.Username
		return
	}
	name := os.Getenv("PG_OS_USER")
	if _, err := user.Lookup("postgres"); name == "" && err == nil {
		// The stack did not start PostgreSQL itself (an external
		// DATABASE_URL), so it named no user: the package's own will do.
		name = "postgres"
	}
	if name == "" {
		name = Require(p.t, "PG_OS_USER")
	}
	u, err := user.Lookup(name)
	if err != nil || name == "root" {
		p.t.Fatalf("PG_OS_USER=%q is not a user PostgreSQL can run as: %v", name, err)
	}
	p.user = name
	p.uid, _ = strconv.Atoi(u.Uid)
	p.gid, _ = strconv.Atoi(u.Gid)
	p.asUser = []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--init-groups", "--"}
}

// root makes the directory holding the cluster (data and log), owned by
// the cluster's user. Under t.TempDir() when that user can reach it (the
// test's temp dirs are 0700 root's: they get a+x, enough to traverse);
// otherwise (TMPDIR under /root, say) a directory of its own in /tmp.
func (p *Postgres) root() string {
	dir := p.t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil && len(p.asUser) > 0 {
			p.t.Fatal(err)
		}
	}
	root := filepath.Join(dir, "pg")
	p.mkdirOwned(root)
	if _, err := p.run("test", "-w", root); err != nil {
		fallback, err := os.MkdirTemp("/tmp", "frostguard-pg-")
		if err != nil {
			p.t.Fatal(err)
		}
		p.t.Cleanup(func() { _ = os.RemoveAll(fallback) })
		if err := os.Chmod(fallback, 0o711); err != nil {
			p.t.Fatal(err)
		}
		root = filepath.Join(fallback, "pg")
		p.mkdirOwned(root)
		if out, err := p.run("test", "-w", root); err != nil {
			p.t.Fatalf("%s cannot write %s: %v %s", p.user, root, err, out)
		}
	}
	return root
}

func (p *Postgres) mkdirOwned(dir string) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		p.t.Fatal(err)
	}
	if len(p.asUser) == 0 {
		return
	}
	if err := os.Chown(dir, p.uid, p.gid); err != nil {
		p.t.Fatal(err)
	}
}

// writeConf writes the settings included from postgresql.conf, so that a
// plain `pg_ctl start` gets them: TCP on loopback only, no Unix socket (its
// path under a temp dir could pass the 107-byte limit), durability on.
// After a crash the server syncs its data directory before replaying the
// WAL: one syncfs instead of an fsync per file (PostgreSQL 14+, Linux)
// saves about a second per restart.
func (p *Postgres) writeConf() {
	conf := fmt.Sprintf(`# written by shared/testenv StartPostgres
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = ''
max_connections = 60
shared_buffers = 32MB
fsync = on
synchronous_commit = on
full_page_writes = on
recovery_init_sync_method = syncfs
`, p.port)
	path := filepath.Join(p.data, "frostguard.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		p.t.Fatal(err)
	}
	// Written by root: hand it to the server's user, who must read it.
	if len(p.asUser) > 0 {
		if err := os.Chown(path, p.uid, p.gid); err != nil {
			p.t.Fatal(err)
		}
	}
}

// run runs a command as the cluster's user and returns its output.
func (p *Postgres) run(name string, args ...string) ([]byte, error) {
	argv := append(append(append([]string(nil), p.asUser...), name), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	// The stack's PGDATA/PGPORT point at the shared server: never let them
	// leak into a command about this one.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

// tail is the end of the server log, for failure messages.
func (p *Postgres) tail() string {
	b, err := os.ReadFile(p.logFile)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (p *Postgres) createDatabase() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", url.PathEscape(p.user), p.port)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		p.t.Fatalf("connecting to the private PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE frostguard"); err != nil {
		p.t.Fatal(err)
	}
	if _, err := migrations.Migrate(ctx, p.dsn); err != nil {
		p.t.Fatalf("migrating the private PostgreSQL: %v", err)
	}
}

// pgFreePort picks a free loopback port below the kernel's ephemeral range
// (as scripts/stack.sh does): the port must still be free when Start binds
// it again after a Stop, and an outgoing connection could take an
// ephemeral one meanwhile.
func pgFreePort() (int, error) {
	lo, hi := 15000, 32767
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if elo, err := strconv.Atoi(f[0]); err == nil && elo > lo+1000 {
				hi = elo - 1
			}
		}
	}
	for i := 0; i < 200; i++ {
		port := lo + rand.IntN(hi-lo+1)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		_ = ln.Close()
		return port, nil
	}
	return 0, errors.New("no free loopback port found")
}
