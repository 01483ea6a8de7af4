package notify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Provider faults through the whole dispatcher (issue 9): Telnyx and Resend
// hanging beyond the client timeout, answering 500, answering 429 with
// Retry-After, then recovering. What must hold: every notification ends
// delivered exactly once at the provider (the fakes count requests and
// sends per recipient or Idempotency-Key), no row is left pending or
// sending, and the one documented exception, an SMS whose request was
// written but never answered, is recorded as failed "ambiguous" and logged,
// never re-sent (Telnyx has no idempotency key: "maybe lost", with
// escalation still paging, over "maybe twice").

// dspfRetryAfter fronts a fake with a server that adds Retry-After to its
// 429 answers, as both providers do.
func dspfRetryAfter(t *testing.T, serve http.HandlerFunc, seconds string) string {
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(dspfRetryWriter{ResponseWriter: w, seconds: seconds}, r)
	}))
	t.Cleanup(front.Close)
	return front.URL
}

type dspfRetryWriter struct {
	http.ResponseWriter
	seconds string
}

func (w dspfRetryWriter) WriteHeader(status int) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", w.seconds)
	}
	w.ResponseWriter.WriteHeader(status)
}

// dspfLogs captures the default logger's JSON records. The notify tests
// are not parallel, so swapping the default logger is safe.
type dspfLogs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *dspfLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func dspfCaptureLogs(t *testing.T) *dspfLogs {
	l := &dspfLogs{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(l, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return l
}

// find returns the first record with message msg about notification id.
func (l *dspfLogs) find(msg, id string) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == msg && rec["notification_id"] == id {
			return rec
		}
	}
	return nil
}

// dspfHang makes a fake hold requests until released, like a provider
// that is slow beyond the client's timeout but still acts on the request
// in the end (the worst case for duplicates).
type dspfHang struct {
	ch   chan struct{}
	once sync.Once
}

func dspfNewHang(t *testing.T) *dspfHang {
	h := &dspfHang{ch: make(chan struct{})}
	// Registered after the fakes: runs before their Close, which waits for
	// the held requests.
	t.Cleanup(h.release)
	return h
}

func (h *dspfHang) release() { h.once.Do(func() { close(h.ch) }) }

type dspfCase struct {
	fault, channel, recipient, id string
}

func TestDispatchFaultsProvidersHangFailThrottleThenRecover(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	logs := dspfCaptureLogs(t)
	hang := dspfNewHang(t)
	a := e.alert("critical", "active")

	// Two rows per fault and channel, each with its own recipient (SMS) or
	// row id (e-mail's Idempotency-Key), which selects its fault. Each fault
	// hits the first request only: the provider then recovers.
	faults := map[string]string{}
	var cases []dspfCase
	for i, fault := range []string{"hang", "500", "429"} {
		for j := range 2 {
			sms := dspfCase{fault: fault, channel: "sms", recipient: fmt.Sprintf("+1555555%02d%02d", i, j)}
			sms.id = e.row(dspRow{AlertID: a, Channel: "sms", Recipient: sms.recipient})
			faults[sms.recipient] = fault
			mail := dspfCase{fault: fault, channel: "email", recipient: fmt.Sprintf("%s-%d@example.com", fault, j)}
			mail.id = e.row(dspRow{AlertID: a, Channel: "email", Recipient: mail.recipient})
			faults[mail.id] = fault
			cases = append(cases, sms, mail)
		}
	}
	respond := func(key string, hit int) (int, time.Duration) {
		if hit > 1 {
			return 200, 0
		}
		switch faults[key] {
		case "hang":
			<-hang.ch
		case "500":
			return 500, 0
		case "429":
			return 429, 0
		}
		return 200, 0
	}
	e.tx.setRespond(respond)
	e.rs.setRespond(respond)
	short := &http.Client{Timeout: 200 * time.Millisecond}
	e.d.SMS = NewTelnyx(dspTelnyxKey, dspfRetryAfter(t, e.tx.serve, "90"), dspFromNumber, "", short)
	e.d.Email = NewResend(dspResendKey, dspfRetryAfter(t, e.rs.serve, "90"), "alerts@frostguard.example", short)

	// 1. Every first request fails. The hung SMS are failed as ambiguous,
	// everything else is due again: after the backoff (500), after
	// Retry-After (429), after the backoff for the hung e-mails.
	e.dispatch(Report{Claimed: 12, Retried: 10, Failed: 2})
	for _, c := range cases {
		s := e.state(c.id)
		wait := s.NextAttempt.Sub(e.now())
		switch {
		case c.fault == "hang" && c.channel == "sms":
			if s.Status != "failed" || !strings.HasPrefix(s.LastError, "ambiguous: telnyx: timeout") || s.FailedAt == nil || s.Attempts != 1 {
				t.Errorf("hung sms: %+v", s)
			}
			rec := logs.find("notification failed", c.id)
			if rec == nil || rec["level"] != "WARN" || !strings.HasPrefix(fmt.Sprint(rec["err"]), "ambiguous") {
				t.Errorf("hung sms %s: no warning logged (%v)", c.id, rec)
			}
		case c.fault == "hang":
			if s.Status != "pending" || !strings.Contains(s.LastError, "timeout") || wait < 24*time.Second || wait > 36*time.Second {
				t.Errorf("hung e-mail: %+v (retry in %v)", s, wait)
			}
		case c.fault == "500":
			if s.Status != "pending" || !strings.HasPrefix(s.LastError, "500 ") || wait < 24*time.Second || wait > 36*time.Second {
				t.Errorf("%s after 500: %+v (retry in %v)", c.channel, s, wait)
			}
		case c.fault == "429":
			if s.Status != "pending" || !strings.HasPrefix(s.LastError, "429 ") || wait != 90*time.Second {
				t.Errorf("%s after 429: %+v (retry in %v, want Retry-After's 90s)", c.channel, s, wait)
			}
		}
	}

	// 2. Past Retry-After. The 500 and 429 rows go out; the hung e-mails'
	// first requests are still in progress at Resend, which answers the
	// retry 409 concurrent_idempotent_requests: retried again later.
	e.advance(2 * time.Minute)
	e.dispatch(Report{Claimed: 10, Sent: 8, Retried: 2})
	for _, c := range cases {
		if c.fault == "hang" && c.channel == "email" {
			if s := e.state(c.id); s.Status != "pending" || !strings.Contains(s.LastError, "concurrent_idempotent_requests") {
				t.Errorf("hung e-mail while its first request is in flight: %+v", s)
			}
		}
	}

	// 3. The hung requests complete at the providers: the SMS and e-mails
	// go out there, once, although our client gave up on them.
	hang.release()
	dspEventually(t, func() bool {
		for _, c := range cases {
			if c.fault == "hang" && dspfSent(e, c) != 1 {
				return false
			}
		}
		return true
	})
	e.advance(2 * time.Minute)
	e.dispatch(Report{Claimed: 2, Sent: 2})
	e.advance(time.Hour)
	e.dispatch(Report{})

	// Exactly once at the provider for every row; nothing left to do.
	for _, c := range cases {
		s := e.state(c.id)
		var hits, sent int
		if c.channel == "sms" {
			hits, sent = e.tx.counts(c.recipient)
		} else {
			hits, sent = e.rs.counts(c.id)
		}
		wantHits := 2 // the failure, then the success
		switch {
		case c.fault == "hang" && c.channel == "sms":
			wantHits = 1 // never re-sent
		case c.fault == "hang":
			wantHits = 3 // timeout, 409 while in flight, the replay
		}
		if sent != 1 || hits != wantHits {
			t.Errorf("%s %s %s: %d requests, %d sent; want %d requests, 1 sent", c.fault, c.channel, c.recipient, hits, sent, wantHits)
		}
		if c.fault == "hang" && c.channel == "sms" {
			continue // failed as ambiguous above, though Telnyx did send it
		}
		if s.Status != "sent" || s.Attempts != wantHits || s.LastError != "" {
			t.Errorf("%s %s: %+v", c.fault, c.channel, s)
		}
		if c.channel == "email" {
			// The id of the one e-mail Resend sent, also when the answer
			// that recorded it was a replay.
			e.rs.mu.Lock()
			first := e.rs.ids[c.id]
			e.rs.mu.Unlock()
			if s.ProviderID != first {
				t.Errorf("%s e-mail: provider id %q, Resend sent %q", c.fault, s.ProviderID, first)
			}
		}
	}
	dspfNoneInFlight(t, e)
}

