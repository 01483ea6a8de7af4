package billing_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/billing"
	"github.com/frostguard/functions/shared/testenv"
)

func TestCheckoutCreatesOneCustomerAndASession(t *testing.T) {
	h := newCheckoutHarness(t)
	org, m := h.org("Alpha")
	owner := m[access.Owner]

	s := h.post(h.h, &owner, checkoutPath(org), map[string]any{"plan": "pro"}).must(t, 200).session(t)
	if s.Kind != billing.KindCheckout || s.URL == "" || !strings.HasPrefix(s.SessionID, "cs_") {
		t.Fatalf("session = %+v", s)
	}
	customer := h.storedCustomer(org)
	if !strings.HasPrefix(customer, "cus_") {
		t.Fatalf("stored customer %q", customer)
	}
	cs := h.spy.callsTo("/v1/customers")
	if len(cs) != 1 {
		t.Fatalf("%d customer creations", len(cs))
	}
	c := cs[0].Form
	if cs[0].IdempotencyKey != "customer-"+org || c.Get("metadata[organization_id]") != org ||
		c.Get("email") != owner.email || c.Get("name") != "Alpha" {
		t.Errorf("customer call: key %q form %v", cs[0].IdempotencyKey, c)
	}
	ss := h.spy.callsTo("/v1/checkout/sessions")
	if len(ss) != 1 {
		t.Fatalf("%d session calls", len(ss))
	}
	want := map[string]string{
		"mode":                      "subscription",
		"customer":                  customer,
		"client_reference_id":       org,
		"line_items[0][price]":      prices.PricePro,
		"line_items[0][quantity]":   "1",
		"metadata[organization_id]": org,
		"metadata[plan]":            "pro",
		"metadata[user_id]":         owner.id,
		"subscription_data[metadata][organization_id]": org,
		"subscription_data[metadata][plan]":            "pro",
		"success_url":                                  frontend + "/settings/billing?session_id={CHECKOUT_SESSION_ID}",
		"cancel_url":                                   frontend + "/settings/billing?canceled=true",
	}
	for k, v := range want {
		if got := ss[0].Form.Get(k); got != v {
			t.Errorf("session %s = %q, want %q", k, got, v)
		}
	}

	// The second checkout (an admin, another plan, own paths) reuses the
	// customer: no second creation.
	admin := m[access.Admin]
	h.post(h.h, &admin, checkoutPath(org), map[string]any{
		"plan": "haccp", "success_path": "/settings/billing?welcome=1", "cancel_path": "/pricing",
	}).must(t, 200)
	if n := len(h.spy.callsTo("/v1/customers")); n != 1 {
		t.Errorf("%d customer creations after a second checkout", n)
	}
	ss = h.spy.callsTo("/v1/checkout/sessions")
	last := ss[len(ss)-1].Form
	if last.Get("customer") != customer || last.Get("line_items[0][price]") != prices.PriceHACCP ||
		last.Get("success_url") != frontend+"/settings/billing?welcome=1" || last.Get("cancel_url") != frontend+"/pricing" {
		t.Errorf("second session form %v", last)
	}
}

func TestCheckoutAndPortalAccess(t *testing.T) {
	h := newCheckoutHarness(t)
	org, m := h.org("Alpha")
	other, om := h.org("Beta")
	_ = other
	for _, role := range []access.Role{access.Manager, access.Staff, access.Viewer, access.Inspector} {
		u := m[role]
		for _, p := range []string{checkoutPath(org), portalPath(org)} {
			if a := h.post(h.h, &u, p, map[string]any{"plan": "pro"}).must(t, 403); a.code() != "FORBIDDEN" {
				t.Errorf("%s %s: %s", role, p, a.Body)
			}
		}
	}
	// Another organisation's owner: 404, as if the organisation did not exist.
	stranger := om[access.Owner]
	for _, p := range []string{checkoutPath(org), portalPath(org)} {
		h.post(h.h, &stranger, p, map[string]any{"plan": "pro"}).must(t, 404)
		h.post(h.h, nil, p, map[string]any{"plan": "pro"}).must(t, 401)
	}
	h.post(h.h, &stranger, checkoutPath("not-a-uuid"), map[string]any{"plan": "pro"}).must(t, 404)
	if n := len(h.spy.callsTo("/v1/customers")) + len(h.spy.callsTo("/v1/checkout/sessions")); n != 0 {
		t.Errorf("%d Stripe calls for refused requests", n)
	}
	if h.storedCustomer(org) != "" {
		t.Error("a refused request stored a customer")
	}
}

