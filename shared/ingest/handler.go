// Package ingest is the webhook of every LoRaWAN network: one handler, given the network's
// parser (shared/lorawan/ttn, shared/lorawan/chirpstack), authenticates a delivery, parses it
// into a lorawan.Event, decodes the uplink (shared/lorawan/decoders), judges the reading
// (shared/judge) and persists everything in one transaction of two round trips (shared/store):
// request -> verify -> parse -> decide -> persist -> respond -> dispatch (docs/ARCHITECTURE.md
// "The request flow").
//
// Status policy (docs/ARCHITECTURE.md "Webhook answers"): 401 for a missing or wrong secret,
// 403 for a delivery of a tenant or application the connection is not bound to, 400 for a
// malformed body, 413 for an oversized one (middleware), 415 for an encoding we cannot read, 503
// when the database is unreachable (the network retries; nothing is half-written), and 2xx for
// everything else (duplicates, unknown devices, message kinds we do not store) so that the
// network keeps the webhook healthy.
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/lorawan"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// Handler serves one network's webhook (POST /webhooks/ttn, POST /webhooks/chirpstack).
type Handler struct {
	// Network verifies and parses the network's deliveries.
	Network lorawan.Parser
	DB      *store.DB
	// GlobalSecret optionally admits deliveries of any registered TTN application (single-tenant
	// installs); per-organisation secrets are hashed in the connections. TTN only.
	GlobalSecret string
	// FrontendURL is where messages send people to acknowledge.
	FrontendURL string
	// Now is the clock (tests move it).
	Now func() time.Time
	// Dispatch, when set, sends due notifications right after a commit that queued some (no
	// waiting for the sweeper on the happy path).
	Dispatch func(ctx context.Context)
	// Live, when set, publishes each committed reading's live events
	// (shared/realtime): bounded in time, never failing the delivery.
	Live realtime.Publisher

	once        sync.Once
	connections *connectionCache
}

// Result is the JSON answer: what happened to the delivery.
type Result struct {
	// Status: stored, duplicate, unclaimed, no_unit, alive (a frame that measured nothing: a sign
	// of life), joined, status (a device status applied), ignored, unknown_application, importing.
	Status         string   `json:"status"`
	Kind           string   `json:"kind,omitempty"` // the network's own name of the message
	UnitStatus     string   `json:"unit_status,omitempty"`
	Late           bool     `json:"late,omitempty"`
	AlertsOpened   int      `json:"alerts_opened,omitempty"`
	AlertsResolved int      `json:"alerts_resolved,omitempty"`
	Model          string   `json:"model,omitempty"` // the decoding model's canonical id
	Probe          string   `json:"probe,omitempty"` // the probe that measured the unit
	Probes         []Probe  `json:"probes,omitempty"`
	Faults         []string `json:"faults,omitempty"`

	// What the metrics record (shared/ingest/metrics.go).
	opened   []alerting.OpenAlert
	resolved []alerting.ResolveAlert
}

// Probe is one probe's temperature in an answer (every probe of a multi-probe reading).
type Probe struct {
	Name         string  `json:"name"`
	TemperatureC float64 `json:"temperature_c"`
}

// Outcomes that answer 202: nothing of the delivery is a reading (yet).
var accepted = map[string]bool{"unclaimed": true, "no_unit": true, "unknown_application": true, "importing": true}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	web.HandlerFunc(h.serve).ServeHTTP(w, r)
}

