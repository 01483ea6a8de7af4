package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

// ingest plays Sentry's envelope endpoint for project 7, slowly: an event is
// only recorded by the time an invocation returns if the function waited
// for its delivery, as it must before Lambda freezes the process.
type ingest struct {
	url       string
	mu        sync.Mutex
	envelopes []string
}

func startIngest(t *testing.T) *ingest {
	t.Helper()
	in := &ingest{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		time.Sleep(200 * time.Millisecond)
		if r.Method != http.MethodPost || r.URL.Path != "/api/7/envelope/" ||
			!strings.Contains(r.Header.Get("X-Sentry-Auth"), "sentry_key=e2epublickey") {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		in.mu.Lock()
		in.envelopes = append(in.envelopes, string(body))
		in.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	in.url = strings.Replace(srv.URL, "http://", "http://e2epublickey@", 1) + "/7"
	return in
}

func (in *ingest) got() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.envelopes...)
}

// TestBinariesReportServerErrorsToSentryBeforeReturning runs real bootstraps
// under the emulator with SENTRY_DSN set and the database unreachable: a
// webhook's 503 and the sweeper's failed run are both in Sentry's hands by
// the time the invocation returns, named by function and request, and
// without the request's secrets. Without the variable nothing is sent.
func TestBinariesReportServerErrorsToSentryBeforeReturning(t *testing.T) {
	cases := []struct{ fn, event, want string }{
		{"ttn-webhook", "uplink.json", `"http.status_code":"503"`},
		{"alert-sweeper", "schedule.json", "unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.fn, func(t *testing.T) {
			in := startIngest(t)
			em, _ := startEmulator(t, tc.fn, testenv.Environment(map[string]string{"SENTRY_DSN": in.url}))
			out := em.invoke(t, readEvent(t, tc.fn, tc.event))
			got := in.got()
			if len(got) != 1 {
				t.Fatalf("%d envelopes at Sentry when the invocation returned (%s), want 1\nlogs:\n%s", len(got), out, em.logs)
			}
			for _, want := range []string{tc.want, `"function":"` + tc.fn + `"`, `"lambda_request_id":"`} {
				if !strings.Contains(got[0], want) {
					t.Errorf("the event lacks %s:\n%s", want, got[0])
				}
			}
			if strings.Contains(got[0], "dev-only-ttn-webhook-secret") || strings.Contains(got[0], "password") {
				t.Errorf("the event carries a secret:\n%s", got[0])
			}
		})
	}
	t.Run("off without a DSN", func(t *testing.T) {
		in := startIngest(t)
		em, _ := startEmulator(t, "ttn-webhook", testenv.Environment(nil))
		var res struct {
			StatusCode int `json:"statusCode"`
		}
		if err := json.Unmarshal(em.invoke(t, readEvent(t, "ttn-webhook", "uplink.json")), &res); err != nil || res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d (%v), want 503", res.StatusCode, err)
		}
		if n := len(in.got()); n != 0 {
			t.Errorf("%d envelopes sent with SENTRY_DSN empty", n)
		}
	})
}
