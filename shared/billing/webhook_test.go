package billing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/billing"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

func TestWebhookSubscriptionLifecycle(t *testing.T) {
	for _, v := range apiVersions {
		t.Run(v, func(t *testing.T) {
			e := newEnv(t)
			org := e.org()
			sub := subFixture{ID: "sub_1Life", Customer: "cus_Life", Status: "active", Price: testPrices.PricePro,
				OrgID: org, Start: t0, End: t0 + 30*86400}
			e.expect(event(v, "evt_1", billing.EventSubscriptionCreated, t0, subscriptionObject(v, sub)), store.BillingApplied)
			s := e.state(org)
			if s.Status != "active" || s.Plan != "pro" || s.OrgPlan != "pro" || s.Limit != 25 ||
				str(s.SubID) != sub.ID || str(s.CustomerID) != "cus_Life" || str(s.OrgCustomer) != "cus_Life" ||
				str(s.PriceID) != testPrices.PricePro || str(s.LastEventID) != "evt_1" {
				t.Fatalf("after created: %+v", s)
			}
			// The periods are read where this API version puts them.
			if unix(s.PeriodStart) != t0 || unix(s.PeriodEnd) != t0+30*86400 {
				t.Fatalf("periods %v %v", s.PeriodStart, s.PeriodEnd)
			}
			sub.CancelAtPeriodEnd = true
			e.expect(event(v, "evt_2", billing.EventSubscriptionUpdated, t0+60, subscriptionObject(v, sub)), store.BillingApplied)
			if s := e.state(org); !s.CancelAtPeriodEnd || s.Status != "active" {
				t.Fatalf("after cancel at period end: %+v", s)
			}
			sub.Status, sub.CanceledAt = "canceled", t0+120
			e.expect(event(v, "evt_3", billing.EventSubscriptionDeleted, t0+120, subscriptionObject(v, sub)), store.BillingApplied)
			s = e.state(org)
			if s.Status != "canceled" || unix(s.CanceledAt) != t0+120 || domain.InGoodStanding(s.Status, s.TrialEndsAt, time.Now()) {
				t.Fatalf("after deleted: %+v", s)
			}
		})
	}
}

// Origin bug: a plan change made in the Billing Portal (new price, old
// metadata.plan) never reached the plan or the sensor limit.
func TestWebhookPortalPlanChangeUpdatesPlanAndLimit(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Portal", Customer: "cus_Portal", Status: "active", Price: testPrices.PriceStarter,
		OrgID: org, MetaPlan: "starter"}
	e.expect(event(apiNew, "evt_p1", billing.EventSubscriptionCreated, t0, subscriptionObject(apiNew, sub)), store.BillingApplied)
	for i, want := range []struct {
		price, plan string
		limit       int
	}{{testPrices.PriceHACCP, "haccp", 100}, {testPrices.PricePro, "pro", 25}, {testPrices.PriceStarter, "starter", 5}} {
		sub.Price = want.price
		e.expect(event(apiNew, fmt.Sprintf("evt_p%d", i+2), billing.EventSubscriptionUpdated, t0+int64(i+1)*60,
			subscriptionObject(apiNew, sub)), store.BillingApplied)
		if s := e.state(org); s.Plan != want.plan || s.OrgPlan != want.plan || s.Limit != want.limit {
			t.Fatalf("price %s: %+v", want.price, s)
		}
	}
}

func TestWebhookUnknownPriceChangesNoPlan(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Unk", Customer: "cus_Unk", Status: "active", Price: testPrices.PricePro, OrgID: org}
	e.expect(event(apiOld, "evt_u1", billing.EventSubscriptionCreated, t0, subscriptionObject(apiOld, sub)), store.BillingApplied)
	sub.Price, sub.Status = "price_SomethingElse", "past_due"
	e.expect(event(apiOld, "evt_u2", billing.EventSubscriptionUpdated, t0+60, subscriptionObject(apiOld, sub)), store.BillingApplied)
	// The old system turned an unmapped price into starter/5.
	s := e.state(org)
	if s.Plan != "pro" || s.OrgPlan != "pro" || s.Limit != 25 || str(s.PriceID) != testPrices.PricePro {
		t.Fatalf("plan changed by an unknown price: %+v", s)
	}
	if s.Status != "past_due" {
		t.Fatalf("the status is still applied: %+v", s)
	}
}

