package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// TestEvaluateSenders: each channel's status and the sentence that says
// why, from what the providers answered.
func TestEvaluateSenders(t *testing.T) {
	const ours = "https://api.frostguard.example/webhooks/telnyx"
	good := func(mod func(*SenderFacts)) SenderFacts {
		f := SenderFacts{SMSConfigured: true, VoiceConfigured: true, EmailConfigured: true, FromNumber: "+18445550001", OurWebhookURL: ours,
			Number: TelnyxNumberFacts{Found: true, Type: "tollfree", SMS: true, MessagingProfileID: "mp-1", ProfileEnabled: true,
				ProfileWebhookURL: ours, TollFreeStatus: "Verified"},
			CallApp: CallAppFacts{Active: true, WebhookEventURL: ours, NumberFound: true, NumberStatus: "active"},
			Resend:  ResendDomainFacts{Domain: "frostguard.app", Found: true, Status: "verified"}}
		if mod != nil {
			mod(&f)
		}
		return f
	}
	now := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		f       SenderFacts
		channel string
		status  string
		problem string // a sentence the channel's problems contain; "" = none
		overall string
	}{
		{"all good", good(nil), "sms", SenderOK, "", SenderOK},
		{"toll-free verification pending", good(func(f *SenderFacts) { f.Number.TollFreeStatus = "Waiting For Customer" }),
			"sms", SenderDown, "cannot send SMS: toll-free verification pending (Waiting For Customer)", SenderDown},
		{"toll-free verification rejected", good(func(f *SenderFacts) {
			f.Number.TollFreeStatus, f.Number.TollFreeReason = "Rejected", "opt-in not shown"
		}),
			"sms", SenderDown, "cannot send SMS: toll-free verification rejected: opt-in not shown", SenderDown},
		{"toll-free never submitted", good(func(f *SenderFacts) { f.Number.TollFreeStatus = "" }), "sms", SenderDown, "toll-free verification not submitted", SenderDown},
		{"a long code needs no toll-free verification", good(func(f *SenderFacts) { f.Number.Type, f.Number.TollFreeStatus = "longcode", "" }), "sms", SenderOK, "", SenderOK},
		{"no SMS capability", good(func(f *SenderFacts) { f.Number.SMS = false }), "sms", SenderDown, "has no SMS capability", SenderDown},
		{"profile disabled", good(func(f *SenderFacts) { f.Number.ProfileEnabled = false }), "sms", SenderDown, "the messaging profile mp-1 is disabled", SenderDown},
		{"number not in the account", good(func(f *SenderFacts) { f.Number = TelnyxNumberFacts{} }), "sms", SenderDown, "is not a number of this Telnyx account", SenderDown},
		{"receipts go elsewhere", good(func(f *SenderFacts) { f.Number.ProfileWebhookURL = "https://old.example/hook" }),
			"sms", SenderWarning, `delivery receipts and replies (STOP, ACK) go to "https://old.example/hook"`, SenderWarning},
		{"Telnyx unreachable", good(func(f *SenderFacts) { f.NumberErr = errors.New("GET /v2/phone_numbers/messaging: 401") }),
			"sms", SenderUnknown, "could not ask Telnyx about +18445550001: GET /v2/phone_numbers/messaging: 401", SenderWarning},
		{"no Telnyx key", good(func(f *SenderFacts) { f.SMSConfigured, f.VoiceConfigured = false, false }), "sms", SenderNotConfigured, "SMS are logged", SenderOK},
		{"call application inactive", good(func(f *SenderFacts) { f.CallApp.Active = false }), "voice", SenderDown, "cannot place calls", SenderDown},
		{"call events go elsewhere", good(func(f *SenderFacts) { f.CallApp.WebhookEventURL = "" }), "voice", SenderWarning, "sends events to \"\"", SenderWarning},
		{"caller id not active", good(func(f *SenderFacts) { f.CallApp.NumberStatus = "port-pending" }), "voice", SenderDown,
			"cannot place calls: the caller id +18445550001 is port pending, not active", SenderDown},
		{"caller id not in the account", good(func(f *SenderFacts) { f.CallApp.NumberFound = false }), "voice", SenderDown, "is not a number of this Telnyx account", SenderDown},
		{"no call application", good(func(f *SenderFacts) { f.VoiceConfigured = false }), "voice", SenderNotConfigured, "no TELNYX_CONNECTION_ID", SenderOK},
		{"e-mail domain pending", good(func(f *SenderFacts) { f.Resend.Status = "pending" }), "email", SenderDown,
			"cannot send e-mail: the domain frostguard.app is pending, not verified", SenderDown},
		{"e-mail domain missing", good(func(f *SenderFacts) { f.Resend.Found = false }), "email", SenderDown, "is not in this Resend account", SenderDown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := EvaluateSenders(tc.f, now)
			if h.Status != tc.overall || !h.CheckedAt.Equal(now) || len(h.Channels) != 3 {
				t.Fatalf("report %+v", h)
			}
			for _, c := range h.Channels {
				if c.Channel != tc.channel {
					continue
				}
				joined := strings.Join(c.Problems, " | ")
				if c.Status != tc.status || (tc.problem == "") != (len(c.Problems) == 0) || !strings.Contains(joined, tc.problem) {
					t.Fatalf("%s: %s %q, want %s %q", c.Channel, c.Status, joined, tc.status, tc.problem)
				}
			}
		})
	}
}

