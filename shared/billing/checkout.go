package billing

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/orgroute"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// Routes of the stripe-checkout function.
const (
	CheckoutRoute = "POST /api/v1/orgs/{orgId}/billing/checkout"
	PortalRoute   = "POST /api/v1/orgs/{orgId}/billing/portal"
)

// Kinds of session a checkout request may answer with.
const (
	KindCheckout = "checkout"
	KindPortal   = "portal"
)

// CheckoutHandler serves the stripe-checkout function: Checkout Sessions to
// buy a plan and Billing Portal sessions to manage one. It authenticates
// through the api's own guard (shared/orgroute: JWT, membership, the
// ManageBilling permission).
type CheckoutHandler struct {
	Guard orgroute.Guard
	DB    *store.DB
	// Stripe is nil when STRIPE_SECRET_KEY is unset: both routes answer 503.
	Stripe      *client.API
	Prices      config.StripePrices
	FrontendURL string
}

// Register adds both routes to mux.
func (h *CheckoutHandler) Register(mux *http.ServeMux) {
	mux.Handle(CheckoutRoute, h.Guard.Org(access.ManageBilling, h.checkout))
	mux.Handle(PortalRoute, h.Guard.Org(access.ManageBilling, h.portal))
}

// CheckoutRequest is the body of the checkout route. Paths are relative to
// FRONTEND_URL; full URLs are refused.
type CheckoutRequest struct {
	Plan        string `json:"plan"`
	SuccessPath string `json:"success_path,omitempty"`
	CancelPath  string `json:"cancel_path,omitempty"`
}

// SessionResponse is the answer of both routes. A checkout request for an
// organisation that already has a live subscription answers a portal
// session (Kind "portal", no SessionID) instead of 409: the frontend
// redirects to URL either way, and the portal is where plans change.
type SessionResponse struct {
	URL       string `json:"url"`
	SessionID string `json:"session_id,omitempty"`
	Kind      string `json:"kind"`
}

func (h *CheckoutHandler) checkout(w http.ResponseWriter, r *http.Request, m orgroute.Member) error {
	if h.Stripe == nil {
		return ErrNotConfigured
	}
	var req CheckoutRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	price, successURL, cancelURL, err := h.validate(req)
	if err != nil {
		return err
	}
	ctx := r.Context()
	st, err := h.DB.CheckoutState(ctx, m.OrgID)
	if err != nil {
		return err
	}
	if portalInsteadOfCheckout(st.SubscriptionID, st.Status) && st.CustomerID != "" {
		url, err := h.portalURL(ctx, st.CustomerID)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, SessionResponse{URL: url, Kind: KindPortal})
		return nil
	}
	customer := st.CustomerID
	if customer == "" {
		customer, err = h.DB.EnsureStripeCustomer(ctx, m.OrgID, m.UserID, func(ctx context.Context) (string, error) {
			return h.createCustomer(ctx, m, st.OrgName)
		})
		if err != nil {
			return err
		}
	}
	plan := req.Plan
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		Customer:          stripe.String(customer),
		ClientReferenceID: stripe.String(m.OrgID),
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(price), Quantity: stripe.Int64(1)}},
		SuccessURL:        stripe.String(successURL),
		CancelURL:         stripe.String(cancelURL),
		// The webhook finds the organisation from these (and from the
		// customer); the price, not the plan here, decides the entitlement.
		Metadata: map[string]string{"organization_id": m.OrgID, "plan": plan, "user_id": m.UserID},
		SubscriptionData: &stripe.CheckoutSessionSubscriptionDataParams{
			Metadata: map[string]string{"organization_id": m.OrgID, "plan": plan},
		},
	}
	params.Context = ctx
	sess, err := h.Stripe.CheckoutSessions.New(params)
	if err != nil {
		return upstream(err, "creating the checkout session")
	}
	if sess.URL == "" {
		return apperr.New(apperr.BadGateway, "the payment provider returned a checkout session without a URL")
	}
	web.JSON(w, http.StatusOK, SessionResponse{URL: sess.URL, SessionID: sess.ID, Kind: KindCheckout})
	return nil
}

