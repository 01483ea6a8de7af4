package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/frostguard/functions/shared/devstack"

	"github.com/frostguard/functions/shared/testenv"
)

// emulator is one aws-lambda-rie process running a function's bootstrap.
type emulator struct {
	url    string
	logs   *bytes.Buffer
	exited chan struct{}
	// stop kills the emulator and its bootstrap now (also done at cleanup):
	// a benchmark starting hundreds must not keep them all running.
	stop func()
}

// startEmulator runs the function binary as /var/task/bootstrap would run
// under Lambda: started by the Runtime Interface Emulator, which gives it
// AWS_LAMBDA_RUNTIME_API and feeds it invocations. The returned time is when
// the emulator process was started.
func startEmulator(t testing.TB, name string, e map[string]string) (*emulator, time.Time) {
	t.Helper()
	rie := testenv.Require(t, "AWS_LAMBDA_RIE")
	// The emulator runs "bootstrap" from a task directory, like Lambda.
	task := t.TempDir()
	bootstrap := filepath.Join(task, "bootstrap")
	if err := os.Link(binary(name), bootstrap); err != nil {
		if err := copyFile(binary(name), bootstrap); err != nil {
			t.Fatal(err)
		}
	}
	e["AWS_LAMBDA_FUNCTION_NAME"] = name
	// A port picked free can be taken before the emulator binds it (other
	// tests run in parallel): start again on new ports when that happens.
	for attempt := 1; ; attempt++ {
		addrs := freeAddrs(t, 2)
		invokeAddr, runtimeAddr := addrs[0], addrs[1]
		cmd := exec.Command(rie, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", runtimeAddr, bootstrap)
		cmd.Dir = task
		cmd.Env = env(e)
		logs := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		em := &emulator{url: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", logs: logs, exited: exited,
			stop: sync.OnceFunc(func() { _ = cmd.Process.Kill(); <-exited })}
		if em.listening(invokeAddr) {
			t.Cleanup(em.stop)
			return em, start
		}
		_ = cmd.Process.Kill()
		<-exited
		if attempt == 3 {
			t.Fatalf("the emulator did not start:\n%s", logs)
		}
	}
}

// listening waits until the emulator accepts connections, or exits.
func (em *emulator) listening(addr string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-em.exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return true
		}
		time.Sleep(200 * time.Microsecond)
	}
	return false
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// invoke posts an event and returns the function's raw response.
func (em *emulator) invoke(t testing.TB, event []byte) []byte {
	t.Helper()
	res, err := http.Post(em.url, "application/json", bytes.NewReader(event))
	if err != nil {
		t.Fatalf("emulator unreachable: %v\nlogs:\n%s", err, em.logs)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("emulator answered %d: %s\nlogs:\n%s", res.StatusCode, body, em.logs)
	}
	return body
}

func readEvent(t testing.TB, fn, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", fn, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBootstrapUnderTheRuntimeInterfaceEmulator(t *testing.T) {
	cases := []struct {
		fn, event string
		status    int
		function  string
	}{
		{"api", "healthz.json", 200, "api"},
		{"api", "get-me.json", 401, "api"},
		{"stripe-webhook", "function-url.json", 400, "stripe-webhook"}, // a sample signature: refused
	}
	for _, tc := range cases {
		t.Run(tc.fn+"/"+tc.event, func(t *testing.T) {
			em, _ := startEmulator(t, tc.fn, testenv.Environment(nil))
			var res events.APIGatewayV2HTTPResponse
			raw := em.invoke(t, readEvent(t, tc.fn, tc.event))
			if err := json.Unmarshal(raw, &res); err != nil {
				t.Fatalf("not an API Gateway response: %s", raw)
			}
			if res.StatusCode != tc.status || res.Headers["X-Frostguard-Function"] != tc.function {
				t.Fatalf("status %d headers %v body %s", res.StatusCode, res.Headers, res.Body)
			}
			if res.Headers["X-Request-Id"] == "" || !strings.HasPrefix(res.Headers["Content-Type"], "application/json") {
				t.Errorf("headers %v", res.Headers)
			}
		})
	}
}

// The sample uplink event, base64-encoded as API Gateway delivers binary
// bodies, is stored through the real bootstrap for the seeded demo sensor.
func TestUplinkUnderTheRuntimeInterfaceEmulator(t *testing.T) {
	dsn := testenv.NewDatabase(t)
	db := testenv.Open(t, dsn, 2)
	defer db.Close()
	secrets, err := devstack.LoadSecrets(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := devstack.Seed(ctx, db, secrets, devstack.SeedOptions{Environment: testenv.Environment(nil)}); err != nil {
		t.Fatal(err)
	}
	// The events carry a fixed dev-only secret; make it the demo application's.
	hash := sha256.Sum256([]byte("dev-only-ttn-webhook-secret"))
	if _, err := testenv.Pool(db).Exec(ctx, `UPDATE network_connections SET secret_hash = $1 WHERE application_id = $2`, hash[:], devstack.TTNApplicationID); err != nil {
		t.Fatal(err)
	}
	em, _ := startEmulator(t, "ttn-webhook", testenv.Environment(map[string]string{"DATABASE_URL": dsn}))
	for i, event := range []string{"base64-body.json", "uplink.json"} {
		var res events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(em.invoke(t, readEvent(t, "ttn-webhook", event)), &res); err != nil {
			t.Fatal(err)
		}
		want := []string{`"status":"stored"`, `"status":"duplicate"`}[i] // the same uplink, twice
		if res.StatusCode != 200 || !strings.Contains(res.Body, want) {
			t.Fatalf("%s: %d %s\nlogs:\n%s", event, res.StatusCode, res.Body, em.logs)
		}
	}
	var n int
	if err := testenv.Pool(db).QueryRow(ctx, `SELECT count(*) FROM sensor_readings`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d readings (%v)", n, err)
	}
}

func TestSweeperUnderTheRuntimeInterfaceEmulator(t *testing.T) {
	dsn := testenv.NewDatabase(t)
	em, _ := startEmulator(t, "alert-sweeper", testenv.Environment(map[string]string{"DATABASE_URL": dsn, "LOG_LEVEL": "info"}))
	out := em.invoke(t, readEvent(t, "alert-sweeper", "schedule.json"))
	if string(out) != "null" {
		t.Fatalf("sweeper returned %s (an error?)\nlogs:\n%s", out, em.logs)
	}
	if !strings.Contains(em.logs.String(), `"task":"reading-partitions"`) {
		t.Errorf("no sweep task in the logs:\n%s", em.logs)
	}
	// The EMF metric line the "sweeper not succeeding" alarm reads.
	if !strings.Contains(em.logs.String(), `"SweepSucceeded":1`) || !strings.Contains(em.logs.String(), `"CloudWatchMetrics"`) {
		t.Errorf("no SweepSucceeded metric line in the logs:\n%s", em.logs)
	}
}

func TestSweeperReportsAnUnreachableDatabase(t *testing.T) {
	em, _ := startEmulator(t, "alert-sweeper", testenv.Environment(nil))
	out := em.invoke(t, readEvent(t, "alert-sweeper", "schedule.json"))
	var fnErr struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(out, &fnErr); err != nil || !strings.Contains(fnErr.ErrorMessage, "unavailable") {
		t.Fatalf("want a function error naming the unavailable database, got %s", out)
	}
	if strings.Contains(em.logs.String(), "password") {
		t.Error("logs mention a password")
	}
}