// shFake plays the Telnyx and Resend endpoints the check reads, refusing
// what the real APIs refuse (method, bearer key, missing query
// parameters), and counts the requests.
type shFake struct {
	*httptest.Server
	mu       sync.Mutex
	hits     int
	refused  []string
	tollFree string // verificationStatus of the newest request
	domain   string // the Resend domain's status
}

func newSHFake(t *testing.T) *shFake {
	f := &shFake{tollFree: "Waiting For Customer", domain: "verified"}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *shFake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits++
	refuse := func(status int, why string) {
		f.refused = append(f.refused, r.URL.String()+": "+why)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"errors":[{"code":"10015","title":%q}]}`, why)
	}
	q := r.URL.Query()
	key := "Bearer KEY_sh"
	if r.URL.Path == "/domains" {
		key = "Bearer re_sh"
	}
	switch {
	case r.Method != http.MethodGet:
		refuse(405, "method")
		return
	case r.Header.Get("Authorization") != key:
		refuse(401, "authentication")
		return
	}
	var body any
	switch r.URL.Path {
	case "/v2/phone_numbers/messaging":
		if q.Get("filter[phone_number]") != "+18445550001" {
			refuse(422, "filter[phone_number]")
			return
		}
		body = map[string]any{"data": []any{map[string]any{"record_type": "messaging_settings", "phone_number": "+18445550001",
			"type": "tollfree", "messaging_profile_id": "mp-1", "features": map[string]any{"sms": map[string]any{"domestic_two_way": true}, "mms": nil}}},
			"meta": map[string]any{"total_results": 1}}
	case "/v2/messaging_profiles/mp-1":
		body = map[string]any{"data": map[string]any{"id": "mp-1", "enabled": true, "webhook_url": "https://api.frostguard.example/webhooks/telnyx"}}
	case "/v2/messaging_tollfree/verification/requests":
		if q.Get("page") == "" || q.Get("page_size") == "" || q.Get("phone_number") != "+18445550001" {
			refuse(422, "page, page_size and phone_number")
			return
		}
		body = map[string]any{"records": []any{map[string]any{"id": "vr-1", "verificationStatus": f.tollFree,
			"phoneNumbers": []any{map[string]any{"phoneNumber": "+18445550001"}}}}, "total_records": 1}
	case "/v2/phone_numbers":
		if q.Get("filter[phone_number]") != "+18445550001" {
			refuse(422, "filter[phone_number]")
			return
		}
		body = map[string]any{"data": []any{map[string]any{"record_type": "phone_number", "phone_number": "+18445550001",
			"status": "active", "connection_id": "cc-1", "phone_number_type": "toll_free"}}}
	case "/v2/call_control_applications/cc-1":
		body = map[string]any{"data": map[string]any{"id": "cc-1", "active": true, "webhook_event_url": "https://api.frostguard.example/webhooks/telnyx"}}
	case "/domains":
		body = map[string]any{"data": []any{map[string]any{"id": "d-1", "name": "frostguard.app", "status": f.domain, "region": "us-east-1"}}}
	default:
		refuse(404, "not found")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// TestSenderHealthCheckAgainstFakes: the sweeper's task asks Telnyx and
// Resend as their APIs expect, stores the report, counts the channels in
// trouble as a metric, and does not ask again within 15 minutes.
func TestSenderHealthCheckAgainstFakes(t *testing.T) {
	captured := metrics.Capture(t)
	db, _ := testenv.OpenDB(t)
	fake := newSHFake(t)
	now := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	check := SenderHealthCheck{DB: db, Client: &http.Client{Timeout: 2 * time.Second}, Now: func() time.Time { return now },
		Config: config.Notify{TelnyxAPIKey: "KEY_sh", TelnyxAPIBase: fake.URL, TelnyxFromNumber: "+18445550001",
			TelnyxConnectionID: "cc-1", TelnyxWebhookURL: "https://api.frostguard.example/webhooks/telnyx",
			ResendAPIKey: "re_sh", ResendAPIBase: fake.URL, EmailFrom: "FrostGuard Alerts <alerts@FrostGuard.app>"}}
	bad, err := check.Run(context.Background())
	if err != nil || bad != 1 {
		t.Fatalf("run: %d %v", bad, err)
	}
	h, err := db.SenderHealth(context.Background())
	if err != nil || h == nil || h.Status != SenderDown || !h.CheckedAt.Equal(now) {
		t.Fatalf("stored %+v %v", h, err)
	}
	want := map[string]string{"sms": SenderDown, "voice": SenderOK, "email": SenderOK}
	for _, c := range h.Channels {
		if c.Status != want[c.Channel] {
			t.Errorf("%s: %s %v", c.Channel, c.Status, c.Problems)
		}
	}
	if h.Channels[0].Problems[0] != "cannot send SMS: toll-free verification pending (Waiting For Customer)" {
		t.Errorf("sms problems %q", h.Channels[0].Problems)
	}
	if got := captured.Sums()["SendersUnhealthy"]; got != 1 {
		t.Errorf("metric %v", captured.Sums())
	}
	hits := fake.hits
	if hits != 6 || len(fake.refused) > 0 {
		t.Fatalf("%d requests, refused %v", hits, fake.refused)
	}

	// Within 15 minutes nothing is asked; after, the verified number is ok.
	now = now.Add(10 * time.Minute)
	if _, err := check.Run(context.Background()); err != nil || fake.hits != hits {
		t.Fatalf("asked again after 10 minutes: %d %v", fake.hits, err)
	}
	fake.tollFree, fake.domain = "Verified", "failed"
	now = now.Add(6 * time.Minute)
	if bad, err := check.Run(context.Background()); err != nil || bad != 1 {
		t.Fatalf("second check: %d %v", bad, err)
	}
	h, _ = db.SenderHealth(context.Background())
	if h.Channels[0].Status != SenderOK || h.Channels[2].Status != SenderDown || !strings.Contains(h.Channels[2].Problems[0], "frostguard.app is failed") {
		t.Fatalf("after the second check %+v", h.Channels)
	}

	// A wrong key: the channels are unknown, saying what Telnyx answered.
	check.Config.TelnyxAPIKey = "KEY_wrong"
	now = now.Add(store.SenderHealthEvery + time.Minute)
	if _, err := check.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, _ = db.SenderHealth(context.Background())
	if h.Channels[0].Status != SenderUnknown || !strings.Contains(h.Channels[0].Problems[0], "401") || h.Channels[1].Status != SenderUnknown {
		t.Fatalf("with a wrong key %+v", h.Channels)
	}
	if strings.Contains(fmt.Sprint(h), "KEY_wrong") {
		t.Fatal("the key is in the report")
	}
}
