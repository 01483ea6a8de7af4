package billing

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// SignatureHeader is the header Stripe signs its events in:
// t=<unix>,v1=<hex>[,v1=<hex>...].
const SignatureHeader = "Stripe-Signature"

// WebhookHandler serves POST /webhooks/stripe (and the Function URL root).
// Events are applied from their own payload, never by calling Stripe back,
// in `created` order per subscription.
//
// Status policy: 400 with the JSON error for a missing, invalid or stale
// signature (Stripe's own convention, also the old system's; a missing
// header is the same failure as a bad one, so it is the same status) and for
// a body that is not a Stripe event; nothing is recorded then. 503 when the
// database is unreachable: nothing was recorded, so Stripe's retry is
// processed. 200 for everything else, including duplicates, event types we
// do not act on, and events we can never apply (no organisation, an unknown
// price, an unreadable object): those are logged, because a 4xx would only
// make Stripe retry them for three days.
type WebhookHandler struct {
	DB *store.DB
	// Secret is the endpoint's signing secret (whsec_...).
	Secret string
	Prices config.StripePrices
	// Now is the clock of the logs' delivery lag. The signature's 300 s
	// tolerance is checked by stripe-go against the wall clock.
	Now func() time.Time
}

// WebhookResult is the JSON answer.
type WebhookResult struct {
	Received  bool `json:"received"`
	Duplicate bool `json:"duplicate,omitempty"`
	// Outcome: applied, stale, unchanged, recorded, ignored,
	// no_organization, conflict, unreadable.
	Outcome string `json:"outcome,omitempty"`
}

// Outcomes the handler adds to the store's.
const (
	outcomeIgnored    = "ignored"    // an event of a kind we act on, but not for us (e.g. a one-off invoice)
	outcomeUnreadable = "unreadable" // a signed event whose object we cannot read
)

func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	web.HandlerFunc(h.serve).ServeHTTP(w, r)
}

func (h *WebhookHandler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// signatureHeader reads every Stripe-Signature value: the Lambda proxy
// adapter splits a header on commas into several values, which would leave
// only "t=..." for Header.Get.
func signatureHeader(r *http.Request) string {
	return strings.Join(r.Header.Values(SignatureHeader), ",")
}

// VerifySignature checks the signature header over the raw body with
// stripe-go: HMAC-SHA256 over "t.body", any of several v1 values, 300 s
// tolerance. Events of any API version are accepted: we read their fields
// ourselves (events.go).
func VerifySignature(body []byte, header, secret string) error {
	if secret == "" {
		return errors.New("no signing secret")
	}
	_, err := webhook.ConstructEventWithOptions(body, header, secret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, webhook.ErrNotSigned):
		return apperr.New(apperr.Invalid, "the %s header is required", SignatureHeader)
	case errors.Is(err, webhook.ErrTooOld):
		return apperr.Wrap(apperr.Invalid, err, "the %s timestamp is not within 300 seconds of now", SignatureHeader)
	case errors.Is(err, webhook.ErrInvalidHeader), errors.Is(err, webhook.ErrNoValidSignature):
		return apperr.Wrap(apperr.Invalid, err, "the %s header does not verify", SignatureHeader)
	default:
		// Signed, but stripe-go could not read the body as an event.
		return apperr.Wrap(apperr.Invalid, err, "the body is not a Stripe event")
	}
}

func (h *WebhookHandler) serve(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return apperr.New(apperr.MethodNotAllowed, "the Stripe webhook accepts POST only")
	}
	if h.Secret == "" {
		return apperr.New(apperr.Unavailable, "the Stripe webhook is not configured (STRIPE_WEBHOOK_SECRET)")
	}
	body, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	if err := VerifySignature(body, signatureHeader(r), h.Secret); err != nil {
		metrics.Add(r.Context(), metrics.WebhookVerificationFailures, 1, "Provider", "stripe")
		return err
	}
	ev, err := ParseEvent(body)
	if err != nil {
		return apperr.Wrap(apperr.Invalid, err, "the body is not a Stripe event: %v", err)
	}
	ctx := r.Context()
	log := slog.With("event_id", ev.ID, "event_type", ev.Type, "api_version", ev.APIVersion)
	res, err := h.apply(ctx, log, ev)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if res.Outcome == store.BillingNoOrganization || res.Outcome == store.BillingConflict || res.Outcome == outcomeUnreadable {
		// Permanently unprocessable: answered 200 so that Stripe stops, and
		// left here for someone to look at.
		level = slog.LevelWarn
	}
	log.Log(ctx, level, "stripe event", "outcome", res.Outcome, "organization_id", res.OrganizationID,
		"lag_s", h.now().Sub(ev.Created).Seconds())
	recordStripeOutcome(ctx, ev.Type, res.Outcome)
	if res.Outcome == store.BillingDuplicate {
		web.JSON(w, http.StatusOK, WebhookResult{Received: true, Duplicate: true})
		return nil
	}
	web.JSON(w, http.StatusOK, WebhookResult{Received: true, Outcome: res.Outcome})
	return nil
}

