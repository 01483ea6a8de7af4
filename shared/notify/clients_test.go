package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/config"
)

// Fakes of the two providers, strict like the real APIs: wrong method, path,
// auth, content type or body get the provider's 4xx error shape.

const (
	dspTelnyxKey  = "KEY-telnyx-test"
	dspResendKey  = "re_test_key"
	dspFromNumber = "+15550001111"
)

// dspTelnyx fakes POST /v2/messages.
type dspTelnyx struct {
	*httptest.Server
	mu      sync.Mutex
	hits    map[string]int // requests per "to"
	sent    map[string]int // messages that went out per "to" (even if the client gave up waiting)
	last    outTelnyxMessage
	respond func(to string, hit int) (status int, delay time.Duration) // nil: 200 at once
}

func dspNewTelnyx(t *testing.T) *dspTelnyx {
	f := &dspTelnyx{hits: map[string]int{}, sent: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close) // waits for requests in progress
	return f
}

func dspTelnyxError(w http.ResponseWriter, status int, code, title string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"title":%q,"detail":"%s."}]}`, code, title, title)
}

func (f *dspTelnyx) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path != "/v2/messages":
		dspTelnyxError(w, 404, "10005", "Resource not found")
		return
	case r.Method != http.MethodPost:
		dspTelnyxError(w, 405, "10015", "Method not allowed")
		return
	case r.Header.Get("Authorization") != "Bearer "+dspTelnyxKey:
		dspTelnyxError(w, 401, "10009", "Authentication failed")
		return
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		dspTelnyxError(w, 415, "10015", "Unsupported media type")
		return
	}
	var m outTelnyxMessage
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		dspTelnyxError(w, 400, "10015", "Bad request")
		return
	}
	switch {
	case !ValidE164(m.To):
		dspTelnyxError(w, 422, "40310", "Invalid 'to' address")
		return
	case m.From == "" && m.MessagingProfileID == "":
		dspTelnyxError(w, 422, "40305", "Invalid 'from' address")
		return
	case m.Text == "":
		dspTelnyxError(w, 422, "40006", "Message body is empty")
		return
	}
	f.mu.Lock()
	f.hits[m.To]++
	hit := f.hits[m.To]
	f.last = m
	respond := f.respond
	f.mu.Unlock()
	status, delay := 200, time.Duration(0)
	if respond != nil {
		status, delay = respond(m.To, hit)
	}
	if delay > 0 {
		// The provider keeps going when the client hangs up.
		time.Sleep(delay)
	}
	switch {
	case status == 422:
		dspTelnyxError(w, 422, "40310", "Invalid 'to' address")
		return
	case status != 200:
		dspTelnyxError(w, status, "10007", "Unexpected error")
		return
	}
	f.mu.Lock()
	f.sent[m.To]++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"data":{"record_type":"message","direction":"outbound","id":"tx-%s","type":"SMS",`+
		`"to":[{"phone_number":%q,"status":"queued"}],"text":%q}}`, newUUID(), m.To, m.Text)
}

func (f *dspTelnyx) setRespond(fn func(to string, hit int) (int, time.Duration)) {
	f.mu.Lock()
	f.respond = fn
	f.mu.Unlock()
}

func (f *dspTelnyx) counts(to string) (hits, sent int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[to], f.sent[to]
}

// dspResend fakes POST /emails with Resend's idempotency: a repeated key
// with the same payload returns the first id and sends nothing; a key in
// flight answers 409 concurrent_idempotent_requests.
type dspResend struct {
	*httptest.Server
	mu       sync.Mutex
	hits     map[string]int    // requests per Idempotency-Key
	sent     map[string]int    // e-mails that went out per key
	ids      map[string]string // key -> id of the first send
	payloads map[string]string
	inFlight map[string]bool
	last     outResendEmail
	respond  func(key string, hit int) (status int, delay time.Duration)
}

func dspNewResend(t *testing.T) *dspResend {
	f := &dspResend{hits: map[string]int{}, sent: map[string]int{}, ids: map[string]string{},
		payloads: map[string]string{}, inFlight: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close) // waits for requests in progress
	return f
}

