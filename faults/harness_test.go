package faults

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/fn/stripewebhookfn"
	"github.com/frostguard/functions/shared/fn/telnyxwebhookfn"
	"github.com/frostguard/functions/shared/fn/ttnwebhookfn"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

// Shared by the PostgreSQL and burst tests. Fixture ids are fixed, so that
// two databases seeded alike receive byte-identical deliveries and can be
// compared row by row.
const (
	pgTTNApp       = "frostguard-faults-app"
	pgTTNSecret    = "fgttn_faults_secret_0123456789"
	pgStripeSecret = "whsec_frostguard_faults_0123456789abcdef"
	pgContactPhone = "+15555550100"
	pgContactEmail = "chef@faults.example"
	pgFromNumber   = "+18445550001"
	pgOrg          = "00000001-0000-4000-8000-000000000000" // owns the TTN application
)

// pgPrices are the Stripe prices the functions are configured with.
var pgPrices = []string{"price_faults_starter", "price_faults_pro", "price_faults_haccp"}

// pgID is a fixed UUID: kind 2 unit, 3 sensor, 4 contact, 5 Stripe
// organisation, 6 site, 7 area.
func pgID(kind, n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, n) }

func pgDevEUI(n int) string    { return fmt.Sprintf("FA0175%010X", n) }
func pgMessageID(n int) string { return fmt.Sprintf("40385f64-0000-4000-8000-%012d", n) }

// pgQuiet silences the functions' logs for the test: an outage logs every
// 503 at error level, hundreds of lines. FAULTS_DEBUG=1 keeps the errors
// (that is how the 500s' causes were found). The tests calling it are not
// parallel, so no other test's logging is affected meanwhile.
func pgQuiet(t *testing.T) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	if os.Getenv("FAULTS_DEBUG") != "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	}
	t.Cleanup(func() { slog.SetDefault(prev) })
}

// pgFixture says what pgSeed creates.
type pgFixture struct {
	Units      int // units with one sensor each, 0..5 °C, confirm_seconds 0
	StripeOrgs int // organisations with a trial subscription row
	Receipts   int // SMS already handed to Telnyx (provider ids pgMessageID)
}

// pgSeed writes the fixture: the TTN organisation with its application,
// units and sensors, a contact paged by SMS and e-mail at once, and the
// Stripe organisations.
func pgSeed(t testing.TB, db *store.DB, f pgFixture) {
	t.Helper()
	secret := sha256.Sum256([]byte(pgTTNSecret))
	site, area := pgID(6, 0), pgID(7, 0)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := testenv.Pool(db).Exec(context.Background(), sql, args...); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
	}
	exec(`INSERT INTO organizations (id, name, slug) VALUES ($1, 'Faults Bistro', 'faults-bistro')`, pgOrg)
	exec(`INSERT INTO sites (id, organization_id, name) VALUES ($1, $2, 'Main St')`, site, pgOrg)
	exec(`INSERT INTO areas (id, organization_id, site_id, name) VALUES ($1, $2, $3, 'Kitchen')`, area, pgOrg, site)
	exec(`INSERT INTO network_connections (organization_id, application_id, secret_hash, secret_last4) VALUES ($1, $2, $3, '6789')`,
		pgOrg, pgTTNApp, secret[:])
	for i := 0; i < f.Units; i++ {
		exec(`INSERT INTO units (id, organization_id, site_id, area_id, name, temp_min_c, temp_max_c, confirm_seconds, status_since)
			VALUES ($1, $2, $3, $4, $5, 0, 5, 0, '2026-01-01T00:00:00Z')`, pgID(2, i), pgOrg, site, area, fmt.Sprintf("Cooler %d", i))
		exec(`INSERT INTO sensors (id, organization_id, unit_id, dev_eui, model) VALUES ($1, $2, $3, $4, 'Dragino LHT65')`,
			pgID(3, i), pgOrg, pgID(2, i), pgDevEUI(i))
	}
	exec(`INSERT INTO escalation_contacts (id, organization_id, name, phone, email) VALUES ($1, $2, 'Chef', $3, $4)`,
		pgID(4, 0), pgOrg, pgContactPhone, pgContactEmail)
	exec(`INSERT INTO notification_policies (organization_id, steps) VALUES ($1, $2)`, pgOrg,
		fmt.Sprintf(`[{"after_minutes":0,"channels":["sms","email"],"contact_ids":["%s"]}]`, pgID(4, 0)))
	for i := 0; i < f.StripeOrgs; i++ {
		exec(`INSERT INTO organizations (id, name, slug, trial_ends_at) VALUES ($1, $2, $3, '2026-03-15T00:00:00Z')`,
			pgID(5, i), fmt.Sprintf("Stripe %d", i), fmt.Sprintf("stripe-%d", i))
		exec(`INSERT INTO subscriptions (organization_id, status, trial_ends_at) VALUES ($1, 'trial', '2026-03-15T00:00:00Z')`, pgID(5, i))
	}
	for i := 0; i < f.Receipts; i++ {
		// kind 'test' needs no alert; status sent: handed to Telnyx, so no
		// dispatcher touches it and only its receipt moves it.
		exec(`INSERT INTO notifications (organization_id, kind, recipient, channel, status, body, provider, provider_message_id, attempts, sent_at)
			VALUES ($1, 'test', $2, 'sms', 'sent', 'FrostGuard test message', 'telnyx', $3, 1, '2026-01-01T10:00:00Z')`,
			pgOrg, fmt.Sprintf("+1555557%04d", i), pgMessageID(i))
	}
}

