package billing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// We read the few fields we need from the raw event JSON ourselves instead
// of stripe-go's typed structs: stripe-go v76 is pinned to API version
// 2023-10-16, while the webhook endpoint may send newer versions in which
// fields moved (2025-03-31.basil moved current_period_start/_end from the
// subscription to its items, and invoice.subscription under
// invoice.parent.subscription_details). Every reader below accepts both
// shapes.

// Event types we act on.
const (
	EventCheckoutCompleted     = "checkout.session.completed"
	EventSubscriptionCreated   = "customer.subscription.created"
	EventSubscriptionUpdated   = "customer.subscription.updated"
	EventSubscriptionDeleted   = "customer.subscription.deleted"
	EventSubscriptionTrialEnds = "customer.subscription.trial_will_end"
	EventInvoicePaid           = "invoice.paid"
	EventInvoicePaymentFailed  = "invoice.payment_failed"
)

// Event is the envelope of a Stripe event.
type Event struct {
	ID         string
	Type       string
	APIVersion string
	Created    time.Time
	// Object is data.object, the resource as it was when the event happened.
	Object json.RawMessage
}

// ParseEvent reads the envelope. id, type, created and data.object are
// required: without them an event cannot be recorded or applied.
func ParseEvent(body []byte) (Event, error) {
	var raw struct {
		ID         string  `json:"id"`
		Type       string  `json:"type"`
		APIVersion *string `json:"api_version"`
		Created    int64   `json:"created"`
		Data       struct {
			Object json.RawMessage `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Event{}, fmt.Errorf("not a JSON event: %w", err)
	}
	ev := Event{ID: raw.ID, Type: raw.Type, Created: time.Unix(raw.Created, 0).UTC(), Object: raw.Data.Object}
	if raw.APIVersion != nil {
		ev.APIVersion = *raw.APIVersion
	}
	switch {
	case raw.ID == "" || len(raw.ID) > 255:
		return Event{}, errors.New("the event has no id")
	case raw.Type == "" || len(raw.Type) > 255:
		return Event{}, errors.New("the event has no type")
	case raw.Created <= 0:
		return Event{}, errors.New("the event has no created time")
	case !isJSONObject(raw.Data.Object):
		return Event{}, errors.New("the event has no data.object")
	}
	return ev, nil
}

func isJSONObject(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// expandableID is a reference Stripe sends either as an id string or, when
// expanded, as the object itself (its id is taken); null reads as "".
type expandableID string

func (e *expandableID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*e = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = expandableID(s)
		return nil
	case len(b) > 0 && b[0] == '{':
		var o struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		*e = expandableID(o.ID)
		return nil
	}
	return fmt.Errorf("expected an id or an object, got %.20s", b)
}

// unixTime is a Stripe timestamp (seconds); null or 0 reads as unset.
type unixTime struct{ t *time.Time }

func (u *unixTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		u.t = nil
		return nil
	}
	var s int64
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	u.t = nil
	if s > 0 {
		t := time.Unix(s, 0).UTC()
		u.t = &t
	}
	return nil
}

// metadata is Stripe metadata: string values only. Anything else is skipped
// rather than failing the event, which Stripe would then retry for days.
type metadata map[string]string

func (m *metadata) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*m = metadata{}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			(*m)[k] = s
		}
	}
	return nil
}

// orgID returns s if it is a UUID. Anything else names no organisation, and
// must not reach a uuid-typed SQL parameter (that is a 500, retried forever).
func orgID(s string) string {
	if domain.IsUUID(s) {
		return s
	}
	return ""
}

// organization reads our organisation id from metadata: organization_id is
// what our checkout writes; organizationId is what the old system wrote on
// subscriptions that still exist.
func (m metadata) organization() string {
	if id := orgID(m["organization_id"]); id != "" {
		return id
	}
	return orgID(m["organizationId"])
}

// Subscription is what we read from a Subscription object.
type Subscription struct {
	ID             string
	CustomerID     string
	Status         string // Stripe's status, unmapped
	PriceID        string // items.data[0].price.id
	OrganizationID string // from metadata; "" when absent or not a UUID
	MetadataPlan   string
	// Periods come from items.data[0] (API 2025-03-31 and later), else from
	// the subscription (earlier versions).
	PeriodStart, PeriodEnd *time.Time
	CancelAtPeriodEnd      bool
	CanceledAt             *time.Time
	TrialEnd               *time.Time
}

// ParseSubscription reads a customer.subscription.* event's object.
func ParseSubscription(obj json.RawMessage) (Subscription, error) {
	var raw struct {
		ID                 string       `json:"id"`
		Customer           expandableID `json:"customer"`
		Status             string       `json:"status"`
		Metadata           metadata     `json:"metadata"`
		CancelAtPeriodEnd  bool         `json:"cancel_at_period_end"`
		CanceledAt         unixTime     `json:"canceled_at"`
		TrialEnd           unixTime     `json:"trial_end"`
		CurrentPeriodStart unixTime     `json:"current_period_start"`
		CurrentPeriodEnd   unixTime     `json:"current_period_end"`
		Items              struct {
			Data []struct {
				Price              expandableID `json:"price"`
				CurrentPeriodStart unixTime     `json:"current_period_start"`
				CurrentPeriodEnd   unixTime     `json:"current_period_end"`
			} `json:"data"`
		} `json:"items"`
	}
	if err := json.Unmarshal(obj, &raw); err != nil {
		return Subscription{}, fmt.Errorf("not a subscription: %w", err)
	}
	if raw.ID == "" {
		return Subscription{}, errors.New("the subscription has no id")
	}
	s := Subscription{
		ID: raw.ID, CustomerID: string(raw.Customer), Status: raw.Status,
		OrganizationID: raw.Metadata.organization(), MetadataPlan: raw.Metadata["plan"],
		PeriodStart: raw.CurrentPeriodStart.t, PeriodEnd: raw.CurrentPeriodEnd.t,
		CancelAtPeriodEnd: raw.CancelAtPeriodEnd, CanceledAt: raw.CanceledAt.t, TrialEnd: raw.TrialEnd.t,
	}
	if len(raw.Items.Data) > 0 {
		item := raw.Items.Data[0]
		s.PriceID = string(item.Price)
		if item.CurrentPeriodStart.t != nil {
			s.PeriodStart = item.CurrentPeriodStart.t
		}
		if item.CurrentPeriodEnd.t != nil {
			s.PeriodEnd = item.CurrentPeriodEnd.t
		}
	}
	return s, nil
}

// CheckoutSession is what we read from a Checkout Session.
type CheckoutSession struct {
	ID             string
	Mode           string // subscription, payment or setup
	OrganizationID string // client_reference_id, else metadata
	CustomerID     string
	SubscriptionID string
	Plan           string // metadata.plan, as our checkout wrote it
	PaymentStatus  string // paid, unpaid, no_payment_required
}

// ParseCheckoutSession reads a checkout.session.completed event's object.
func ParseCheckoutSession(obj json.RawMessage) (CheckoutSession, error) {
	var raw struct {
		ID                string       `json:"id"`
		Mode              string       `json:"mode"`
		ClientReferenceID *string      `json:"client_reference_id"`
		Customer          expandableID `json:"customer"`
		Subscription      expandableID `json:"subscription"`
		Metadata          metadata     `json:"metadata"`
		PaymentStatus     string       `json:"payment_status"`
	}
	if err := json.Unmarshal(obj, &raw); err != nil {
		return CheckoutSession{}, fmt.Errorf("not a checkout session: %w", err)
	}
	s := CheckoutSession{
		ID: raw.ID, Mode: raw.Mode, CustomerID: string(raw.Customer), SubscriptionID: string(raw.Subscription),
		Plan: raw.Metadata["plan"], PaymentStatus: raw.PaymentStatus,
	}
	if raw.ClientReferenceID != nil {
		s.OrganizationID = orgID(*raw.ClientReferenceID)
	}
	if s.OrganizationID == "" {
		s.OrganizationID = raw.Metadata.organization()
	}
	return s, nil
}

// Invoice is what we read from an Invoice.
type Invoice struct {
	ID             string
	CustomerID     string
	SubscriptionID string // "" for an invoice that belongs to no subscription
}

// ParseInvoice reads an invoice.* event's object. The subscription is
// invoice.subscription up to API 2025-02-24 and
// invoice.parent.subscription_details.subscription from 2025-03-31 on.
func ParseInvoice(obj json.RawMessage) (Invoice, error) {
	var raw struct {
		ID           string       `json:"id"`
		Customer     expandableID `json:"customer"`
		Subscription expandableID `json:"subscription"`
		Parent       *struct {
			SubscriptionDetails *struct {
				Subscription expandableID `json:"subscription"`
			} `json:"subscription_details"`
		} `json:"parent"`
	}
	if err := json.Unmarshal(obj, &raw); err != nil {
		return Invoice{}, fmt.Errorf("not an invoice: %w", err)
	}
	inv := Invoice{ID: raw.ID, CustomerID: string(raw.Customer), SubscriptionID: string(raw.Subscription)}
	if inv.SubscriptionID == "" && raw.Parent != nil && raw.Parent.SubscriptionDetails != nil {
		inv.SubscriptionID = string(raw.Parent.SubscriptionDetails.Subscription)
	}
	return inv, nil
}
