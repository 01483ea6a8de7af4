package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/frostguard/functions/shared/api"
	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/billing"
	"github.com/frostguard/functions/shared/cache"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/ingest"
	"github.com/frostguard/functions/shared/notify"
	"github.com/frostguard/functions/shared/storage"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/sweep"
	"github.com/frostguard/functions/shared/web"
)

// Version is stamped at build time (-ldflags "-X ...app.Version=...").
var Version = "dev"

// newMux starts a function's router with the routes every function has.
func newMux(function string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", web.Health(function, Version))
	mux.Handle("/", web.NotFound())
	return mux
}

func standard(function string, c config.Common, mux http.Handler, origins ...string) http.Handler {
	return web.Standard(mux, web.Options{Function: function, MaxBodyBytes: c.MaxBodyBytes, AllowedOrigins: origins})
}

// NewAPI builds the `api` function's handler.
func NewAPI(cfg *config.API) (http.Handler, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	verifier, err := newVerifier(cfg.Auth)
	if err != nil {
		return nil, err
	}
	mux := newMux(API)
	srv := api.New(db, verifier)
	srv.Files = storage.Open(cfg.Storage, cfg.AssetsBucket)
	if srv.Cache, err = cache.Open(cfg.RedisURL); err != nil {
		return nil, err
	}
	srv.SiteContext = cfg.SiteContext
	srv.Register(mux)
	// Subscription enforcement wraps the mux itself: it looks routes up to
	// tell writes from reads and leaves other tenants' 404s alone.
	return standard(API, cfg.Common, srv.EnforceSubscriptions(mux), cfg.FrontendURL), nil
}

// NewStripeCheckout builds the `stripe-checkout` function's handler.
func NewStripeCheckout(cfg *config.StripeCheckout) (http.Handler, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	verifier, err := newVerifier(cfg.Auth)
	if err != nil {
		return nil, err
	}
	// Without a key the routes answer 503 "billing is not configured".
	sc, err := billing.NewStripe(cfg.Stripe)
	if err != nil && !errors.Is(err, billing.ErrNotConfigured) {
		return nil, err
	}
	mux := newMux(StripeCheckout)
	(&billing.CheckoutHandler{API: api.New(db, verifier), DB: db, Stripe: sc, Prices: cfg.StripePrices, FrontendURL: cfg.FrontendURL}).Register(mux)
	return standard(StripeCheckout, cfg.Common, mux, cfg.FrontendURL), nil
}

// webhookMux serves a webhook both at its HTTP API path and at the root of
// its Function URL.
func webhookMux(function, path string, h http.Handler) *http.ServeMux {
	mux := newMux(function)
	mux.Handle("POST "+path, h)
	mux.Handle("POST /{$}", h)
	return mux
}

// NewStripeWebhook builds the `stripe-webhook` function's handler.
func NewStripeWebhook(cfg *config.StripeWebhook) (http.Handler, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	h := &billing.WebhookHandler{DB: db, Secret: cfg.StripeWebhookSecret, Prices: cfg.StripePrices}
	mux := webhookMux(StripeWebhook, "/webhooks/stripe", h)
	return standard(StripeWebhook, cfg.Common, mux), nil
}

// NewTelnyxWebhook builds the `telnyx-webhook` function's handler.
func NewTelnyxWebhook(cfg *config.TelnyxWebhook) (http.Handler, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	key, err := notify.ParseTelnyxPublicKey(cfg.TelnyxPublicKey)
	if err != nil {
		return nil, err
	}
	sms, _ := notify.Senders(cfg.Notify, providerClient())
	h := &notify.TelnyxWebhook{DB: db, PublicKey: key, SMS: sms}
	mux := webhookMux(TelnyxWebhook, "/webhooks/telnyx", h)
	return standard(TelnyxWebhook, cfg.Common, mux), nil
}

// providerClient is the HTTP client for Telnyx and Resend: a timeout well
// inside a Lambda invocation, so a slow provider delays a notification (it
// is retried) instead of timing the function out.
func providerClient() *http.Client { return &http.Client{Timeout: 8 * time.Second} }

// newDispatcher sends due outbox rows through the configured providers.
func newDispatcher(db *store.DB, cfg config.Notify) *notify.Dispatcher {
	sms, email := notify.Senders(cfg, providerClient())
	return &notify.Dispatcher{DB: db, SMS: sms, Email: email}
}

// NewTTNWebhook builds the `ttn-webhook` function's handler.
func NewTTNWebhook(cfg *config.TTNWebhook) (http.Handler, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	d := newDispatcher(db, cfg.Notify)
	h := &ingest.Handler{DB: db, GlobalSecret: cfg.TTNWebhookSecret, FrontendURL: cfg.FrontendURL,
		Dispatch: func(ctx context.Context) {
			// Best effort: what is not sent now is retried by the sweeper.
			if _, err := d.DispatchDue(ctx, 20); err != nil {
				slog.WarnContext(ctx, "dispatch after commit failed; the sweeper will retry", "err", err)
			}
		}}
	mux := webhookMux(TTNWebhook, "/webhooks/ttn", h)
	return standard(TTNWebhook, cfg.Common, mux), nil
}

// NewAlertSweeper builds the `alert-sweeper` job.
func NewAlertSweeper(cfg *config.AlertSweeper) (host.Job, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	d := newDispatcher(db, cfg.Notify)
	tasks := append([]sweep.Task{
		{Name: "reading-partitions", Timeout: 30 * time.Second, Run: func(ctx context.Context) error {
			// A month ahead is the minimum; three gives a quarter of slack
			// should the sweeper be down for weeks.
			created, err := db.EnsureReadingPartitions(ctx, 0, 3)
			if created > 0 {
				slog.InfoContext(ctx, "created sensor_readings partitions", "count", created)
			}
			return err
		}},
	}, sweep.Tasks(db, time.Now, cfg.FrontendURL)...)
	// Last: send what the other tasks queued, and retry what is due.
	tasks = append(tasks, sweep.Task{Name: "dispatch", Timeout: 40 * time.Second, Run: func(ctx context.Context) error {
		for {
			r, err := d.DispatchDue(ctx, 100)
			if err != nil || r.Claimed < 100 {
				return err
			}
		}
	}})
	return sweep.Runner{Tasks: tasks}.Run, nil
}

// newVerifier checks Stack Auth tokens; the JWKS is fetched on first use.
func newVerifier(cfg config.Auth) (*auth.Verifier, error) {
	return auth.NewVerifier(context.Background(), auth.VerifierOptions{
		JWKSURL: cfg.JWKS(), Issuer: cfg.ExpectedIssuer(), Audience: cfg.StackAuthProjectID,
	})
}