func dspfSent(e *dspEnv, c dspfCase) int {
	if c.channel == "sms" {
		_, sent := e.tx.counts(c.recipient)
		return sent
	}
	_, sent := e.rs.counts(c.id)
	return sent
}

// dspfNoneInFlight: no row of the organisation is waiting or claimed.
func dspfNoneInFlight(t *testing.T, e *dspEnv) {
	t.Helper()
	if n := e.scalar(`SELECT count(*)::text FROM notifications WHERE organization_id = $1 AND status IN ('pending', 'sending')`, e.org); n != "0" {
		t.Errorf("%s rows still pending or sending", n)
	}
}

// A provider hanging beyond the caller's whole budget (the ttn-webhook
// gives its post-commit dispatch 5 s, the sweeper 40 s), with the client
// timeout longer than that budget: the row being sent fails as ambiguous
// when the budget ends, and the rest of the claimed batch is handed back
// (attempt not counted) rather than left 'sending' until its lease ends.
func TestDispatchFaultsHangBeyondBudgetReleasesTheRest(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	hang := dspfNewHang(t)
	e.tx.setRespond(func(_ string, hit int) (int, time.Duration) {
		if hit == 1 {
			<-hang.ch
		}
		return 200, 0
	})
	e.d.SMS = NewTelnyx(dspTelnyxKey, e.tx.URL, dspFromNumber, "", &http.Client{Timeout: 30 * time.Second})
	a := e.alert("critical", "active")
	recipients := []string{"+15555550101", "+15555550102", "+15555550103"}
	ids := map[string]string{}
	for _, r := range recipients {
		ids[r] = e.row(dspRow{AlertID: a, Channel: "sms", Recipient: r})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	rep, err := e.d.DispatchDue(ctx, 100)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	// The released rows are in no counter.
	if rep != (Report{Claimed: 3, Failed: 1}) {
		t.Fatalf("report %+v", rep)
	}
	var hung string
	for _, r := range recipients {
		s := e.state(ids[r])
		switch s.Status {
		case "failed":
			hung = r
			if !strings.HasPrefix(s.LastError, "ambiguous: ") || s.Attempts != 1 {
				t.Errorf("hung row: %+v", s)
			}
		case "pending":
			if s.Attempts != 0 || s.NextAttempt.After(e.now()) {
				t.Errorf("released row: %+v", s)
			}
		default:
			t.Errorf("row for %s left %+v", r, s)
		}
	}
	if hung == "" {
		t.Fatal("no row was being sent when the budget ended")
	}
	hang.release()
	e.dispatch(Report{Claimed: 2, Sent: 2})
	for _, r := range recipients {
		dspEventually(t, func() bool { _, sent := e.tx.counts(r); return sent == 1 })
		if hits, _ := e.tx.counts(r); hits != 1 {
			t.Errorf("%s: %d requests to Telnyx, want 1", r, hits)
		}
	}
	e.advance(time.Hour)
	e.dispatch(Report{})
	dspfNoneInFlight(t, e)
}
