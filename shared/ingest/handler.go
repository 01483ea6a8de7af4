// Package ingest is the ttn-webhook: it authenticates a delivery from The
// Things Stack, parses it (shared/lorawan/ttn), judges the reading (shared/alerting,
// pure) and persists everything in one transaction of two round trips
// (shared/store): request -> verify -> parse -> decide -> persist -> respond.
//
// Status policy (DESIGN §5): 401 for a missing or wrong secret, 400 for a
// malformed body, 413 for an oversized one (middleware), 503 when the
// database is unreachable (TTN retries; nothing is half-written), and 2xx
// for everything else — duplicates, unknown devices, message kinds we do not
// store — so that TTN keeps the webhook healthy.
package ingest

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/lorawan/ttn"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// Handler serves POST /webhooks/ttn.
type Handler struct {
	DB *store.DB
	// GlobalSecret optionally admits deliveries of any registered
	// application (single-tenant installs); per-organisation secrets are
	// hashed in ttn_connections.
	GlobalSecret string
	// FrontendURL is where messages send people to acknowledge.
	FrontendURL string
	// Now is the clock (tests move it).
	Now func() time.Time
	// Dispatch, when set, sends due notifications right after a commit that
	// queued some (no waiting for the sweeper on the happy path).
	Dispatch func(ctx context.Context)

	once        sync.Once
	connections *connectionCache
}

// Result is the JSON answer: what happened to the delivery.
type Result struct {
	Status         string   `json:"status"` // stored, duplicate, unclaimed, no_unit, joined, ignored, unknown_application
	Kind           string   `json:"kind,omitempty"`
	UnitStatus     string   `json:"unit_status,omitempty"`
	Late           bool     `json:"late,omitempty"`
	AlertsOpened   int      `json:"alerts_opened,omitempty"`
	AlertsResolved int      `json:"alerts_resolved,omitempty"`
	Faults         []string `json:"faults,omitempty"`

	// What the metrics record (shared/ingest/metrics.go).
	opened   []alerting.OpenAlert
	resolved []alerting.ResolveAlert
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	web.HandlerFunc(h.serve).ServeHTTP(w, r)
}

var errUnauthenticated = apperr.New(apperr.Unauthenticated, "a valid webhook secret is required (X-Webhook-Secret)")

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (err error) {
	var res Result
	defer func() { observe(r.Context(), res, err) }()
	secret := secretFrom(r)
	if secret == "" {
		return errUnauthenticated
	}
	body, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	msg, err := ttn.Parse(body)
	if err != nil {
		return apperr.Wrap(apperr.Invalid, err, "not a The Things Stack webhook message: %v", err)
	}
	res, err = h.handle(r.Context(), msg, secret)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Status == "unclaimed" || res.Status == "no_unit" || res.Status == "unknown_application" || res.Status == "importing" {
		status = http.StatusAccepted
	}
	web.JSON(w, status, res)
	return nil
}

// secretFrom reads the secret from the headers TTN webhooks can send. Besides
// ours (X-Webhook-Secret), it reads the forms webhooks configured for the
// origin send, so an imported organisation's TTN applications need no change:
// X-API-Key (the origin's receiver read it first), X-Downlink-Apikey, and an
// Authorization header carrying the secret bare (the origin's provisioning
// set it without a scheme) or as a Bearer token.
func secretFrom(r *http.Request) string {
	for _, h := range []string{"X-Webhook-Secret", "X-API-Key", "X-Downlink-Apikey"} {
		if v := strings.TrimSpace(r.Header.Get(h)); v != "" {
			return v
		}
	}
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	if scheme, tok, ok := strings.Cut(v, " "); ok {
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return v
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) handle(ctx context.Context, msg ttn.Message, secret string) (Result, error) {
	at := msg.ReceivedAt
	key := store.UplinkKey{DevEUI: msg.DevEUI, ReceivedAt: at, Now: h.now()}
	if msg.Kind == ttn.KindUplink {
		key.DedupeKey = msg.DedupeKey()
		if !msg.Uplink.ReceivedAt.IsZero() {
			key.ReceivedAt = msg.Uplink.ReceivedAt
		}
	}
	// A reading time from the future would freeze the unit (every later
	// reading would look late): trust our clock beyond a small skew.
	if now := h.now(); key.ReceivedAt.After(now.Add(time.Minute)) {
		slog.WarnContext(ctx, "uplink time is in the future; using the server clock", "received_at", key.ReceivedAt, "app", msg.ApplicationID)
		key.ReceivedAt = now
	}
	// The secret first: nothing below runs for a delivery it refuses.
	cred := h.credential(secret)
	conn, found, err := h.connection(ctx, msg.ApplicationID, cred)
	switch {
	case err != nil:
		return Result{}, err
	case !found && cred.global:
		// The global secret matched but no organisation owns the application.
		return Result{Status: "unknown_application", Kind: string(msg.Kind)}, nil
	case !found || !cred.admits(conn):
		return Result{}, errUnauthenticated
	case conn.Importing:
		// Accepted (TTN keeps a webhook that fails as unhealthy) and stored
		// nowhere until the organisation's import completes.
		return Result{Status: "importing", Kind: string(msg.Kind)}, nil
	}
	key.ConnectionID, key.SecretHash, key.Global = conn.ID, cred.hash[:], cred.global
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
		return Result{Status: "duplicate", Kind: string(msg.Kind)}, nil
	}
	switch msg.Kind {
	case ttn.KindUplink:
		return h.uplink(ctx, tx, t, msg, key.ReceivedAt)
	case ttn.KindJoinAccept:
		if t.SensorID == "" {
			return Result{Status: "unclaimed", Kind: string(msg.Kind)}, tx.Commit(ctx, store.UplinkWrites{Unclaimed: deviceName(msg), UplinkAt: key.ReceivedAt})
		}
		// A join says the device is alive and on the network.
		return Result{Status: "joined", Kind: string(msg.Kind)}, tx.Commit(ctx, store.UplinkWrites{Health: &store.SensorHealth{}, UplinkAt: key.ReceivedAt})
	default:
		return Result{Status: "ignored", Kind: string(msg.Kind)}, nil
	}
}

func deviceName(msg ttn.Message) string {
	if msg.DeviceID != "" {
		return msg.DeviceID
	}
	return msg.DevEUI
}
