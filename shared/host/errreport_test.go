package host

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/errreport"
)

// slowSentry plays Sentry's ingest endpoint, taking its time before it
// records an envelope: an event is only there when a call returns if that
// call waited for delivery.
type slowSentry struct {
	mu        sync.Mutex
	envelopes []string
}

func (s *slowSentry) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.envelopes...)
}

func startSlowSentry(t *testing.T, function string) *slowSentry {
	t.Helper()
	s := &slowSentry{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		time.Sleep(300 * time.Millisecond)
		if r.URL.Path == "/api/1/envelope/" {
			s.mu.Lock()
			s.envelopes = append(s.envelopes, string(b))
			s.mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	dsn := strings.Replace(srv.URL, "http://", "http://publickey@", 1) + "/1"
	if on, err := errreport.Init(dsn, function, "test", "v-test"); !on || err != nil {
		t.Fatalf("errreport.Init = %v, %v", on, err)
	}
	t.Cleanup(func() { _, _ = errreport.Init("", "", "", "") })
	return s
}

func TestLambdaHTTPFlushesErrorReportsBeforeReturning(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		want string
	}{
		{"panic", func(http.ResponseWriter, *http.Request) { panic("kaboom") }, "kaboom"},
		{"503", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, "HTTP 503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSlowSentry(t, "api")
			h := Standard("api", config.Common{}, tc.h)
			ev := events.APIGatewayV2HTTPRequest{
				Version: "2.0", RouteKey: "$default", RawPath: "/v1/x", RawQueryString: "token=qs_secret_1",
				Headers: map[string]string{"authorization": "Bearer hdr_secret_2", "cookie": "sid=ck_secret_3"},
				Body:    `{"password":"body_secret_4"}`,
				RequestContext: events.APIGatewayV2HTTPRequestContext{
					RequestID: "gw-req-9",
					HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/x"},
				},
			}
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-9"})
			res, err := LambdaHTTP(h)(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "panic" && res.StatusCode != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", res.StatusCode)
			}
			got := s.got() // no Flush here: LambdaHTTP must have waited
			if len(got) != 1 {
				t.Fatalf("%d envelopes received by the time the invocation returned, want 1", len(got))
			}
			env := got[0]
			for _, want := range []string{tc.want, `"request_id":"gw-req-9"`, `"lambda_request_id":"lambda-9"`, `"function":"api"`} {
				if !strings.Contains(env, want) {
					t.Errorf("event lacks %s: %s", want, env)
				}
			}
			for _, secret := range []string{"qs_secret_1", "hdr_secret_2", "ck_secret_3", "body_secret_4"} {
				if strings.Contains(env, secret) {
					t.Errorf("event leaks %s", secret)
				}
			}
		})
	}
}

func TestLambdaScheduleReportsFailuresBeforeReturning(t *testing.T) {
	s := startSlowSentry(t, "alert-sweeper")
	fn := LambdaSchedule(func(context.Context) error {
		return errors.Join(errors.New("escalation: deadline exceeded"))
	})
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-s1"})
	if err := fn(ctx, events.EventBridgeEvent{DetailType: "Scheduled Event"}); err == nil {
		t.Fatal("the job's error was swallowed")
	}
	got := s.got()
	if len(got) != 1 {
		t.Fatalf("%d envelopes by the time the invocation returned, want 1", len(got))
	}
	for _, want := range []string{"escalation: deadline exceeded", `"lambda_request_id":"lambda-s1"`, `"function":"alert-sweeper"`, `"kind":"scheduled"`} {
		if !strings.Contains(got[0], want) {
			t.Errorf("event lacks %s: %s", want, got[0])
		}
	}
}

func TestLambdaWithoutSentryDoesNotWait(t *testing.T) {
	if errreport.Enabled() {
		t.Fatal("reporting on at the start of the test")
	}
	h := Standard("api", config.Common{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	start := time.Now()
	res, err := LambdaHTTP(h)(context.Background(), events.APIGatewayV2HTTPRequest{
		RawPath:        "/x",
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/x"}},
	})
	if err != nil || res.StatusCode != 500 {
		t.Fatalf("status %d err %v", res.StatusCode, err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("invocation took %v with reporting off", d)
	}
}

// TestSetupRejectsMalformedSentryDSN runs Setup in a child process (it exits).
func TestSetupRejectsMalformedSentryDSN(t *testing.T) {
	if os.Getenv("HOST_TEST_SETUP_CHILD") == "1" {
		Setup("api", &config.StripeWebhook{})
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSetupRejectsMalformedSentryDSN$")
	cmd.Env = append(os.Environ(),
		"HOST_TEST_SETUP_CHILD=1",
		"DATABASE_URL=postgres://fg@127.0.0.1:5432/fg",
		"STRIPE_WEBHOOK_SECRET=whsec_x",
		"SENTRY_DSN=https://sentry.example.com/42", // a URL, but no public key
	)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), "SENTRY_DSN") {
		t.Errorf("output does not name SENTRY_DSN:\n%s", out)
	}
}