func TestCheckoutWithoutStripeKey(t *testing.T) {
	h := newCheckoutHarness(t)
	org, m := h.org("Alpha")
	owner := m[access.Owner]
	for _, p := range []string{checkoutPath(org), portalPath(org)} {
		a := h.post(h.noKey, &owner, p, map[string]any{"plan": "pro"}).must(t, 503)
		if a.code() != "UNAVAILABLE" || !strings.Contains(string(a.Body), "billing is not configured") {
			t.Errorf("%s: %s", p, a.Body)
		}
	}
	// Authorisation still comes first: a viewer learns nothing more.
	viewer := m[access.Viewer]
	h.post(h.noKey, &viewer, checkoutPath(org), map[string]any{"plan": "pro"}).must(t, 403)
}

func TestCheckoutRefusesBadInput(t *testing.T) {
	h := newCheckoutHarness(t)
	org, m := h.org("Alpha")
	owner := m[access.Owner]
	bad := []map[string]any{
		{"plan": "enterprise"},
		{"plan": ""},
		{"plan": "Pro"},
		{"plan": prices.PricePro}, // a price id is not a plan
		{},
		{"plan": "pro", "price": "price_cheap"}, // unknown fields are refused
		{"plan": "pro", "success_path": "https://evil.test/phish"},
		{"plan": "pro", "success_path": "//evil.test/phish"},
		{"plan": "pro", "success_path": "/\\evil.test"},
		{"plan": "pro", "cancel_path": "http://evil.test"},
		{"plan": "pro", "cancel_path": "javascript:alert(1)"},
		{"plan": "pro", "cancel_path": "settings"},
	}
	for _, body := range bad {
		if a := h.post(h.h, &owner, checkoutPath(org), body); a.Status != 400 || a.code() != "INVALID_ARGUMENT" {
			t.Errorf("%v: %d %s", body, a.Status, a.Body)
		}
	}
	a := h.post(h.h, &owner, checkoutPath(org), map[string]any{"plan": "gold", "success_path": "//x", "cancel_path": "https://x"}).must(t, 400)
	for _, f := range []string{`"plan"`, `"success_path"`, `"cancel_path"`} {
		if !strings.Contains(string(a.Body), f) {
			t.Errorf("details lack %s: %s", f, a.Body)
		}
	}
	if n := len(h.spy.calls); n != 0 {
		t.Errorf("%d Stripe calls for invalid requests", n)
	}
}

func TestConcurrentCheckoutsCreateOneCustomer(t *testing.T) {
	h := newCheckoutHarness(t)
	org, m := h.org("Alpha")
	const n = 8
	var wg sync.WaitGroup
	answers := make([]answer, n)
	for i := 0; i < n; i++ {
		u := m[access.Owner]
		if i%2 == 1 {
			u = m[access.Admin]
		}
		wg.Add(1)
		go func(i int, u user) {
			defer wg.Done()
			answers[i] = h.post(h.h, &u, checkoutPath(org), map[string]any{"plan": "starter"})
		}(i, u)
	}
	wg.Wait()
	for i, a := range answers {
		if a.Status != 200 {
			t.Errorf("checkout %d: %d %s", i, a.Status, a.Body)
		}
	}
	if c := h.spy.callsTo("/v1/customers"); len(c) != 1 {
		t.Fatalf("%d customers created by %d concurrent checkouts", len(c), n)
	}
	customer := h.storedCustomer(org)
	for _, s := range h.spy.callsTo("/v1/checkout/sessions") {
		if s.Form.Get("customer") != customer {
			t.Errorf("a session used customer %q, stored %q", s.Form.Get("customer"), customer)
		}
	}
}