// Origin bug: unknown Stripe statuses were mapped to active.
func TestWebhookUnknownStatusGrantsNoAccess(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Stat", Customer: "cus_Stat", Status: "active", Price: testPrices.PricePro, OrgID: org}
	e.expect(event(apiNew, "evt_s1", billing.EventSubscriptionCreated, t0, subscriptionObject(apiNew, sub)), store.BillingApplied)
	sub.Status = "suspended_for_review" // a status Stripe might add
	e.expect(event(apiNew, "evt_s2", billing.EventSubscriptionUpdated, t0+60, subscriptionObject(apiNew, sub)), store.BillingApplied)
	s := e.state(org)
	if s.Status == "active" || domain.InGoodStanding(s.Status, s.TrialEndsAt, time.Now()) {
		t.Fatalf("an unknown status grants access: %+v", s)
	}
}

func TestWebhookCheckoutCompleted(t *testing.T) {
	for _, v := range apiVersions {
		t.Run(v, func(t *testing.T) {
			e := newEnv(t)
			org := e.org()
			// The session first: plan from its metadata until the
			// subscription's own events arrive.
			e.expect(event(v, "evt_c1", billing.EventCheckoutCompleted, t0+5,
				checkoutObject(org, "cus_Chk", "sub_Chk", "pro", "paid")), store.BillingApplied)
			s := e.state(org)
			if s.Status != "active" || s.Plan != "pro" || s.Limit != 25 || str(s.SubID) != "sub_Chk" ||
				str(s.CustomerID) != "cus_Chk" || str(s.OrgCustomer) != "cus_Chk" {
				t.Fatalf("after checkout: %+v", s)
			}
			// Then customer.subscription.created, older than the session:
			// it is the authority on the plan (the price) and applies.
			sub := subFixture{ID: "sub_Chk", Customer: "cus_Chk", Status: "active", Price: testPrices.PriceHACCP}
			e.expect(event(v, "evt_c2", billing.EventSubscriptionCreated, t0, subscriptionObject(v, sub)), store.BillingApplied)
			if s := e.state(org); s.Plan != "haccp" || s.Limit != 100 || s.Status != "active" {
				t.Fatalf("after subscription created: %+v", s)
			}
		})
	}
}

func TestWebhookCheckoutAfterSubscriptionEventsChangesNothing(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Late", Customer: "cus_Late", Status: "past_due", Price: testPrices.PriceStarter, OrgID: org}
	e.expect(event(apiNew, "evt_l1", billing.EventSubscriptionUpdated, t0+100, subscriptionObject(apiNew, sub)), store.BillingApplied)
	e.expect(event(apiNew, "evt_l2", billing.EventCheckoutCompleted, t0,
		checkoutObject(org, "cus_Late", "sub_Late", "haccp", "paid")), store.BillingUnchanged)
	if s := e.state(org); s.Status != "past_due" || s.Plan != "starter" || s.Limit != 5 {
		t.Fatalf("a late checkout overwrote the subscription's state: %+v", s)
	}
}

func TestWebhookCheckoutUnpaidRaisesNothingAndCustomerFindsTheOrganization(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	e.expect(event(apiOld, "evt_q1", billing.EventCheckoutCompleted, t0,
		checkoutObject(org, "cus_Q", "sub_Q1", "haccp", "unpaid")), store.BillingApplied)
	if s := e.state(org); s.Status != "trial" || s.Plan != "starter" || s.Limit != 5 || str(s.OrgCustomer) != "cus_Q" {
		t.Fatalf("unpaid checkout: %+v", s)
	}
	// No metadata and a subscription id we have not seen: found by the
	// customer stored at checkout.
	sub := subFixture{ID: "sub_Q2", Customer: "cus_Q", Status: "active", Price: testPrices.PriceHACCP}
	e.expect(event(apiOld, "evt_q2", billing.EventSubscriptionUpdated, t0+10, subscriptionObject(apiOld, sub)), store.BillingApplied)
	if s := e.state(org); s.Status != "active" || s.Plan != "haccp" || s.Limit != 100 || str(s.SubID) != "sub_Q2" {
		t.Fatalf("found by customer: %+v", s)
	}
}

func TestWebhookCheckoutForUnknownOrganization(t *testing.T) {
	e := newEnv(t)
	e.org()
	e.expect(event(apiNew, "evt_n1", billing.EventCheckoutCompleted, t0,
		checkoutObject("0e0a0000-0000-4000-8000-00000000beef", "cus_X", "sub_X", "pro", "paid")), store.BillingNoOrganization)
	e.expect(event(apiNew, "evt_n2", billing.EventCheckoutCompleted, t0,
		checkoutObject("not-a-uuid", "cus_X", "sub_X", "pro", "paid")), store.BillingNoOrganization)
	sub := subFixture{ID: "sub_Nobody", Customer: "cus_Nobody", Status: "active", Price: testPrices.PricePro}
	e.expect(event(apiNew, "evt_n3", billing.EventSubscriptionUpdated, t0, subscriptionObject(apiNew, sub)), store.BillingNoOrganization)
	if n := e.count(`SELECT count(*) FROM stripe_events`); n != 3 {
		t.Fatalf("unprocessable events must be recorded: %d", n)
	}
}