// pgOpen opens a small pool for the test's own queries.
func pgOpen(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db := testenv.Open(t, dsn, 4)
	t.Cleanup(db.Close)
	return db
}

func pgCount(t testing.TB, db *store.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := testenv.Pool(db).QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return n
}

// pgTelnyxKey signs deliveries as Telnyx does (Ed25519 over "ts|body").
type pgTelnyxKey struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func pgNewTelnyxKey(t testing.TB) pgTelnyxKey {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pgTelnyxKey{pub, priv}
}

// pgProvider is a fake Telnyx and Resend: it accepts every SMS and e-mail
// and remembers them, so tests can count what reached people.
type pgProvider struct {
	*httptest.Server
	mu     sync.Mutex
	sms    []pgMessage
	emails []pgMessage
}

type pgMessage struct{ To, Text, Key string }

func pgNewProvider(t testing.TB) *pgProvider {
	p := &pgProvider{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			To   json.RawMessage `json:"to"`
			Text string          `json:"text"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		p.mu.Lock()
		defer p.mu.Unlock()
		m := pgMessage{To: string(in.To), Text: in.Text, Key: r.Header.Get("Idempotency-Key")}
		switch r.URL.Path {
		case "/v2/messages":
			p.sms = append(p.sms, m)
			web.JSON(w, http.StatusOK, map[string]any{"data": map[string]string{"id": "fake-sms-" + strconv.Itoa(len(p.sms))}})
		case "/emails":
			p.emails = append(p.emails, m)
			web.JSON(w, http.StatusOK, map[string]string{"id": "fake-email-" + strconv.Itoa(len(p.emails))})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *pgProvider) sent() (sms, emails []pgMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]pgMessage(nil), p.sms...), append([]pgMessage(nil), p.emails...)
}

// pgFunctions are the three webhooks, built as their binaries build them
// (host.HTTP: configuration parsed from the environment, then the shared/fn
// constructor: pool, handler, host.Standard middleware) and served over
// loopback HTTP. The fn packages rather than shared/app: this package then
// compiles without the api function's code.
type pgFunctions struct {
	TTN, Stripe, Telnyx string // base URLs
	key                 pgTelnyxKey
}

func pgServe(t testing.TB, dsn string, provider *pgProvider, key pgTelnyxKey) pgFunctions {
	t.Helper()
	env := testenv.Environment(map[string]string{
		"DATABASE_URL":          dsn,
		"STRIPE_WEBHOOK_SECRET": pgStripeSecret,
		"TELNYX_PUBLIC_KEY":     base64.StdEncoding.EncodeToString(key.pub),
		"STRIPE_PRICE_STARTER":  pgPrices[0],
		"STRIPE_PRICE_PRO":      pgPrices[1],
		"STRIPE_PRICE_HACCP":    pgPrices[2],
		"TELNYX_API_KEY":        "KEYfaults",
		"TELNYX_API_BASE":       provider.URL,
		"TELNYX_FROM_NUMBER":    pgFromNumber,
		"RESEND_API_KEY":        "re_faults",
		"RESEND_API_BASE":       provider.URL,
		"FRONTEND_URL":          "https://app.faults.example",
	})
	serve := func(h http.Handler, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	var ttn config.TTNWebhook
	var stripe config.StripeWebhook
	var telnyx config.TelnyxWebhook
	for _, cfg := range []config.Config{&ttn, &stripe, &telnyx} {
		if err := config.Parse(cfg, env); err != nil {
			t.Fatal(err)
		}
	}
	return pgFunctions{TTN: serve(ttnwebhookfn.New(&ttn)), Stripe: serve(stripewebhookfn.New(&stripe)),
		Telnyx: serve(telnyxwebhookfn.New(&telnyx)), key: key}
}

// pgDelivery is one webhook delivery. It is signed at each attempt, as the
// providers sign each retry anew (their signatures expire).
type pgDelivery struct {
	Kind string // ttn, stripe, telnyx
	Body []byte
}

// pgClient is shared by every sender: keep-alive connections, like the
// providers' delivery fleets.
var pgClient = &http.Client{Timeout: 30 * time.Second,
	Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}

type pgAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

func (f pgFunctions) send(ctx context.Context, d pgDelivery) (pgAnswer, error) {
	url := map[string]string{"ttn": f.TTN + "/webhooks/ttn", "stripe": f.Stripe + "/webhooks/stripe", "telnyx": f.Telnyx + "/webhooks/telnyx"}[d.Kind]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Body))
	if err != nil {
		return pgAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	now := time.Now()
	switch d.Kind {
	case "ttn":
		req.Header.Set("X-Webhook-Secret", pgTTNSecret)
	case "stripe":
		req.Header.Set("Stripe-Signature", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
			Payload: d.Body, Secret: pgStripeSecret, Timestamp: now}).Header)
	case "telnyx":
		ts := strconv.FormatInt(now.Unix(), 10)
		sig := ed25519.Sign(f.key.priv, append([]byte(ts+"|"), d.Body...))
		req.Header.Set("telnyx-timestamp", ts)
		req.Header.Set("telnyx-signature-ed25519", base64.StdEncoding.EncodeToString(sig))
	}
	res, err := pgClient.Do(req)
	if err != nil {
		return pgAnswer{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return pgAnswer{Status: res.StatusCode, Header: res.Header, Body: body}, err
}

// pgCheckUnavailable says what is wrong with a non-2xx answer: the only
// acceptable one is 503 with the JSON envelope (code UNAVAILABLE) and a
// Retry-After, which makes TTN, Stripe and Telnyx retry.
func pgCheckUnavailable(a pgAnswer) string {
	var e web.ErrorBody
	switch {
	case a.Status != http.StatusServiceUnavailable:
		return fmt.Sprintf("status %d: %.300s", a.Status, a.Body)
	case json.Unmarshal(a.Body, &e) != nil || e.Error.Code != "UNAVAILABLE" || e.Error.Message == "" || e.Error.RequestID == "":
		return fmt.Sprintf("503 without the JSON error envelope: %.300s", a.Body)
	case a.Header.Get("Retry-After") == "":
		return "503 without Retry-After"
	}
	return ""
}

// Payloads, in the providers' shapes (see shared/ingest, shared/billing and
// shared/notify tests for the full fixtures).

func pgUplink(dev string, at time.Time, fcnt int, tempC float64) []byte {
	b, _ := json.Marshal(map[string]any{
		"end_device_ids": map[string]any{"device_id": "probe-" + dev, "dev_eui": dev,
			"application_ids": map[string]any{"application_id": pgTTNApp}},
		"correlation_ids": []string{fmt.Sprintf("as:up:01FAULTS%s%06d", dev, fcnt), "gs:uplink:01FAULTS"},
		"received_at":     at.Format(time.RFC3339Nano),
		"uplink_message": map[string]any{
			"f_port": 2, "f_cnt": fcnt, "frm_payload": "AAA=",
			"decoded_payload": map[string]any{"TempC_SHT": tempC, "Hum_SHT": 55.5, "BatV": 3.05},
			"rx_metadata":     []any{map[string]any{"gateway_ids": map[string]any{"gateway_id": "gw-1"}, "rssi": -97, "snr": 8.5}},
			"settings":        map[string]any{"data_rate": map[string]any{"lora": map[string]any{"bandwidth": 125000, "spreading_factor": 7}}},
			"received_at":     at.Format(time.RFC3339Nano),
		},
	})
	return b
}

// pgSubscriptionEvent is a customer.subscription.* event (API 2023-10-16
// shape) for organisation org's subscription sub.
func pgSubscriptionEvent(id, typ string, created time.Time, org, sub, status, price string, cancelAtPeriodEnd bool) []byte {
	start := created.Add(-24 * time.Hour).Unix()
	obj := map[string]any{
		"id": sub, "object": "subscription", "customer": "cus_" + sub, "status": status,
		"metadata": map[string]any{"organization_id": org}, "cancel_at_period_end": cancelAtPeriodEnd,
		"canceled_at": nil, "trial_end": nil, "current_period_start": start, "current_period_end": start + 30*86400,
		"items": map[string]any{"object": "list", "has_more": false, "data": []any{map[string]any{
			"id": "si_" + sub, "object": "subscription_item", "quantity": 1,
			"price": map[string]any{"id": price, "object": "price", "currency": "usd", "type": "recurring"}}}},
	}
	b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": "2023-10-16", "created": created.Unix(),
		"type": typ, "livemode": false, "pending_webhooks": 1, "request": map[string]any{"id": nil, "idempotency_key": nil},
		"data": map[string]any{"object": obj}})
	return b
}

func pgTelnyxEvent(id, typ string, at time.Time, payload map[string]any) []byte {
	payload["record_type"] = "message"
	b, _ := json.Marshal(map[string]any{"data": map[string]any{"record_type": "event", "id": id, "event_type": typ,
		"occurred_at": at.Format(time.RFC3339Nano), "payload": payload}, "meta": map[string]any{"attempt": 1}})
	return b
}

// pgFinalized is the delivery receipt of message messageID: delivered.
func pgFinalized(id, messageID, to string, at time.Time) []byte {
	return pgTelnyxEvent(id, "message.finalized", at, map[string]any{"id": messageID, "direction": "outbound", "type": "SMS",
		"from": map[string]any{"phone_number": pgFromNumber}, "to": []any{map[string]any{"phone_number": to, "status": "delivered"}},
		"text": "FrostGuard test message", "sent_at": at.Add(-4 * time.Second).Format(time.RFC3339Nano),
		"completed_at": at.Format(time.RFC3339Nano), "errors": []any{}})
}

// pgInbound is an SMS from a person to our number.
func pgInbound(id, from, text string, at time.Time) []byte {
	return pgTelnyxEvent(id, "message.received", at, map[string]any{"id": "in-" + id, "direction": "inbound", "type": "SMS",
		"from": map[string]any{"phone_number": from}, "to": []any{map[string]any{"phone_number": pgFromNumber, "status": "webhook_delivered"}},
		"text": text, "errors": []any{}})
}
