package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func telnyxFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseTelnyxEventFixtures(t *testing.T) {
	cases := []struct {
		file, typ, id, outcome, lastError string
		at                                time.Time
	}{
		{"message_sent.json", TelnyxMessageSent, "86f58db9-0fe3-4adc-9d1f-46e66e6e9323", "sent", "",
			time.Date(2026, 1, 1, 10, 0, 1, 500e6, time.UTC)},
		{"message_finalized_delivered.json", TelnyxMessageFinalized, "4ee8c3a6-4995-4309-a3c6-38e3db9ea4be", "delivered", "",
			time.Date(2026, 1, 1, 10, 0, 5, 100e6, time.UTC)},
		{"message_finalized_failed.json", TelnyxMessageFinalized, "9d2a1f0c-2b7e-4c51-8f3e-0a6c5e2d7b11", "failed",
			"40008 Undeliverable: The message was not delivered to the handset.", time.Date(2026, 1, 1, 10, 0, 9, 1e6, time.UTC)},
		{"message_finalized_unconfirmed.json", TelnyxMessageFinalized, "c0d7e5a2-61b8-4f3a-9e7d-52b1a4c8f9e0", "unconfirmed",
			"40006 Recipient server unavailable: No delivery receipt was returned by the carrier.", time.Date(2026, 1, 1, 10, 4, 59, 800e6, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			ev, err := ParseTelnyxEvent(telnyxFixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != c.typ || ev.ID != c.id || ev.MessageID != "40385f64-5717-4562-b3fc-2c963f66afa6" || ev.Direction != "outbound" {
				t.Fatalf("parsed %+v", ev)
			}
			if ev.OccurredAt.IsZero() || ev.OccurredAt.Location() != time.UTC {
				t.Fatalf("occurred_at %v", ev.OccurredAt)
			}
			got := ev.SentAt
			if ev.Type == TelnyxMessageFinalized {
				got = ev.CompletedAt
			}
			if !got.Equal(c.at) {
				t.Fatalf("time %v, want %v", got, c.at)
			}
			outcome, lastError := ev.DeliveryOutcome()
			if outcome != c.outcome || lastError != c.lastError {
				t.Fatalf("outcome %q %q, want %q %q", outcome, lastError, c.outcome, c.lastError)
			}
		})
	}
	ev, err := ParseTelnyxEvent(telnyxFixture(t, "message_received.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != TelnyxMessageReceived || ev.From != "+15555550123" || ev.Text != "ACK 7F3A2C" || ev.Direction != "inbound" ||
		len(ev.To) != 1 || ev.To[0].PhoneNumber != "+18445550001" {
		t.Fatalf("inbound %+v", ev)
	}
	if o, _ := ev.DeliveryOutcome(); o != "" {
		t.Fatalf("inbound has delivery outcome %q", o)
	}
}

func TestParseTelnyxEventErrors(t *testing.T) {
	bad := map[string]string{
		"not json":            `{"data":`,
		"empty":               ``,
		"null":                `null`,
		"no data":             `{"meta":{}}`,
		"no id":               `{"data":{"event_type":"message.sent","payload":{"id":"m"}}}`,
		"id with space":       `{"data":{"id":"a b","event_type":"message.sent","payload":{"id":"m"}}}`,
		"id with NUL":         `{"data":{"id":"a\u0000","event_type":"message.sent","payload":{"id":"m"}}}`,
		"long id":             `{"data":{"id":"` + strings.Repeat("x", 129) + `","event_type":"message.sent","payload":{"id":"m"}}}`,
		"no type":             `{"data":{"id":"e","payload":{"id":"m"}}}`,
		"bad occurred_at":     `{"data":{"id":"e","event_type":"message.sent","occurred_at":"yesterday","payload":{"id":"m"}}}`,
		"year 0":              `{"data":{"id":"e","event_type":"x","occurred_at":"0000-01-01T00:00:00Z"}}`,
		"message w/o payload": `{"data":{"id":"e","event_type":"message.sent"}}`,
		"message w/o id":      `{"data":{"id":"e","event_type":"message.sent","payload":{"to":[]}}}`,
		"to not a list":       `{"data":{"id":"e","event_type":"message.finalized","payload":{"id":"m","to":{}}}}`,
		"code an object":      `{"data":{"id":"e","event_type":"message.finalized","payload":{"id":"m","errors":[{"code":{}}]}}}`,
		"bad completed_at":    `{"data":{"id":"e","event_type":"message.finalized","payload":{"id":"m","completed_at":"soon"}}}`,
		"trailing data":       `{"data":{"id":"e","event_type":"x"}} {}`,
		"call w/o payload":    `{"data":{"id":"e","event_type":"call.initiated"}}`,
		"call w/o call id":    `{"data":{"id":"e","event_type":"call.hangup","payload":{"hangup_cause":"timeout"}}}`,
		"call id with space":  `{"data":{"id":"e","event_type":"call.answered","payload":{"call_control_id":"v3: x"}}}`,
	}
	for name, body := range bad {
		if ev, err := ParseTelnyxEvent([]byte(body)); err == nil {
			t.Errorf("%s: accepted %+v", name, ev)
		}
	}
	// Events the webhook does not act on need no payload; numeric error
	// codes are taken.
	ev, err := ParseTelnyxEvent([]byte(`{"data":{"id":"e","event_type":"call.bridged"}}`))
	if err != nil || ev.Type != "call.bridged" || !ev.OccurredAt.IsZero() || ev.Call != nil {
		t.Fatalf("%+v %v", ev, err)
	}
	ev, err = ParseTelnyxEvent([]byte(`{"data":{"id":"e","event_type":"message.finalized","payload":{"id":"m",
		"to":[{"phone_number":"+15555550123","status":"sending_failed"}],"errors":[{"code":40300,"title":"Blocked"},{"code":null,"title":"x\u0000y"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if o, msg := ev.DeliveryOutcome(); o != "failed" || msg != "40300 Blocked; xy" {
		t.Fatalf("%q %q", o, msg)
	}
}

func TestDeliveryOutcome(t *testing.T) {
	cases := []struct {
		typ, status string
		errs        []TelnyxError
		outcome     string
		lastError   string
	}{
		{TelnyxMessageSent, "queued", nil, "sent", ""},
		{TelnyxMessageSent, "", nil, "sent", ""},
		{TelnyxMessageFinalized, "delivered", nil, "delivered", ""},
		{TelnyxMessageFinalized, "sending_failed", nil, "failed", "sending_failed"},
		{TelnyxMessageFinalized, "delivery_failed", []TelnyxError{{Code: "40002", Title: "Blocked as spam", Detail: "Blocked as spam"}}, "failed", "40002 Blocked as spam"},
		{TelnyxMessageFinalized, "delivery_unconfirmed", nil, "unconfirmed", "delivery_unconfirmed"},
		{TelnyxMessageFinalized, "queued", nil, "", ""},
		{TelnyxMessageFinalized, "", nil, "", ""},
		{TelnyxMessageReceived, "delivered", nil, "", ""},
		{"message.unknown", "delivered", nil, "", ""},
	}
	for _, c := range cases {
		ev := TelnyxEvent{Type: c.typ, Errors: c.errs}
		if c.status != "" {
			ev.To = []TelnyxRecipient{{PhoneNumber: "+15555550123", Status: c.status}}
		}
		o, e := ev.DeliveryOutcome()
		if o != c.outcome || e != c.lastError {
			t.Errorf("%s/%s: got %q %q, want %q %q", c.typ, c.status, o, e, c.outcome, c.lastError)
		}
	}
	long := TelnyxEvent{Type: TelnyxMessageFinalized, To: []TelnyxRecipient{{Status: "delivery_failed"}},
		Errors: []TelnyxError{{Code: "1", Title: strings.Repeat("é", 400)}}}
	if _, e := long.DeliveryOutcome(); len(e) > 500 || !strings.HasPrefix(e, "1 é") || !strings.HasSuffix(e, "é") {
		t.Fatalf("truncation: len %d %q", len(e), e[len(e)-4:])
	}
}

// FuzzParseTelnyxEvent: never panics; what it accepts has what the handler
// relies on.
func FuzzParseTelnyxEvent(f *testing.F) {
	for _, name := range []string{"message_sent.json", "message_finalized_delivered.json", "message_finalized_failed.json",
		"message_finalized_unconfirmed.json", "message_received.json", "call_initiated.json", "call_answered.json",
		"call_machine_detection_ended.json", "call_gather_ended.json", "call_speak_ended.json", "call_hangup.json"} {
		f.Add(telnyxFixture(f, name))
	}
	f.Add([]byte(`{"data":{"id":"e","event_type":"call.gather.ended","payload":{"call_control_id":"v3:x","digits":"1","client_state":"` +
		CallState{Org: "0b5c9f6e-5a7c-4c1e-9d55-1f3f6a0b7a11", Notification: "5d1f0c2e-8a7b-4b1c-9e3d-2a4b6c8d0e1f", Stage: "menu"}.Encode() + `"}}}`))
	f.Add([]byte(`{"data":{"id":"e","event_type":"message.finalized","payload":{"id":"m","errors":[{"code":1e400}]}}}`))
	f.Add([]byte(`{"data":{"id":"e","event_type":"x","occurred_at":"2026-01-01T00:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseTelnyxEvent(body)
		if err != nil {
			return
		}
		if !telnyxValidID(ev.ID) || !telnyxValidID(ev.Type) {
			t.Fatalf("accepted id %q type %q", ev.ID, ev.Type)
		}
		if strings.HasPrefix(ev.Type, "message.") && !telnyxValidID(ev.MessageID) {
			t.Fatalf("accepted message id %q", ev.MessageID)
		}
		if c := ev.Call; c != nil {
			if !callEventHandled(ev.Type) || !telnyxValidID(c.CallControlID) || len(c.Digits) > maxCallDigits ||
				strings.ContainsRune(c.HangupCause+c.Digits+c.Status, 0) {
				t.Fatalf("accepted call event %+v", c)
			}
			if c.Known && (c.State.Org == "" || c.State.Notification == "") {
				t.Fatalf("known call state without ids %+v", c.State)
			}
		}
		for _, tm := range []time.Time{ev.OccurredAt, ev.SentAt, ev.CompletedAt} {
			if !tm.IsZero() && (tm.Year() < 1970 || tm.Year() > 9999) {
				t.Fatalf("time %v", tm)
			}
		}
		_, lastError := ev.DeliveryOutcome()
		if len(lastError) > 500 || strings.ContainsRune(lastError, 0) || strings.ContainsRune(ev.Text, 0) || !utf8.ValidString(lastError) {
			t.Fatalf("unstorable text %q / %q", lastError, ev.Text)
		}
		kind, code := Keyword(ev.Text)
		if (kind == KeywordAck) != (code != "") {
			t.Fatalf("keyword %q code %q", kind, code)
		}
		_ = InboundPhone(ev.From)
	})
}
