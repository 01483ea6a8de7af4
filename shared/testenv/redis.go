//go:build linux

package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Private servers for fault-injection tests. `go test ./...` runs packages
// in parallel against the one Redis and S3 server scripts/stack.sh started,
// so a test that stops a server must own it: these start one on a free
// loopback port, with the flags stack.sh uses, and can stop it, start it
// again on the same port (clients keep their configured address) or freeze
// it. They are Linux-only (stack.sh is too): the child is killed with the
// test binary (Pdeathsig), so a timed-out test leaves no server behind.

// procReadyTimeout bounds a (re)start: both servers are up in well under
// a second; a slow CI machine gets ample slack.
const procReadyTimeout = 20 * time.Second

// server is one child process the test controls.
type procServer struct {
	t     testing.TB
	name  string
	bin   string
	args  func(port int) []string
	ready func(ctx context.Context, port int) error
	log   string // combined output, for failure messages

	mu     sync.Mutex
	port   int
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
}

// procRequireBinary finds bin on PATH (or as a path), skipping the test outside
// `make test` and failing it under FROSTGUARD_REQUIRE_SERVICES.
func procRequireBinary(t testing.TB, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("FROSTGUARD_REQUIRE_SERVICES") != "" {
			t.Fatalf("%s not found (%v): scripts/stack.sh should have installed it", bin, err)
		}
		t.Skipf("%s not found; run `make test` to install the local services", bin)
	}
	return p
}

// procFreePort returns a port nobody listens on, below the kernel's
// ephemeral range (as stack.sh's pick_port does): a port from that range
// could be taken by an outgoing connection while the server is stopped,
// and the restart on the same port would then fail.
func procFreePort() (int, error) {
	lo, hi := 15000, 32767
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			elo, _ := strconv.Atoi(f[0])
			ehi, _ := strconv.Atoi(f[1])
			switch {
			case elo > 16000:
				hi = elo - 1
			case ehi < 64000:
				lo, hi = ehi+1, 65000
			}
		}
	}
	for range 200 {
		p := lo + rand.IntN(hi-lo+1)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		ln.Close()
		return p, nil
	}
	return 0, fmt.Errorf("no free loopback port in %d-%d", lo, hi)
}

// procStart starts s on a fresh port, retrying on another one if the port
// was taken between the check and the server's bind.
func procStart(s *procServer) {
	s.t.Helper()
	s.t.Cleanup(s.stop)
	var err error
	for range 4 {
		if s.port, err = procFreePort(); err != nil {
			s.t.Fatal(err)
		}
		if err = s.launch(); err == nil {
			return
		}
		if !strings.Contains(strings.ToLower(s.tail()), "address already in use") {
			break
		}
	}
	s.t.Fatalf("starting %s: %v\n%s", s.name, err, s.tail())
}

// launch starts the process on s.port and waits until it answers.
func (s *procServer) launch() error {
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, s.args(s.port)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a Ctrl-C in the terminal reaches the test,
	// whose cleanup stops the server, not the server directly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), procReadyTimeout)
	defer cancel()
	for {
		select {
		case <-exited:
			return fmt.Errorf("%s exited at start (%v)", s.name, cmd.ProcessState)
		default:
		}
		if err := s.ready(ctx, s.port); err == nil {
			return nil
		} else if ctx.Err() != nil {
			s.stop()
			return fmt.Errorf("%s not ready in %v: %v", s.name, procReadyTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// start restarts a stopped server on its port.
func (s *procServer) start() {
	s.t.Helper()
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		s.t.Fatalf("%s is already running", s.name)
	}
	if err := s.launch(); err != nil {
		s.t.Fatalf("restarting %s on port %d: %v\n%s", s.name, s.port, err, s.tail())
	}
}

// stop terminates the server (TERM, then KILL after 10 s) and returns once
// it has exited, so its port refuses connections. Stopping twice is fine.
func (s *procServer) stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	// A frozen process would not act on TERM until continued.
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// signal freezes (SIGSTOP) or thaws (SIGCONT) the running server.
func (s *procServer) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("%s is not running", s.name)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signalling %s: %v", s.name, err)
	}
}

func (s *procServer) tail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Redis is a private redis-server.
type Redis struct{ s *procServer }

// StartRedis starts redis-server on a free loopback port without
// persistence (what stack.sh runs), stopped when the test ends. It needs
// the `make test` services (REDIS_URL set: stack.sh installed redis-server).
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	Require(t, "REDIS_URL")
	dir := t.TempDir()
	s := &procServer{t: t, name: "redis-server", bin: procRequireBinary(t, "redis-server"),
		log: filepath.Join(dir, "redis.log"),
		args: func(port int) []string {
			return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
				"--daemonize", "no", "--dir", dir}
		},
		ready: redisPing}
	procStart(s)
	return &Redis{s: s}
}

// redisPing sends an inline PING and expects +PONG.
func redisPing(ctx context.Context, port int) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return errors.New("redis answered " + strings.TrimSpace(line))
	}
	return nil
}

// Addr is host:port.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.s.port) }

// URL is the REDIS_URL of this server (database 0).
func (r *Redis) URL() string { return "redis://" + r.Addr() + "/0" }

// Stop stops the server: connections are refused until Start.
func (r *Redis) Stop() { r.s.stop() }

// Start starts the stopped server again, on the same port, empty.
func (r *Redis) Start() { r.s.start() }

// Freeze stops the process without closing its socket (SIGSTOP): the kernel
// still completes connections, but nothing answers, like a hung or
// unreachable server. Thaw resumes it.
func (r *Redis) Freeze() { r.s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (r *Redis) Thaw() { r.s.signal(syscall.SIGCONT) }