func TestCheckoutWithLiveSubscriptionOpensThePortal(t *testing.T) {
	h := newCheckoutHarness(t)
	org, m := h.org("Alpha")
	owner := m[access.Owner]
	h.exec(`UPDATE organizations SET stripe_customer_id = 'cus_existing' WHERE id = $1`, org)
	for _, status := range []string{"active", "past_due", "trial", "paused"} {
		h.exec(`UPDATE subscriptions SET stripe_subscription_id = 'sub_1', status = $2 WHERE organization_id = $1`, org, status)
		s := h.post(h.h, &owner, checkoutPath(org), map[string]any{"plan": "haccp"}).must(t, 200).session(t)
		if s.Kind != billing.KindPortal || s.URL == "" || s.SessionID != "" {
			t.Errorf("%s: %+v", status, s)
		}
	}
	if n := len(h.spy.callsTo("/v1/checkout/sessions")); n != 0 {
		t.Errorf("%d checkout sessions despite a live subscription", n)
	}
	ps := h.spy.callsTo("/v1/billing_portal/sessions")
	if len(ps) != 4 || ps[0].Form.Get("customer") != "cus_existing" || ps[0].Form.Get("return_url") != frontend+"/settings/billing" {
		t.Fatalf("portal calls %+v", ps)
	}
	// A canceled subscription is over: buying again is a new checkout with
	// the same customer.
	h.exec(`UPDATE subscriptions SET status = 'canceled' WHERE organization_id = $1`, org)
	s := h.post(h.h, &owner, checkoutPath(org), map[string]any{"plan": "pro"}).must(t, 200).session(t)
	if s.Kind != billing.KindCheckout {
		t.Errorf("canceled: %+v", s)
	}
	if n := len(h.spy.callsTo("/v1/customers")); n != 0 {
		t.Errorf("%d customers created for an organisation that has one", n)
	}
}

func TestPortal(t *testing.T) {
	h := newCheckoutHarness(t)
	org, m := h.org("Alpha")
	admin := m[access.Admin]
	if a := h.post(h.h, &admin, portalPath(org), nil).must(t, 409); a.code() != "CONFLICT" ||
		!strings.Contains(string(a.Body), "complete a checkout first") {
		t.Errorf("no customer: %s", a.Body)
	}
	h.exec(`UPDATE organizations SET stripe_customer_id = 'cus_portal' WHERE id = $1`, org)
	s := h.post(h.h, &admin, portalPath(org), nil).must(t, 200).session(t)
	if s.URL == "" || s.Kind != billing.KindPortal {
		t.Errorf("portal = %+v", s)
	}
	ps := h.spy.callsTo("/v1/billing_portal/sessions")
	if len(ps) != 1 || ps[0].Form.Get("customer") != "cus_portal" || ps[0].Form.Get("return_url") != frontend+"/settings/billing" {
		t.Errorf("portal calls %+v", ps)
	}
}

func TestStripeErrorsAre502WithoutDetails(t *testing.T) {
	h := newCheckoutHarness(t)
	org, m := h.org("Alpha")
	owner := m[access.Owner]
	h.spy.mu.Lock()
	h.spy.fail = "invalid_request_error"
	h.spy.mu.Unlock()
	a := h.post(h.h, &owner, checkoutPath(org), map[string]any{"plan": "pro"}).must(t, 502)
	if a.code() != "UPSTREAM_FAILED" || !strings.Contains(string(a.Body), "invalid_request_error") ||
		strings.Contains(string(a.Body), "sk_test") || strings.Contains(string(a.Body), "No such price") {
		t.Errorf("checkout: %s", a.Body)
	}
	// Nothing was stored for a customer Stripe did not create.
	if c := h.storedCustomer(org); c != "" {
		t.Errorf("stored customer %q after a failure", c)
	}
	h.exec(`UPDATE organizations SET stripe_customer_id = 'cus_x' WHERE id = $1`, org)
	if a := h.post(h.h, &owner, portalPath(org), nil).must(t, 502); a.code() != "UPSTREAM_FAILED" {
		t.Errorf("portal: %s", a.Body)
	}
}

// The customer a checkout links to the organisation is audited, by the
// caller, in the same transaction.
func TestCheckoutCustomerLinkIsAudited(t *testing.T) {
	h := newCheckoutHarness(t)
	org, m := h.org("Alpha")
	owner := m[access.Owner]
	h.post(h.h, &owner, checkoutPath(org), map[string]any{"plan": "pro"}).must(t, 200)
	var n int
	if err := testenv.Pool(h.db).QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE organization_id = $1 AND action = 'billing.customer_linked'
		AND actor_user_id = $2 AND after->>'stripe_customer_id' = $3`, org, owner.id, h.storedCustomer(org)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit rows %d (%v)", n, err)
	}
	// A second checkout links nothing new.
	h.post(h.h, &owner, checkoutPath(org), map[string]any{"plan": "pro"}).must(t, 200)
	if err := testenv.Pool(h.db).QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE organization_id = $1 AND action = 'billing.customer_linked'`, org).Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit rows after a second checkout %d (%v)", n, err)
	}
}
