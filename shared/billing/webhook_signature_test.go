package billing_test

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/billing"
)

func TestVerifySignature(t *testing.T) {
	body := event(apiNew, "evt_sig", billing.EventInvoicePaid, t0, invoiceObject(apiNew, "in_1", "cus_1", "sub_1"))
	now := time.Now()
	good := sign(body, testSecret, now)
	goodV1 := good[strings.Index(good, "v1="):]
	ts := good[:strings.Index(good, ",")]
	other := sign(body, "whsec_someone_else", now)
	otherV1 := other[strings.Index(other, "v1="):]
	cases := []struct {
		name, header string
		body         []byte
		ok           bool
	}{
		{"valid", good, body, true},
		{"several v1, one valid (secret rotation)", ts + "," + otherV1 + "," + goodV1, body, true},
		{"v0 and unknown schemes ignored", ts + ",v0=abcd,x=1," + goodV1, body, true},
		{"missing", "", body, false},
		{"other secret", other, body, false},
		{"tampered body", good, []byte(strings.Replace(string(body), "in_1", "in_2", 1)), false},
		{"stale (301 s)", sign(body, testSecret, now.Add(-301*time.Second)), body, false},
		{"no timestamp", goodV1, body, false},
		{"no v1", ts, body, false},
		{"v1 not hex", ts + ",v1=zz", body, false},
		{"garbage", "hello", body, false},
		{"timestamp not a number", "t=abc," + goodV1, body, false},
		{"signature over another timestamp", "t=1," + goodV1, body, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := billing.VerifySignature(tc.body, tc.header, testSecret)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("code = %s", apperr.CodeOf(err))
			}
		})
	}
	if err := billing.VerifySignature(body, good, ""); err == nil {
		t.Fatal("an empty secret verified")
	}
}

// Every rejection is a 400 with the JSON error, and records nothing.
// Origin bug: events without the header were processed unsigned.
func TestWebhookRejectsUnsignedAndBadlySigned(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Sig", Customer: "cus_Sig", Status: "active", Price: testPrices.PriceHACCP, OrgID: org}
	body := event(apiNew, "evt_forged", billing.EventSubscriptionCreated, t0, subscriptionObject(apiNew, sub))
	now := time.Now()
	malformed := []byte(`{"id": "evt_bad", "type": `)
	noID := []byte(`{"type":"invoice.paid","created":1767225600,"data":{"object":{}}}`)
	cases := []struct {
		name string
		body []byte
		sigs []string
	}{
		{"no header", body, nil},
		{"empty header", body, []string{""}},
		{"wrong secret", body, []string{sign(body, "whsec_attacker", now)}},
		{"stale", body, []string{sign(body, testSecret, now.Add(-10*time.Minute))}},
		{"malformed JSON", malformed, []string{sign(malformed, testSecret, now)}},
		{"event without id", noID, []string{sign(noID, testSecret, now)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := e.post(e.h, tc.body, tc.sigs...)
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"error"`) ||
				!strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	}
	if n := e.count(`SELECT count(*) FROM stripe_events`); n != 0 {
		t.Fatalf("rejected events recorded: %d", n)
	}
	if s := e.state(org); s.Status != "trial" || s.Plan != "starter" || s.Limit != 5 {
		t.Fatalf("a rejected event changed the organisation: %+v", s)
	}
}

// The Lambda proxy adapter splits a header on commas into several values:
// t=..., v1=..., v1=... must still verify.
func TestWebhookSignatureSplitIntoHeaderValues(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Split", Customer: "cus_Split", Status: "active", Price: testPrices.PricePro, OrgID: org}
	body := event(apiNew, "evt_split", billing.EventSubscriptionCreated, t0, subscriptionObject(apiNew, sub))
	header := sign(body, testSecret, time.Now())
	parts := strings.Split(header, ",")
	bogus := "v1=" + hex.EncodeToString(make([]byte, 32))
	w := e.post(e.h, body, parts[0], bogus, parts[1])
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if s := e.state(org); s.Plan != "pro" {
		t.Fatalf("%+v", s)
	}
}

// FuzzStripeSignatureHeader: a header nobody signed with our secret never
// verifies, and no header or body makes the verification panic.
func FuzzStripeSignatureHeader(f *testing.F) {
	body := event(apiNew, "evt_fuzz", billing.EventInvoicePaid, t0, invoiceObject(apiNew, "in_1", "cus_1", "sub_1"))
	now := time.Now()
	for _, h := range []string{
		"", "t=", "v1=", ",", "=,=", "t=1,v1=00", "t=-1,v1=", "t=99999999999999999999,v1=ab",
		sign(body, "whsec_other", now), sign(body, testSecret, now.Add(-time.Hour)),
		"t=" + strings.Repeat("9", 30) + ",v1=" + strings.Repeat("a", 64), "t=1,v1=zz,v1=,v0=1,x",
	} {
		f.Add(h, body)
	}
	f.Fuzz(func(t *testing.T, header string, payload []byte) {
		if err := billing.VerifySignature(payload, header, testSecret); err == nil {
			t.Fatalf("header %q verified for %q", header, payload)
		}
	})
}