func dspResendError(w http.ResponseWriter, status int, name, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"statusCode":%d,"name":%q,"message":%q}`, status, name, msg)
}

func (f *dspResend) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path != "/emails":
		dspResendError(w, 404, "not_found", "The requested endpoint does not exist.")
		return
	case r.Method != http.MethodPost:
		dspResendError(w, 405, "method_not_allowed", "Method is not allowed for the requested path.")
		return
	case r.Header.Get("Authorization") == "":
		dspResendError(w, 401, "missing_api_key", "Missing API key in the authorization header.")
		return
	case r.Header.Get("Authorization") != "Bearer "+dspResendKey:
		dspResendError(w, 403, "invalid_api_key", "API key is invalid.")
		return
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		dspResendError(w, 400, "validation_error", "Content-Type must be application/json.")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 256 {
		dspResendError(w, 400, "invalid_idempotency_key", "The key must be between 1-256 chars.")
		return
	}
	raw := new(strings.Builder)
	var e outResendEmail
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		dspResendError(w, 422, "validation_error", "Invalid JSON body.")
		return
	}
	_ = json.NewEncoder(raw).Encode(e)
	switch {
	case e.From == "":
		dspResendError(w, 422, "missing_required_field", "Missing `from` field.")
		return
	case len(e.To) == 0 || !strings.Contains(e.To[0], "@"):
		dspResendError(w, 422, "validation_error", "Invalid `to` field.")
		return
	case e.Subject == "":
		dspResendError(w, 422, "missing_required_field", "Missing `subject` field.")
		return
	}
	f.mu.Lock()
	f.hits[key]++
	hit := f.hits[key]
	f.last = e
	if id, ok := f.ids[key]; ok && key != "" {
		same := f.payloads[key] == raw.String()
		f.mu.Unlock()
		if !same {
			dspResendError(w, 409, "invalid_idempotent_request", "Same idempotency key used with a different request payload.")
			return
		}
		fmt.Fprintf(w, `{"id":%q}`, id)
		return
	}
	if f.inFlight[key] && key != "" {
		f.mu.Unlock()
		dspResendError(w, 409, "concurrent_idempotent_requests", "Same idempotency key used while original request is still in progress.")
		return
	}
	f.inFlight[key] = true
	respond := f.respond
	f.mu.Unlock()
	defer func() { f.mu.Lock(); delete(f.inFlight, key); f.mu.Unlock() }()
	status, delay := 200, time.Duration(0)
	if respond != nil {
		status, delay = respond(key, hit)
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	switch {
	case status == 422:
		dspResendError(w, 422, "validation_error", "The `to` address is invalid.")
		return
	case status != 200:
		dspResendError(w, status, "application_error", "An unexpected error occurred.")
		return
	}
	id := "re-" + newUUID()
	f.mu.Lock()
	f.sent[key]++
	f.ids[key], f.payloads[key] = id, raw.String()
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":%q}`, id)
}

func (f *dspResend) setRespond(fn func(key string, hit int) (int, time.Duration)) {
	f.mu.Lock()
	f.respond = fn
	f.mu.Unlock()
}

func (f *dspResend) counts(key string) (hits, sent int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[key], f.sent[key]
}

func TestTelnyxClientRequestAndErrors(t *testing.T) {
	f := dspNewTelnyx(t)
	ctx := context.Background()
	c := NewTelnyx(dspTelnyxKey, f.URL+"/", "", "prof-123", nil)
	id, err := c.SendSMS(ctx, "+15555550100", "Fridge too warm", "n1")
	if err != nil || !strings.HasPrefix(id, "tx-") {
		t.Fatalf("send: %q %v", id, err)
	}
	f.mu.Lock()
	last := f.last
	f.mu.Unlock()
	if last.MessagingProfileID != "prof-123" || last.From != "" || last.Text != "Fridge too warm" {
		t.Errorf("body %+v", last)
	}
	for _, tc := range []struct {
		name      string
		client    *Telnyx
		to        string
		status    int
		retryable bool
		code      string
	}{
		{"bad key", NewTelnyx("wrong", f.URL, dspFromNumber, "", nil), "+15555550100", 401, false, "10009"},
		{"invalid to", NewTelnyx(dspTelnyxKey, f.URL, dspFromNumber, "", nil), "12345", 422, false, "40310"},
		{"no sender", NewTelnyx(dspTelnyxKey, f.URL, "", "", nil), "+15555550100", 422, false, "40305"},
		{"wrong path", NewTelnyx(dspTelnyxKey, f.URL+"/v1", dspFromNumber, "", nil), "+15555550100", 404, false, "10005"},
	} {
		_, err := tc.client.SendSMS(ctx, tc.to, "x", "n")
		var se *SendError
		if !errors.As(err, &se) || se.Status != tc.status || se.Retryable != tc.retryable || se.Code != tc.code {
			t.Errorf("%s: got %#v", tc.name, err)
		}
	}
	for status, retryable := range map[int]bool{429: true, 500: true, 503: true, 408: true} {
		f.setRespond(func(string, int) (int, time.Duration) { return status, 0 })
		_, err := c.SendSMS(ctx, "+15555550101", "x", "n")
		var se *SendError
		if !errors.As(err, &se) || se.Retryable != retryable || se.Ambiguous {
			t.Errorf("status %d: %#v", status, err)
		}
	}
}

