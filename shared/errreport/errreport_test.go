package errreport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/logging"
	"github.com/frostguard/functions/shared/web"
)

// Secrets a request carries; none may reach the fake Sentry.
const (
	secretAuth   = "Bearer sk_live_authorization_value_123"
	secretCookie = "cookie_value_456"
	secretBody   = "body_value_789"
	secretToken  = "query_token_abc"
)

func TestPanicIsReportedWithoutSecrets(t *testing.T) {
	s := startFake(t)
	h := chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom in handler")
	}))
	res := serve(h, "req-panic-1")
	if res.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500 from web.Recover", res.Code)
	}
	if !Flush(5 * time.Second) {
		t.Fatal("Flush timed out")
	}
	ev := s.onlyEvent(t)
	checkEvent(t, ev, "req-panic-1", "panic")
	if !strings.Contains(ev.raw, "boom in handler") {
		t.Errorf("panic value missing from the event: %s", ev.raw)
	}
	s.checkNoSecrets(t)
}

func TestServerErrorIsReportedWithCause(t *testing.T) {
	s := startFake(t)
	h := chain(web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return apperr.Wrap(apperr.Unavailable, errors.New("upstream pool exhausted"), "try later")
	}))
	res := serve(h, "req-503-1")
	if res.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", res.Code)
	}
	Flush(5 * time.Second)
	ev := s.onlyEvent(t)
	checkEvent(t, ev, "req-503-1", "response")
	if ev.Tags["http.status_code"] != "503" {
		t.Errorf("status tag %q", ev.Tags["http.status_code"])
	}
	if !strings.Contains(ev.raw, "upstream pool exhausted") {
		t.Errorf("cause missing from the event: %s", ev.raw)
	}
	s.checkNoSecrets(t)
}

func TestServerErrorWrittenDirectlyIsReported(t *testing.T) {
	s := startFake(t)
	h := chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusBadGateway)
	}))
	serve(h, "req-502-1")
	Flush(5 * time.Second)
	ev := s.onlyEvent(t)
	checkEvent(t, ev, "req-502-1", "response")
	if !strings.Contains(ev.Message, "HTTP 502 POST /orgs/o1/things") {
		t.Errorf("message %q", ev.Message)
	}
	s.checkNoSecrets(t)
}

func TestClientErrorsAndSuccessAreNotReported(t *testing.T) {
	s := startFake(t)
	for _, code := range []int{200, 404, 499} {
		h := chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }))
		serve(h, "req-ok")
	}
	h := chain(web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return apperr.New(apperr.NotFound, "nope")
	}))
	serve(h, "req-404")
	Flush(5 * time.Second)
	if n := len(s.events()); n != 0 {
		t.Fatalf("%d events for non-5xx responses", n)
	}
}

func TestJobErrorIsReported(t *testing.T) {
	s := startFake(t)
	ctx := logging.WithLambdaRequestID(context.Background(), "lambda-9")
	JobError(ctx, errors.Join(errors.New("checkins: connect postgres://fg:hunter2pw@db/x failed")))
	JobError(ctx, nil)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	JobError(cancelled, errors.New("shutting down"))
	Flush(5 * time.Second)
	ev := s.onlyEvent(t)
	if ev.Tags["function"] != "test-fn" || ev.Tags["lambda_request_id"] != "lambda-9" || ev.Tags["kind"] != "scheduled" {
		t.Errorf("tags %v", ev.Tags)
	}
	if strings.Contains(ev.raw, "hunter2pw") {
		t.Errorf("password in the event: %s", ev.raw)
	}
	if !strings.Contains(ev.raw, "checkins: connect") {
		t.Errorf("cause missing: %s", ev.raw)
	}
}