func (h *WebhookHandler) apply(ctx context.Context, log *slog.Logger, ev Event) (store.BillingResult, error) {
	key := store.StripeEventKey{ID: ev.ID, Type: ev.Type, Created: ev.Created}
	// record is for events we will not apply: recording them still makes a
	// repeat a duplicate.
	record := func(outcome string) (store.BillingResult, error) {
		res, err := h.DB.RecordStripeEvent(ctx, key)
		if err == nil && res.Outcome != store.BillingDuplicate {
			res.Outcome = outcome
		}
		return res, err
	}
	switch ev.Type {
	case EventSubscriptionCreated, EventSubscriptionUpdated, EventSubscriptionDeleted:
		sub, err := ParseSubscription(ev.Object)
		if err != nil {
			log.Warn("unreadable subscription", "err", err)
			return record(outcomeUnreadable)
		}
		return h.DB.ApplyStripeSubscription(ctx, key, h.subscriptionChange(log, ev, sub))
	case EventCheckoutCompleted:
		s, err := ParseCheckoutSession(ev.Object)
		if err != nil {
			log.Warn("unreadable checkout session", "err", err)
			return record(outcomeUnreadable)
		}
		if s.Mode != "subscription" || s.SubscriptionID == "" {
			return record(outcomeIgnored)
		}
		if s.OrganizationID == "" {
			log.Warn("checkout session without our organisation id", "session_id", s.ID)
			return record(store.BillingNoOrganization)
		}
		c := store.CheckoutCompletion{OrganizationID: s.OrganizationID, CustomerID: s.CustomerID,
			SubscriptionID: s.SubscriptionID, Paid: s.PaymentStatus == "paid"}
		// The plan only with a paid first invoice: an unpaid (asynchronous)
		// payment must not raise the sensor limit before the money arrives;
		// the subscription events bring the plan either way.
		if limit, ok := SensorLimit(s.Plan); ok && c.Paid {
			c.Plan, c.SensorLimit = s.Plan, limit
		}
		return h.DB.ApplyStripeCheckout(ctx, key, c)
	case EventInvoicePaid, EventInvoicePaymentFailed:
		inv, err := ParseInvoice(ev.Object)
		if err != nil {
			log.Warn("unreadable invoice", "err", err)
			return record(outcomeUnreadable)
		}
		if inv.SubscriptionID == "" {
			return record(outcomeIgnored)
		}
		return h.DB.ApplyStripeInvoice(ctx, key, inv.SubscriptionID, ev.Type == EventInvoicePaid)
	case EventSubscriptionTrialEnds:
		sub, err := ParseSubscription(ev.Object)
		if err != nil {
			log.Warn("unreadable subscription", "err", err)
			return record(outcomeUnreadable)
		}
		// TODO(billing mail): email the owners. The outbox has no kind for
		// billing mail yet; until it does, the audit log and this line are
		// the notice.
		log.Info("trial ends soon", "stripe_subscription_id", sub.ID, "trial_end", sub.TrialEnd)
		return h.DB.RecordTrialWillEnd(ctx, key, lookup(sub), sub.TrialEnd)
	default:
		return record(store.BillingRecorded)
	}
}

func lookup(sub Subscription) store.BillingLookup {
	return store.BillingLookup{OrganizationID: sub.OrganizationID, SubscriptionID: sub.ID, CustomerID: sub.CustomerID}
}

// subscriptionChange maps a subscription to the row we store: status
// explicitly (unknown: no access), plan and limit from the price (unknown:
// unchanged, never a guess from metadata, which a plan change in the
// Billing Portal does not update).
func (h *WebhookHandler) subscriptionChange(log *slog.Logger, ev Event, sub Subscription) store.SubscriptionChange {
	status, known := MapStatus(sub.Status)
	if !known {
		log.Warn("unknown Stripe subscription status: stored as no access", "stripe_status", sub.Status, "status", status)
	}
	canceledAt := sub.CanceledAt
	if ev.Type == EventSubscriptionDeleted {
		status = StatusCanceled
		if canceledAt == nil {
			canceledAt = &ev.Created
		}
	}
	c := store.SubscriptionChange{BillingLookup: lookup(sub), Status: status,
		PeriodStart: sub.PeriodStart, PeriodEnd: sub.PeriodEnd,
		CancelAtPeriodEnd: sub.CancelAtPeriodEnd, CanceledAt: canceledAt, TrialEndsAt: sub.TrialEnd}
	if plan, limit, ok := PlanForPrice(h.Prices, sub.PriceID); ok {
		c.PriceID, c.Plan, c.SensorLimit = sub.PriceID, plan, limit
	} else {
		log.Warn("unknown Stripe price: plan and sensor limit unchanged", "price_id", sub.PriceID,
			"stripe_subscription_id", sub.ID)
	}
	return c
}

// recordStripeOutcome counts an event as applied, or as ignored with the
// outcome as the reason (duplicate, stale, unchanged, ignored, ...).
func recordStripeOutcome(ctx context.Context, eventType, outcome string) {
	if outcome == store.BillingApplied {
		metrics.Add(ctx, metrics.StripeEventsApplied, 1, "EventType", eventType)
		return
	}
	metrics.Add(ctx, metrics.StripeEventsIgnored, 1, "Reason", outcome)
}