var (
	errUnauthenticated = apperr.New(apperr.Unauthenticated, "a valid webhook secret is required (X-Webhook-Secret or Authorization: Bearer)")
	errWrongBinding    = apperr.New(apperr.Forbidden, "this delivery's tenant or application is not the one the organisation's connection is bound to")
)

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (err error) {
	var res Result
	defer func() { observe(r.Context(), string(h.Network.Network()), res, err) }()
	secret := h.Network.Secret(r.Header)
	if secret == "" {
		return errUnauthenticated
	}
	body, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	ev, err := h.Network.Parse(lorawan.Delivery{Query: r.URL.Query(), Header: r.Header, Body: body})
	switch {
	case errors.Is(err, lorawan.ErrUnsupported):
		return apperr.Wrap(apperr.UnsupportedMedia, err, "%v", err)
	case err != nil:
		return apperr.Wrap(apperr.Invalid, err, "not a %s webhook delivery: %v", h.Network.Network(), err)
	}
	res, err = h.handle(r.Context(), ev, secret)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if accepted[res.Status] {
		status = http.StatusAccepted
	}
	web.JSON(w, status, res)
	return nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// handle authenticates the event and applies it. The secret is checked first: nothing below
// runs for a delivery it refuses (no transaction, no lock, no write).
func (h *Handler) handle(ctx context.Context, ev lorawan.Event, secret string) (Result, error) {
	res := Result{Kind: ev.NetworkKind}
	cred := h.credential(secret)
	conn, found, err := h.connection(ctx, ev, cred)
	switch {
	case err != nil:
		return Result{}, err
	case !found && cred.global:
		// The global secret matched but no organisation owns the application.
		res.Status = "unknown_application"
		return res, nil
	case !found || !cred.admits(conn):
		return Result{}, errUnauthenticated
	case !conn.Binds(ev.Device.TenantID, ev.Device.ApplicationID):
		return Result{}, errWrongBinding
	case conn.Importing:
		// Accepted (networks mark a failing webhook unhealthy) and stored nowhere until the
		// organisation's import completes.
		res.Status = "importing"
		return res, nil
	}
	switch ev.Kind {
	case lorawan.KindUplink, lorawan.KindJoin, lorawan.KindStatus:
	default:
		// Authenticated, and nothing to do.
		res.Status = "ignored"
		return res, nil
	}

	now := h.now()
	at := ev.ReadingAt()
	// A reading time from the future would freeze the unit (every later reading would look
	// late): trust our clock beyond a small skew.
	if at.After(now.Add(time.Minute)) {
		slog.WarnContext(ctx, "the delivery's time is in the future; using the server clock", "time", at, "network", ev.Network)
		at = now
	}
	key := store.UplinkKey{ConnectionID: conn.ID, SecretHash: cred.hash[:], Global: cred.global,
		DevEUI: ev.Device.DevEUI, DeviceName: ev.Device.Name(), ReceivedAt: at, Clamped: !at.Equal(ev.ReadingAt()), Now: now}
	if ev.Kind == lorawan.KindUplink {
		key.DedupeKey = ev.DedupeKey()
	}
	// No transaction is open while the event is decoded and judged: the
	// unit is read without a lock, and the write is conditioned on it not
	// having changed (store.UplinkTx.Commit). When it has — another reading
	// of the unit, a manual log, an edit — the event is read and judged
	// again against the new state.
	for attempt := 1; ; attempt++ {
		res, err := h.apply(ctx, ev, key, res)
		switch {
		case errors.Is(err, store.ErrUplinkDuplicate):
			res.Status = "duplicate"
			return res, nil
		case errors.Is(err, store.ErrUplinkConflict) && attempt < maxAttempts:
			continue
		case errors.Is(err, store.ErrUplinkConflict):
			return Result{}, apperr.Wrap(apperr.Unavailable, err, "the unit is busy: retry later")
		}
		return res, err
	}
}

// maxAttempts bounds how often an event is judged again because its unit
// changed meanwhile. Only concurrent writes to one unit conflict (its
// readings arrive minutes apart); a unit this busy answers 503 and the
// network delivers again.
const maxAttempts = 8

// apply reads what the event needs, judges it and writes the outcome: one
// attempt.
func (h *Handler) apply(ctx context.Context, ev lorawan.Event, key store.UplinkKey, res Result) (Result, error) {
	at := key.ReceivedAt
	tx, t, err := h.DB.BeginUplink(ctx, key)
	if err != nil {
		return Result{}, err
	}
	defer tx.Rollback(ctx)
	switch {
	case !t.Authorized:
		// Rotated or deactivated since the connection was read.
		return Result{}, errUnauthenticated
	case t.Duplicate:
		res.Status = "duplicate"
		return res, nil
	case t.SensorID == "":
		// Not registered in this organisation: offer it for claiming.
		res.Status = "unclaimed"
		return res, tx.Commit(ctx, store.UplinkWrites{Unclaimed: true, UplinkAt: at})
	}
	switch ev.Kind {
	case lorawan.KindJoin:
		// The device is on the network again: alive, and its join recorded.
		res.Status = "joined"
		return res, tx.Commit(ctx, store.UplinkWrites{Health: &store.SensorHealth{Joined: true}, UplinkAt: at})
	case lorawan.KindStatus:
		return h.status(ctx, tx, ev, at, res)
	}
	return h.uplink(ctx, tx, t, ev, at, res)
}