func TestEmptyDSNSendsNothingAndStartsNoGoroutine(t *testing.T) {
	f, url := newFake(t)
	// A client made by an earlier Init is closed by Init("").
	if on, err := Init(dsnFor(url), "test-fn", "test", "v1"); !on || err != nil {
		t.Fatalf("Init = %v, %v", on, err)
	}
	if on, err := Init("", "test-fn", "test", "v1"); on || err != nil {
		t.Fatalf("Init(\"\") = %v, %v", on, err)
	}
	if Enabled() {
		t.Fatal("still enabled")
	}
	waitGoroutines(t) // let the closed client's goroutines end
	before := runtime.NumGoroutine()
	if on, err := Init("", "test-fn", "test", "v1"); on || err != nil {
		t.Fatalf("Init(\"\") = %v, %v", on, err)
	}
	h := chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("x")
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	serve(h, "req-off")
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/panic", nil))
	JobError(context.Background(), errors.New("x"))
	if !Flush(time.Second) {
		t.Error("Flush with reporting off should return true at once")
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines %d -> %d with reporting off", before, after)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(f.events()); n != 0 {
		t.Fatalf("%d events sent with reporting off", n)
	}
}

// waitGoroutines waits up to 2s for the goroutine count to stop changing.
func waitGoroutines(t *testing.T) {
	t.Helper()
	last := runtime.NumGoroutine()
	for range 40 {
		time.Sleep(50 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n == last {
			return
		}
		last = n
	}
}

func TestInitOpensNoConnection(t *testing.T) {
	var mu sync.Mutex
	conns := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	on, err := Init(dsnFor(srv.URL), "test-fn", "test", "v1")
	if !on || err != nil {
		t.Fatalf("Init = %v, %v", on, err)
	}
	t.Cleanup(func() { _, _ = Init("", "", "", "") })
	Flush(time.Second)
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if conns != 0 {
		t.Errorf("%d connections to Sentry before any event", conns)
	}
}

func TestMalformedDSN(t *testing.T) {
	for _, dsn := range []string{"http://127.0.0.1:9/1", "https://key@host/", "ftp://key@host/1", "http://key@host:notaport/1"} {
		on, err := Init(dsn, "test-fn", "test", "v1")
		if on || err == nil {
			t.Errorf("Init(%q) = %v, %v; want an error", dsn, on, err)
			continue
		}
		if !strings.Contains(err.Error(), "SENTRY_DSN") || strings.Contains(err.Error(), dsn) {
			t.Errorf("Init(%q) error %q: must name SENTRY_DSN and not repeat it", dsn, err)
		}
		if Enabled() {
			t.Errorf("Init(%q) left reporting on", dsn)
		}
	}
}

func TestFilterQueryAndScrub(t *testing.T) {
	if got := filterQuery("page=2&token=abc&X-Amz-Signature=s&api_key=k&q=ok"); got != "page=2&token=[Filtered]&X-Amz-Signature=[Filtered]&api_key=[Filtered]&q=ok" {
		t.Errorf("filterQuery = %q", got)
	}
	if got := filterQuery("a=%zz"); got != "" {
		t.Errorf("unparsable query kept: %q", got)
	}
	for in, leak := range map[string]string{
		"dial postgres://user:s3cr3t@db:5432/x":           "s3cr3t",
		"upstream said Authorization: Bearer abcdefgh123": "abcdefgh123",
		"bad token=tok_123456 in request":                 "tok_123456",
		`{"client_secret":"cs_9999"}`:                     "cs_9999",
		"no user alice@example.com":                       "alice@example.com",
	} {
		if out := scrubString(in); strings.Contains(out, leak) {
			t.Errorf("scrubString(%q) = %q", in, out)
		}
	}
	if out := scrubString("duplicate key value violates unique constraint"); out != "duplicate key value violates unique constraint" {
		t.Errorf("harmless text changed: %q", out)
	}
}

// ---- helpers

// chain is what host.Standard builds: RequestID, AccessLog, Recover, body
// limit, then errreport innermost.
func chain(h http.Handler) http.Handler {
	return web.Standard(Middleware(h), web.Options{Function: "test-fn"})
}

// serve sends a request carrying every kind of secret.
func serve(h http.Handler, requestID string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/orgs/o1/things?token="+secretToken+"&page=2", strings.NewReader(`{"password":"`+secretBody+`"}`))
	req.Header.Set("Authorization", secretAuth)
	req.Header.Set("Cookie", "session="+secretCookie)
	req.Header.Set(web.RequestIDHeader, requestID)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

type event struct {
	Message   string            `json:"message"`
	Tags      map[string]string `json:"tags"`
	Release   string            `json:"release"`
	Exception []struct {
		Type, Value string
	} `json:"exception"`
	Request *struct {
		URL         string            `json:"url"`
		Method      string            `json:"method"`
		QueryString string            `json:"query_string"`
		Headers     map[string]string `json:"headers"`
		Cookies     string            `json:"cookies"`
		Data        string            `json:"data"`
	} `json:"request"`
	raw string
}

func checkEvent(t *testing.T, ev event, requestID, kind string) {
	t.Helper()
	want := map[string]string{"request_id": requestID, "function": "test-fn", "stage": "test", "kind": kind}
	for k, v := range want {
		if ev.Tags[k] != v {
			t.Errorf("tag %s = %q, want %q (tags %v)", k, ev.Tags[k], v, ev.Tags)
		}
	}
	if ev.Release != "v-test" {
		t.Errorf("release %q", ev.Release)
	}
	if ev.Request == nil {
		t.Fatal("no request in the event")
	}
	if ev.Request.Method != http.MethodPost || !strings.HasSuffix(ev.Request.URL, "/orgs/o1/things") {
		t.Errorf("request %+v", ev.Request)
	}
	if ev.Request.QueryString != "token=[Filtered]&page=2" {
		t.Errorf("query string %q", ev.Request.QueryString)
	}
	if len(ev.Request.Headers) != 0 || ev.Request.Cookies != "" || ev.Request.Data != "" {
		t.Errorf("request carries headers, cookies or body: %+v", ev.Request)
	}
}

// fake plays Sentry's ingest endpoint and keeps every envelope.
type fake struct {
	mu        sync.Mutex
	envelopes []string
}

// startFake starts the fake and turns reporting on against it.
func startFake(t *testing.T) *fake {
	t.Helper()
	f, url := newFake(t)
	on, err := Init(dsnFor(url), "test-fn", "test", "v-test")
	if !on || err != nil {
		t.Fatalf("Init = %v, %v", on, err)
	}
	t.Cleanup(func() { _, _ = Init("", "", "", "") })
	return f
}

// newFake starts the fake Sentry and returns it with its URL.
func newFake(t *testing.T) (*fake, string) {
	t.Helper()
	f := &fake{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/1/envelope/" {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		if !strings.Contains(r.Header.Get("X-Sentry-Auth"), "sentry_key=publickey") {
			t.Errorf("X-Sentry-Auth %q", r.Header.Get("X-Sentry-Auth"))
		}
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.envelopes = append(f.envelopes, string(b))
		f.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func dsnFor(serverURL string) string {
	return strings.Replace(serverURL, "http://", "http://publickey@", 1) + "/1"
}

// events parses the event items of every envelope (header line, then item
// header and payload lines).
func (f *fake) events() []event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []event
	for _, env := range f.envelopes {
		sc := bufio.NewScanner(strings.NewReader(env))
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		sc.Scan() // envelope header
		for sc.Scan() {
			var item struct{ Type string }
			if err := json.Unmarshal(sc.Bytes(), &item); err != nil || !sc.Scan() {
				break
			}
			if item.Type != "event" {
				continue
			}
			payload := bytes.Clone(sc.Bytes())
			var ev event
			if err := json.Unmarshal(payload, &ev); err == nil {
				ev.raw = string(payload)
				out = append(out, ev)
			}
		}
	}
	return out
}

func (f *fake) onlyEvent(t *testing.T) event {
	t.Helper()
	evs := f.events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	return evs[0]
}

func (f *fake) checkNoSecrets(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, env := range f.envelopes {
		for _, s := range []string{secretAuth, "sk_live_authorization_value_123", secretCookie, secretBody, secretToken} {
			if strings.Contains(env, s) {
				t.Errorf("envelope leaks %q", s)
			}
		}
	}
}