// Origin bug: invoice.paid was ignored, so past_due never cleared; and on
// new API versions invoice.subscription is under parent.
func TestWebhookInvoices(t *testing.T) {
	for _, v := range apiVersions {
		t.Run(v, func(t *testing.T) {
			e := newEnv(t)
			org := e.org()
			sub := subFixture{ID: "sub_Inv", Customer: "cus_Inv", Status: "active", Price: testPrices.PricePro, OrgID: org}
			e.expect(event(v, "evt_i1", billing.EventSubscriptionCreated, t0, subscriptionObject(v, sub)), store.BillingApplied)
			e.expect(event(v, "evt_i2", billing.EventInvoicePaymentFailed, t0+60, invoiceObject(v, "in_1", "cus_Inv", "sub_Inv")), store.BillingApplied)
			if s := e.state(org); s.Status != "past_due" {
				t.Fatalf("after payment_failed: %+v", s)
			}
			// A paid invoice older than the failure changes nothing.
			e.expect(event(v, "evt_i3", billing.EventInvoicePaid, t0+30, invoiceObject(v, "in_0", "cus_Inv", "sub_Inv")), store.BillingStale)
			e.expect(event(v, "evt_i4", billing.EventInvoicePaid, t0+120, invoiceObject(v, "in_1", "cus_Inv", "sub_Inv")), store.BillingApplied)
			if s := e.state(org); s.Status != "active" || str(s.LastEventID) != "evt_i4" {
				t.Fatalf("after paid: %+v", s)
			}
			// paid does not resurrect a canceled subscription.
			sub.Status = "canceled"
			e.expect(event(v, "evt_i5", billing.EventSubscriptionDeleted, t0+180, subscriptionObject(v, sub)), store.BillingApplied)
			e.expect(event(v, "evt_i6", billing.EventInvoicePaid, t0+240, invoiceObject(v, "in_2", "cus_Inv", "sub_Inv")), store.BillingUnchanged)
			if s := e.state(org); s.Status != "canceled" {
				t.Fatalf("after paid on canceled: %+v", s)
			}
			// An invoice of no subscription is recorded and ignored.
			e.expect(event(v, "evt_i7", billing.EventInvoicePaid, t0+300, invoiceObject(v, "in_3", "cus_Inv", "")), "ignored")
		})
	}
}

func TestWebhookIncompleteFirstInvoiceFailureGrantsNoAccess(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Inc", Customer: "cus_Inc", Status: "incomplete", Price: testPrices.PricePro, OrgID: org}
	e.expect(event(apiNew, "evt_x1", billing.EventSubscriptionCreated, t0, subscriptionObject(apiNew, sub)), store.BillingApplied)
	e.expect(event(apiNew, "evt_x2", billing.EventInvoicePaymentFailed, t0+1, invoiceObject(apiNew, "in_x", "cus_Inc", "sub_Inc")), store.BillingUnchanged)
	if s := e.state(org); s.Status != "incomplete" {
		t.Fatalf("%+v", s)
	}
}

func TestWebhookOutOfOrderDelivery(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Ord", Customer: "cus_Ord", Status: "past_due", Price: testPrices.PriceHACCP, OrgID: org}
	newer := event(apiNew, "evt_o2", billing.EventSubscriptionUpdated, t0+600, subscriptionObject(apiNew, sub))
	sub.Status, sub.Price = "active", testPrices.PriceStarter
	older := event(apiNew, "evt_o1", billing.EventSubscriptionUpdated, t0, subscriptionObject(apiNew, sub))
	e.expect(newer, store.BillingApplied)
	e.expect(older, store.BillingStale)
	s := e.state(org)
	if s.Status != "past_due" || s.Plan != "haccp" || s.Limit != 100 || str(s.LastEventID) != "evt_o2" {
		t.Fatalf("an older event overwrote a newer state: %+v", s)
	}
	// The stale event was recorded: its retry is a duplicate.
	if res := e.deliver(older); !res.Duplicate {
		t.Fatalf("retry of a stale event: %+v", res)
	}
	// Same second: applied (created has one-second resolution).
	sub.Status = "active"
	e.expect(event(apiNew, "evt_o3", billing.EventSubscriptionUpdated, t0+600, subscriptionObject(apiNew, sub)), store.BillingApplied)
}

