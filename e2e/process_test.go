package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/testenv"
)

// required is what each function cannot start without.
var required = map[string][]string{
	app.API:               {"DATABASE_URL", "STACK_AUTH_PROJECT_ID"},
	app.StripeCheckout:    {"DATABASE_URL", "STACK_AUTH_PROJECT_ID"},
	app.StripeWebhook:     {"DATABASE_URL", "STRIPE_WEBHOOK_SECRET"},
	app.TelnyxWebhook:     {"DATABASE_URL", "TELNYX_PUBLIC_KEY"},
	app.TTNWebhook:        {"DATABASE_URL"},
	app.ChirpStackWebhook: {"DATABASE_URL"},
	app.AlertSweeper:      {"DATABASE_URL"},
	app.Migrate:           {"DATABASE_URL"},
}

func TestBadConfigurationExitsNamingTheVariable(t *testing.T) {
	for _, f := range app.Functions {
		t.Run(f.Name+"/missing", func(t *testing.T) {
			stderr, code := runToExit(t, f.Name, map[string]string{})
			if code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			for _, v := range required[f.Name] {
				if !strings.Contains(stderr, v+" is required") {
					t.Errorf("stderr does not name %s:\n%s", v, stderr)
				}
			}
		})
		t.Run(f.Name+"/malformed", func(t *testing.T) {
			e := testenv.Environment(map[string]string{"DATABASE_URL": "not a url", "REDIS_URL": "redis//nohost"})
			stderr, code := runToExit(t, f.Name, e)
			if code != 2 || !strings.Contains(stderr, "DATABASE_URL must be a postgres:// URL") ||
				!strings.Contains(stderr, "REDIS_URL must be an absolute URL") {
				t.Errorf("exit %d, stderr:\n%s", code, stderr)
			}
		})
	}
}

func runToExit(t *testing.T, name string, e map[string]string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(name))
	cmd.Env = env(e)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("expected the process to exit with an error, got %v", err)
	}
	return stderr.String(), exit.ExitCode()
}

// startLocal runs a function binary as a local server and waits for its
// /healthz; it returns the base URL, how long the first answer took, and a
// stop function (also run at cleanup).
func startLocal(t testing.TB, name string, e map[string]string) (string, time.Duration, func()) {
	t.Helper()
	addr := freeAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	e["HOST"], e["PORT"] = host, port
	cmd := exec.Command(binary(name))
	cmd.Env = env(e)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	t.Cleanup(stop)
	base := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	for time.Since(start) < 10*time.Second {
		res, err := client.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base, time.Since(start), stop
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	t.Fatalf("%s never answered /healthz; output:\n%s", name, logs.String())
	return "", 0, stop
}

func TestEveryHTTPFunctionServesLocally(t *testing.T) {
	for _, f := range app.Functions {
		if !f.HTTP() {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			// DATABASE_URL points at a closed port: starting must not need it.
			base, _, _ := startLocal(t, f.Name, testenv.Environment(nil))
			res, err := http.Get(base + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct {
				Function, Status string
				Reasons          []string
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK || body.Function != f.Name {
				t.Fatalf("healthz %d body %+v (%v)", res.StatusCode, body, err)
			}
			// The api also reports the alert sweeper, whose heartbeat is in
			// the (unreachable) database: degraded, saying why.
			want := "ok"
			if f.Name == app.API {
				want = "degraded"
				if len(body.Reasons) != 1 || !strings.Contains(body.Reasons[0], "database is unreachable") {
					t.Errorf("api healthz reasons %q", body.Reasons)
				}
			}
			if body.Status != want {
				t.Fatalf("healthz status %q, want %q (%+v)", body.Status, want, body)
			}
		})
	}
}