func TestClientsTransportFailures(t *testing.T) {
	ctx := context.Background()
	// connection refused: nothing was written, safe to retry for both
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + l.Addr().String()
	l.Close()
	var se *SendError
	if _, err := NewTelnyx(dspTelnyxKey, dead, dspFromNumber, "", nil).SendSMS(ctx, "+15555550100", "x", "n"); !errors.As(err, &se) || !se.Retryable || se.Ambiguous {
		t.Errorf("telnyx refused: %#v", err)
	}
	if _, err := NewResend(dspResendKey, dead, "a@b.example", nil).SendEmail(ctx, "c@d.example", "s", "b", "k"); !errors.As(err, &se) || !se.Retryable || se.Ambiguous {
		t.Errorf("resend refused: %#v", err)
	}
	// timeout after the request was written: ambiguous; only Resend retries
	tf, rf := dspNewTelnyx(t), dspNewResend(t)
	tf.setRespond(func(string, int) (int, time.Duration) { return 200, 300 * time.Millisecond })
	rf.setRespond(func(string, int) (int, time.Duration) { return 200, 300 * time.Millisecond })
	short := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := NewTelnyx(dspTelnyxKey, tf.URL, dspFromNumber, "", short).SendSMS(ctx, "+15555550100", "x", "n"); !errors.As(err, &se) || se.Retryable || !se.Ambiguous || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("telnyx timeout: %#v", err)
	}
	if _, err := NewResend(dspResendKey, rf.URL, "a@b.example", short).SendEmail(ctx, "c@d.example", "s", "b", "k"); !errors.As(err, &se) || !se.Retryable || !se.Ambiguous {
		t.Errorf("resend timeout: %#v", err)
	}
}

func TestResendClientRequestAndErrors(t *testing.T) {
	f := dspNewResend(t)
	ctx := context.Background()
	c := NewResend(dspResendKey, f.URL, "FrostGuard <alerts@frostguard.example>", nil)
	id, err := c.SendEmail(ctx, "ops@example.com", "Alarm", "Fridge too warm", "key-1")
	if err != nil || !strings.HasPrefix(id, "re-") {
		t.Fatalf("send: %q %v", id, err)
	}
	f.mu.Lock()
	last := f.last
	f.mu.Unlock()
	if last.From != "FrostGuard <alerts@frostguard.example>" || len(last.To) != 1 || last.To[0] != "ops@example.com" ||
		last.Subject != "Alarm" || last.Text != "Fridge too warm" {
		t.Errorf("body %+v", last)
	}
	// same key, same payload: same id, not sent again
	id2, err := c.SendEmail(ctx, "ops@example.com", "Alarm", "Fridge too warm", "key-1")
	if err != nil || id2 != id {
		t.Errorf("replay: %q %v, want %q", id2, err, id)
	}
	if hits, sent := f.counts("key-1"); hits != 2 || sent != 1 {
		t.Errorf("hits %d sent %d", hits, sent)
	}
	var se *SendError
	for _, tc := range []struct {
		name      string
		client    *Resend
		to, key   string
		status    int
		retryable bool
		code      string
	}{
		{"bad key", NewResend("re_wrong", f.URL, "a@b.example", nil), "c@d.example", "k2", 403, false, "invalid_api_key"},
		{"missing key", NewResend("", f.URL, "a@b.example", nil), "c@d.example", "k2", 403, false, "invalid_api_key"},
		{"invalid to", c, "nobody", "k3", 422, false, "validation_error"},
		{"key reused with another payload", c, "other@example.com", "key-1", 409, false, "invalid_idempotent_request"},
	} {
		_, err := tc.client.SendEmail(ctx, tc.to, "s", "b", tc.key)
		if !errors.As(err, &se) || se.Status != tc.status || se.Retryable != tc.retryable || se.Code != tc.code {
			t.Errorf("%s: got %#v", tc.name, err)
		}
	}
	f.setRespond(func(string, int) (int, time.Duration) { return 429, 0 })
	if _, err := c.SendEmail(ctx, "c@d.example", "s", "b", "k4"); !errors.As(err, &se) || !se.Retryable || se.Status != 429 {
		t.Errorf("429: %#v", err)
	}
	// a key still in flight: retry later
	f.setRespond(func(string, int) (int, time.Duration) { return 200, 200 * time.Millisecond })
	go func() { _, _ = c.SendEmail(ctx, "c@d.example", "s", "b", "k5") }()
	time.Sleep(50 * time.Millisecond)
	if _, err := c.SendEmail(ctx, "c@d.example", "s", "b", "k5"); !errors.As(err, &se) || !se.Retryable || se.Code != "concurrent_idempotent_requests" {
		t.Errorf("concurrent: %#v", err)
	}
}