// A late event of a dead, replaced subscription does not cancel the live one.
func TestWebhookOldSubscriptionDoesNotOverwriteLiveOne(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	live := subFixture{ID: "sub_New", Customer: "cus_S", Status: "active", Price: testPrices.PricePro, OrgID: org}
	e.expect(event(apiNew, "evt_a1", billing.EventSubscriptionCreated, t0, subscriptionObject(apiNew, live)), store.BillingApplied)
	dead := subFixture{ID: "sub_Old", Customer: "cus_S", Status: "incomplete_expired", Price: testPrices.PricePro, OrgID: org}
	e.expect(event(apiNew, "evt_a2", billing.EventSubscriptionUpdated, t0+3600, subscriptionObject(apiNew, dead)), store.BillingUnchanged)
	if s := e.state(org); s.Status != "active" || str(s.SubID) != "sub_New" {
		t.Fatalf("%+v", s)
	}
}

func TestWebhookTrialWillEnd(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Tr", Customer: "cus_Tr", Status: "trialing", Price: testPrices.PricePro, OrgID: org, TrialEnd: t0 + 3*86400}
	e.expect(event(apiOld, "evt_t1", billing.EventSubscriptionCreated, t0-86400, subscriptionObject(apiOld, sub)), store.BillingApplied)
	if s := e.state(org); s.Status != "trial" || unix(s.TrialEndsAt) != t0+3*86400 {
		t.Fatalf("%+v", s)
	}
	e.expect(event(apiOld, "evt_t2", billing.EventSubscriptionTrialEnds, t0, subscriptionObject(apiOld, sub)), store.BillingRecorded)
	if n := e.count(`SELECT count(*) FROM audit_log WHERE organization_id = $1 AND actor_type = 'provider'
		AND action = 'billing.trial_will_end' AND after->>'event_id' = 'evt_t2'`, org); n != 1 {
		t.Fatalf("audit rows = %d", n)
	}
}

func TestWebhookReplayIsADuplicate(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Rep", Customer: "cus_Rep", Status: "active", Price: testPrices.PricePro, OrgID: org}
	first := event(apiNew, "evt_r1", billing.EventSubscriptionCreated, t0, subscriptionObject(apiNew, sub))
	e.expect(first, store.BillingApplied)
	sub.Status = "past_due"
	e.expect(event(apiNew, "evt_r2", billing.EventSubscriptionUpdated, t0+60, subscriptionObject(apiNew, sub)), store.BillingApplied)
	w := e.post(e.h, first, sign(first, testSecret, time.Now()))
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"received":true,"duplicate":true}` {
		t.Fatalf("replay: %d %s", w.Code, w.Body)
	}
	if s := e.state(org); s.Status != "past_due" || str(s.LastEventID) != "evt_r2" {
		t.Fatalf("a replay changed the state: %+v", s)
	}
	unknown := event(apiNew, "evt_r3", "customer.tax_id.created", t0, map[string]any{"id": "txi_1", "object": "tax_id"})
	e.expect(unknown, store.BillingRecorded)
	if res := e.deliver(unknown); !res.Duplicate {
		t.Fatalf("unknown type replay: %+v", res)
	}
}

func TestWebhookConcurrentDuplicatesApplyOnce(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Con", Customer: "cus_Con", Status: "trialing", Price: testPrices.PricePro, OrgID: org, TrialEnd: t0 + 86400}
	bodies := [][]byte{
		event(apiNew, "evt_k1", billing.EventSubscriptionUpdated, t0, subscriptionObject(apiNew, sub)),
		event(apiNew, "evt_k2", billing.EventSubscriptionTrialEnds, t0, subscriptionObject(apiNew, sub)),
	}
	for _, body := range bodies {
		var wg sync.WaitGroup
		results := make([]string, 10)
		for i := range results {
			wg.Go(func() {
				w := e.post(e.h, body, sign(body, testSecret, time.Now()))
				var res billing.WebhookResult
				_ = json.Unmarshal(w.Body.Bytes(), &res)
				results[i] = fmt.Sprintf("%d %v %s", w.Code, res.Duplicate, res.Outcome)
			})
		}
		wg.Wait()
		fresh := 0
		for _, r := range results {
			switch {
			case r == "200 true ":
			case strings.HasPrefix(r, "200 false "):
				fresh++
			default:
				t.Fatalf("answer %q", r)
			}
		}
		if fresh != 1 {
			t.Fatalf("%d copies were processed: %v", fresh, results)
		}
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE organization_id = $1 AND action = 'billing.trial_will_end'`, org); n != 1 {
		t.Fatalf("audit rows = %d", n)
	}
	if n := e.count(`SELECT count(*) FROM stripe_events`); n != 2 {
		t.Fatalf("events = %d", n)
	}
}

