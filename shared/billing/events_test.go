package billing_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/billing"
)

const orgUUID = "0e0a0000-0000-4000-8000-00000000000a"

func obj(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseEvent(t *testing.T) {
	ev, err := billing.ParseEvent(event(apiNew, "evt_1", billing.EventInvoicePaid, t0, map[string]any{"id": "in_1"}))
	if err != nil || ev.ID != "evt_1" || ev.Type != billing.EventInvoicePaid || ev.APIVersion != apiNew ||
		ev.Created.Unix() != t0 || !strings.Contains(string(ev.Object), `"in_1"`) {
		t.Fatalf("%+v %v", ev, err)
	}
	for _, bad := range []string{
		``, `[]`, `null`, `{"id":"evt_1"`,
		`{"type":"x","created":1,"data":{"object":{}}}`,   // no id
		`{"id":"evt_1","created":1,"data":{"object":{}}}`, // no type
		`{"id":"evt_1","type":"x","data":{"object":{}}}`,  // no created
		`{"id":"evt_1","type":"x","created":1}`,           // no object
		`{"id":"evt_1","type":"x","created":1,"data":{"object":"in_1"}}`,
		`{"id":1,"type":"x","created":1,"data":{"object":{}}}`, // wrong type
		`{"id":"evt_1","type":"x","created":"1","data":{"object":{}}}`,
	} {
		if _, err := billing.ParseEvent([]byte(bad)); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

func TestParseSubscriptionBothAPIVersions(t *testing.T) {
	for _, v := range apiVersions {
		f := subFixture{ID: "sub_1", Customer: "cus_1", Status: "trialing", Price: "price_1Pro", OrgID: orgUUID,
			MetaPlan: "starter", Start: t0, End: t0 + 100, CancelAtPeriodEnd: true, CanceledAt: t0 + 5, TrialEnd: t0 + 50}
		s, err := billing.ParseSubscription(obj(t, subscriptionObject(v, f)))
		if err != nil {
			t.Fatal(err)
		}
		if s.ID != "sub_1" || s.CustomerID != "cus_1" || s.Status != "trialing" || s.PriceID != "price_1Pro" ||
			s.OrganizationID != orgUUID || s.MetadataPlan != "starter" || !s.CancelAtPeriodEnd ||
			unix(s.PeriodStart) != t0 || unix(s.PeriodEnd) != t0+100 || unix(s.CanceledAt) != t0+5 || unix(s.TrialEnd) != t0+50 {
			t.Errorf("%s: %+v", v, s)
		}
	}
}

func TestParseSubscriptionShapes(t *testing.T) {
	// Expanded customer, camelCase metadata of the old system, item-level
	// periods winning over stale top-level ones, nulls.
	s, err := billing.ParseSubscription([]byte(`{"id":"sub_2","customer":{"id":"cus_2","object":"customer"},
		"status":"active","metadata":{"organizationId":"` + orgUUID + `","n":5},"canceled_at":null,"trial_end":null,
		"current_period_start":1,"current_period_end":2,
		"items":{"data":[{"price":{"id":"price_x"},"current_period_start":10,"current_period_end":20},{"price":{"id":"price_y"}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.CustomerID != "cus_2" || s.OrganizationID != orgUUID || s.PriceID != "price_x" ||
		unix(s.PeriodStart) != 10 || unix(s.PeriodEnd) != 20 || s.CanceledAt != nil || s.TrialEnd != nil {
		t.Fatalf("%+v", s)
	}
	// A metadata id that is not a UUID names no organisation.
	s, _ = billing.ParseSubscription([]byte(`{"id":"sub_3","metadata":{"organization_id":"1; DROP TABLE x"},"items":{"data":[]}}`))
	if s.OrganizationID != "" || s.PriceID != "" || s.PeriodStart != nil {
		t.Fatalf("%+v", s)
	}
	for _, bad := range []string{`{}`, `{"id":"sub_4","customer":5}`, `{"id":"sub_4","canceled_at":"x"}`, `[]`} {
		if _, err := billing.ParseSubscription([]byte(bad)); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

func TestParseInvoiceBothAPIVersions(t *testing.T) {
	for _, v := range apiVersions {
		inv, err := billing.ParseInvoice(obj(t, invoiceObject(v, "in_1", "cus_1", "sub_1")))
		if err != nil || inv.ID != "in_1" || inv.CustomerID != "cus_1" || inv.SubscriptionID != "sub_1" {
			t.Errorf("%s: %+v %v", v, inv, err)
		}
	}
	inv, err := billing.ParseInvoice([]byte(`{"id":"in_2","customer":"cus_2","subscription":null,"parent":null}`))
	if err != nil || inv.SubscriptionID != "" {
		t.Fatalf("%+v %v", inv, err)
	}
	inv, _ = billing.ParseInvoice([]byte(`{"id":"in_3","parent":{"subscription_details":{"subscription":{"id":"sub_3","object":"subscription"}}}}`))
	if inv.SubscriptionID != "sub_3" {
		t.Fatalf("%+v", inv)
	}
}

func TestParseCheckoutSession(t *testing.T) {
	other := "0e0a0000-0000-4000-8000-00000000000b"
	s, err := billing.ParseCheckoutSession(obj(t, checkoutObject(orgUUID, "cus_1", "sub_1", "pro", "paid")))
	if err != nil || s.OrganizationID != orgUUID || s.CustomerID != "cus_1" || s.SubscriptionID != "sub_1" ||
		s.Plan != "pro" || s.PaymentStatus != "paid" || s.Mode != "subscription" {
		t.Fatalf("%+v %v", s, err)
	}
	// client_reference_id first, then metadata (either spelling).
	s, _ = billing.ParseCheckoutSession([]byte(`{"client_reference_id":"` + orgUUID + `","metadata":{"organization_id":"` + other + `"}}`))
	if s.OrganizationID != orgUUID {
		t.Fatalf("%+v", s)
	}
	s, _ = billing.ParseCheckoutSession([]byte(`{"client_reference_id":null,"metadata":{"organizationId":"` + other + `"}}`))
	if s.OrganizationID != other {
		t.Fatalf("%+v", s)
	}
	s, _ = billing.ParseCheckoutSession([]byte(`{"client_reference_id":"acme","customer":{"id":"cus_9"},"subscription":null}`))
	if s.OrganizationID != "" || s.CustomerID != "cus_9" || s.SubscriptionID != "" {
		t.Fatalf("%+v", s)
	}
}

// FuzzParseEvent: no input makes the field extraction panic, and an
// accepted envelope always has what recording it needs.
func FuzzParseEvent(f *testing.F) {
	for _, v := range apiVersions {
		f.Add(event(v, "evt_1", billing.EventSubscriptionUpdated, t0, subscriptionObject(v, subFixture{ID: "sub_1",
			Customer: "cus_1", Status: "active", Price: "price_1", OrgID: orgUUID})))
		f.Add(event(v, "evt_2", billing.EventInvoicePaid, t0, invoiceObject(v, "in_1", "cus_1", "sub_1")))
	}
	f.Add(event(apiNew, "evt_3", billing.EventCheckoutCompleted, t0, checkoutObject(orgUUID, "cus_1", "sub_1", "pro", "paid")))
	f.Add([]byte(`{"id":"e","type":"t","created":1,"data":{"object":{"customer":{"id":null},"items":{"data":[{"price":7}]}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := billing.ParseEvent(body)
		if err != nil {
			return
		}
		if ev.ID == "" || ev.Type == "" || ev.Created.Unix() <= 0 || len(ev.Object) == 0 {
			t.Fatalf("accepted an incomplete envelope: %+v", ev)
		}
		if s, err := billing.ParseSubscription(ev.Object); err == nil {
			if s.OrganizationID != "" && len(s.OrganizationID) != 36 {
				t.Fatalf("organisation id %q", s.OrganizationID)
			}
			billing.MapStatus(s.Status)
			billing.PlanForPrice(testPrices, s.PriceID)
		}
		if c, err := billing.ParseCheckoutSession(ev.Object); err == nil && c.OrganizationID != "" && len(c.OrganizationID) != 36 {
			t.Fatalf("organisation id %q", c.OrganizationID)
		}
		_, _ = billing.ParseInvoice(ev.Object)
	})
}