func TestSendersFromConfig(t *testing.T) {
	sms, email := Senders(config.Notify{}, nil)
	if _, ok := sms.(*LogSender); !ok {
		t.Errorf("sms without key: %T", sms)
	}
	if _, ok := email.(*LogSender); !ok {
		t.Errorf("email without key: %T", email)
	}
	id, err := sms.SendSMS(context.Background(), "+15555550100", "hello", "n1")
	if err != nil || !strings.HasPrefix(id, "log-") || len(id) != len("log-")+36 {
		t.Errorf("log sender id %q %v", id, err)
	}
	sms, email = Senders(config.Notify{TelnyxAPIKey: "k", TelnyxAPIBase: "https://api.telnyx.com", TelnyxFromNumber: dspFromNumber,
		ResendAPIKey: "r", ResendAPIBase: "https://api.resend.com", EmailFrom: "a@b.example"}, nil)
	if tx, ok := sms.(*Telnyx); !ok || tx.baseURL != "https://api.telnyx.com" || tx.from != dspFromNumber {
		t.Errorf("sms with key: %#v", sms)
	}
	if rs, ok := email.(*Resend); !ok || rs.from != "a@b.example" {
		t.Errorf("email with key: %#v", email)
	}
	if got := maskRecipient("email", "alice@example.com"); got != "a***@example.com" {
		t.Errorf("mask email %q", got)
	}
	if got := maskRecipient("sms", "+15555550100"); got != "+*******0100" {
		t.Errorf("mask phone %q", got)
	}
}

// TestCallSenderFromConfig: without Telnyx keys (make dev) calls go to the
// log sender, which logs the call it would place and what it would say;
// with a key but no Call Control application there is no voice sender
// (voice pages fail channel_not_configured); with both, Telnyx Call Control.
func TestCallSenderFromConfig(t *testing.T) {
	logs := dspfCaptureLogs(t)
	calls := CallSender(config.Notify{}, nil)
	if _, ok := calls.(*LogSender); !ok {
		t.Fatalf("voice without key: %T", calls)
	}
	d := &Dispatcher{Voice: calls}
	if !d.hasSender("voice") {
		t.Fatal("the log sender does not count as a voice sender")
	}
	id, err := calls.Dial(context.Background(), Dial{To: "+15555550100", Script: "FrostGuard critical alarm at Main St", CommandID: "n-log"})
	if err != nil || !strings.HasPrefix(id, "log-") {
		t.Fatalf("log dial %q %v", id, err)
	}
	line := logs.find("voice call (log sender, not placed)", "n-log")
	if line == nil || line["to"] != "+*******0100" || line["would_say"] != "FrostGuard critical alarm at Main St" {
		t.Fatalf("logged %v", line)
	}
	if c := CallSender(config.Notify{TelnyxAPIKey: "k"}, nil); c != nil {
		t.Fatalf("a key without a Call Control application: %T", c)
	}
	c := CallSender(config.Notify{TelnyxAPIKey: "k", TelnyxAPIBase: "https://api.telnyx.com", TelnyxConnectionID: "cc-1", TelnyxFromNumber: dspFromNumber}, nil)
	if _, ok := c.(*TelnyxCalls); !ok {
		t.Fatalf("with a key and an application: %T", c)
	}
}