func TestWebhookDatabaseDown(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Down", Customer: "cus_Down", Status: "active", Price: testPrices.PricePro, OrgID: org}
	body := event(apiNew, "evt_d1", billing.EventSubscriptionCreated, t0, subscriptionObject(apiNew, sub))

	// Unreachable: 503 with Retry-After.
	down, err := store.Open("postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	w := e.post(&billing.WebhookHandler{DB: down, Secret: testSecret, Prices: testPrices}, body, sign(body, testSecret, time.Now()))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), `"UNAVAILABLE"`) {
		t.Fatalf("database down: %d %s", w.Code, w.Body)
	}

	// Lost in the middle of the transaction (after the event row was
	// inserted): nothing may stay half-written.
	ctx := context.Background()
	lock, err := testenv.Pool(e.db).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, `SELECT 1 FROM subscriptions WHERE organization_id = $1 FOR UPDATE`, org); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	r := httpRequest(rctx, body, sign(body, testSecret, time.Now()))
	rw := newRecorder()
	e.h.ServeHTTP(rw, r)
	cancel()
	_ = lock.Rollback(ctx)
	if rw.Code != http.StatusServiceUnavailable {
		t.Fatalf("cut off mid-transaction: %d %s", rw.Code, rw.Body)
	}
	if n := e.count(`SELECT count(*) FROM stripe_events`); n != 0 {
		t.Fatalf("a failed event was recorded: %d", n)
	}
	if s := e.state(org); s.Status != "trial" {
		t.Fatalf("half-applied: %+v", s)
	}
	// Stripe's retry applies, once.
	e.expect(body, store.BillingApplied)
	if res := e.deliver(body); !res.Duplicate {
		t.Fatalf("second retry: %+v", res)
	}
	if s := e.state(org); s.Status != "active" || s.Plan != "pro" {
		t.Fatalf("%+v", s)
	}
}

func TestWebhookNotConfiguredAndMethod(t *testing.T) {
	body := event(apiNew, "evt_m", "ping", t0, map[string]any{"id": "x"})
	e := &env{t: t}
	if w := e.post(&billing.WebhookHandler{}, body, sign(body, "", time.Now())); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("no secret: %d", w.Code)
	}
	r := httpRequest(context.Background(), body)
	r.Method = http.MethodGet
	w := newRecorder()
	(&billing.WebhookHandler{Secret: testSecret}).ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", w.Code)
	}
}

// Every subscription change a Stripe event applies is in the organisation's
// audit trail (actor provider), written in the event's transaction: a
// replay adds nothing, a stale event changes nothing and records nothing.
func TestWebhookSubscriptionChangesAreAudited(t *testing.T) {
	e := newEnv(t)
	org := e.org()
	sub := subFixture{ID: "sub_Aud", Customer: "cus_Aud", Status: "active", Price: testPrices.PricePro, OrgID: org, Start: t0, End: t0 + 30*86400}
	e.expect(event(apiOld, "evt_a1", billing.EventSubscriptionCreated, t0, subscriptionObject(apiOld, sub)), store.BillingApplied)
	sub.Status = "past_due"
	e.expect(event(apiOld, "evt_a2", billing.EventSubscriptionUpdated, t0+60, subscriptionObject(apiOld, sub)), store.BillingApplied)
	if res := e.deliver(event(apiOld, "evt_a2", billing.EventSubscriptionUpdated, t0+60, subscriptionObject(apiOld, sub))); !res.Duplicate {
		t.Fatalf("a replay: %+v", res)
	}
	audited := func(eventID string) int {
		return e.count(`SELECT count(*) FROM audit_log WHERE organization_id = $1 AND actor_type = 'provider'
			AND entity_type = 'subscription' AND after->>'event_id' = $2`, org, eventID)
	}
	if audited("evt_a1") != 1 || audited("evt_a2") != 1 {
		t.Fatalf("audit rows: created %d, updated %d", audited("evt_a1"), audited("evt_a2"))
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE organization_id = $1 AND action = 'billing.customer.subscription.updated'
		AND after->>'status' = 'past_due' AND before->>'status' = 'active'`, org); n != 1 {
		t.Errorf("the update's before/after: %d rows", n)
	}
}
