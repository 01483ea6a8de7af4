package paging

import (
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
)

// TestFallbackNextChannel: a page that failed for good goes to the same
// contact's next channel (sms -> email -> voice, wrapping), skipping the
// channels the deployment cannot send on, that do not reach the contact,
// or that the step already used for them; an alert no longer active needs
// nothing; every decision is written in the alert's history.
func TestFallbackNextChannel(t *testing.T) {
	all := []string{"sms", "email", "voice"}
	now := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	temp, limit := 9.5, 5.0
	base := func(mod func(*store.FallbackFacts)) store.FallbackFacts {
		f := store.FallbackFacts{ID: "n1", OrgID: "o1", AlertID: "a1", Channel: "sms", Recipient: "+15555550100",
			Status: "failed", Reason: "undelivered", ContactActive: true, AlertStatus: "active", Used: []string{"sms"},
			Contact: store.Contact{ID: "c1", Name: "Jane", Phone: "+15555550100", Email: "jane@example.com"},
			Type:    "temp_excursion", Severity: "critical", AckCode: "ABC123", SiteName: "Main St", UnitName: "Fridge 1",
			TimeZone: "Europe/Paris", TempUnit: "celsius", TriggeredAt: now.Add(-20 * time.Minute), TemperatureC: &temp, LimitC: &limit}
		mod(&f)
		return f
	}
	for _, tc := range []struct {
		name      string
		f         store.FallbackFacts
		available []string
		want      string // next channel, "" none
		note      string // "" = no history line
	}{
		{"failed sms: e-mail", base(func(*store.FallbackFacts) {}), all, "email", "SMS to Jane failed (undelivered): paging them by e-mail instead"},
		{"opted-out sms: e-mail", base(func(f *store.FallbackFacts) { f.Status, f.Reason = "skipped", "opted_out" }), all, "email",
			"SMS to Jane skipped (opted_out): paging them by e-mail instead"},
		{"no address: a call", base(func(f *store.FallbackFacts) { f.Contact.Email = "" }), all, "voice", "paging them by phone call instead"},
		{"e-mail already in the step: a call", base(func(f *store.FallbackFacts) { f.Used = []string{"email", "sms"} }), all, "voice", "by phone call"},
		{"failed e-mail: a call", base(func(f *store.FallbackFacts) { f.Channel, f.Used = "email", []string{"email"} }), all, "voice", "e-mail to Jane failed"},
		{"failed call: SMS", base(func(f *store.FallbackFacts) { f.Channel, f.Used = "voice", []string{"voice"} }), all, "sms", "phone call to Jane failed"},
		{"no voice configured", base(func(f *store.FallbackFacts) { f.Contact.Email = "" }), []string{"sms", "email"}, "", "no other channel reaches them"},
		{"voice opt-out", base(func(f *store.FallbackFacts) { f.Contact.Email, f.VoiceOptOut = "", true }), all, "", "no other channel reaches them"},
		{"every channel used", base(func(f *store.FallbackFacts) { f.Used = all }), all, "", "no other channel reaches them"},
		{"contact deactivated", base(func(f *store.FallbackFacts) { f.ContactActive = false }), all, "", "the contact is deactivated"},
		{"alert acknowledged meanwhile", base(func(f *store.FallbackFacts) { f.AlertStatus = "acknowledged" }), all, "", ""},
		{"alert resolved meanwhile", base(func(f *store.FallbackFacts) { f.AlertStatus = "resolved" }), all, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := Fallback(tc.f, tc.available, "https://app.example", now)
			got := ""
			if w.Row != nil {
				got = w.Row.Channel
			}
			if got != tc.want {
				t.Fatalf("next %q, want %q (%+v)", got, tc.want, w)
			}
			if (tc.note == "") != (w.Note == "") || !strings.Contains(w.Note, tc.note) {
				t.Fatalf("note %q, want it to contain %q", w.Note, tc.note)
			}
			r := w.Row
			if r == nil {
				return
			}
			if r.ContactID != "c1" || r.Body == "" {
				t.Fatalf("row %+v", r)
			}
			switch r.Channel {
			case "email":
				if r.Recipient != "jane@example.com" || !strings.Contains(r.Subject, "Fridge 1") || !strings.Contains(r.Body, "ABC123") {
					t.Fatalf("e-mail %+v", r)
				}
			case "voice":
				// a fallback call is redialled like a policy's call
				if r.Recipient != "+15555550100" || r.Redials != 2 || r.RedialAfter != 3*time.Minute {
					t.Fatalf("call %+v", r)
				}
			case "sms":
				if r.Recipient != "+15555550100" || !strings.Contains(r.Body, "ABC123") {
					t.Fatalf("sms %+v", r)
				}
			}
		})
	}
}