// validate checks the whole body at once, so a form can show every
// problem in one round trip.
func (h *CheckoutHandler) validate(req CheckoutRequest) (price, successURL, cancelURL string, err error) {
	var bad []apperr.FieldError
	// The client names a plan, never a price (origin bug §7.3: any price id
	// was accepted). Enterprise is sold by hand and has no price.
	price, ok := PriceForPlan(h.Prices, req.Plan)
	known := slices.Contains(Plans, req.Plan)
	if !known {
		bad = append(bad, apperr.FieldError{Field: "plan", Message: "must be one of " + strings.Join(Plans, ", ")})
	}
	const pathRule = "must be a path in this app starting with a single / (no scheme or host)"
	if successURL, ok = redirectURL(h.FrontendURL, req.SuccessPath, DefaultSuccessPath); !ok {
		bad = append(bad, apperr.FieldError{Field: "success_path", Message: pathRule})
	}
	if cancelURL, ok = redirectURL(h.FrontendURL, req.CancelPath, DefaultCancelPath); !ok {
		bad = append(bad, apperr.FieldError{Field: "cancel_path", Message: pathRule})
	}
	if len(bad) > 0 {
		return "", "", "", apperr.Validation(bad...)
	}
	if !ok {
		return "", "", "", apperr.New(apperr.Unavailable, "billing is not configured on this deployment (no Stripe price for plan %s)", req.Plan)
	}
	return price, successURL, cancelURL, nil
}

// createCustomer creates the organisation's one Stripe customer. The
// idempotency key is derived from the organisation, so a retry after a
// lost response (or a second instance racing past the database lock's
// timeout) gets the same customer back from Stripe for 24 hours.
func (h *CheckoutHandler) createCustomer(ctx context.Context, m orgroute.Member, orgName string) (string, error) {
	params := &stripe.CustomerParams{
		Metadata: map[string]string{"organization_id": m.OrgID},
	}
	if m.Email != "" {
		params.Email = stripe.String(m.Email)
	}
	if strings.TrimSpace(orgName) != "" {
		params.Name = stripe.String(orgName)
	}
	params.Context = ctx
	params.SetIdempotencyKey("customer-" + m.OrgID)
	c, err := h.Stripe.Customers.New(params)
	if err != nil {
		return "", upstream(err, "creating the customer")
	}
	return c.ID, nil
}

func (h *CheckoutHandler) portal(w http.ResponseWriter, r *http.Request, m orgroute.Member) error {
	if h.Stripe == nil {
		return ErrNotConfigured
	}
	st, err := h.DB.CheckoutState(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	if st.CustomerID == "" {
		return apperr.New(apperr.Conflict, "this organization has no billing account yet: complete a checkout first")
	}
	url, err := h.portalURL(r.Context(), st.CustomerID)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, SessionResponse{URL: url, Kind: KindPortal})
	return nil
}

func (h *CheckoutHandler) portalURL(ctx context.Context, customer string) (string, error) {
	// The return URL is always ours (FRONTEND_URL is validated as an
	// absolute URL at start-up); the client does not choose it.
	params := &stripe.BillingPortalSessionParams{
		Customer:  stripe.String(customer),
		ReturnURL: stripe.String(strings.TrimRight(h.FrontendURL, "/") + PortalReturnPath),
	}
	params.Context = ctx
	sess, err := h.Stripe.BillingPortalSessions.New(params)
	if err != nil {
		return "", upstream(err, "creating the billing portal session")
	}
	if sess.URL == "" {
		return "", apperr.New(apperr.BadGateway, "the payment provider returned a portal session without a URL")
	}
	return sess.URL, nil
}

// upstream maps a Stripe failure to 502. The caller learns Stripe's error
// type (card_error, invalid_request_error, ...) and nothing else: Stripe's
// message can name our parameters, our account or an idempotency key. The
// full error is logged as the cause.
func upstream(err error, doing string) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		return apperr.Wrap(apperr.BadGateway, err, "the payment provider failed while %s (stripe error type %s)", doing, se.Type)
	}
	return apperr.Wrap(apperr.BadGateway, err, "the payment provider could not be reached while %s", doing)
}
