package devstack

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/store"
)

// The demo identities. Fixed ids make the seed idempotent and let a
// developer's bookmarks and scripts survive a reseed.
var (
	OwnerA  = auth.Identity{Subject: "5f1d0a52-0000-4000-8000-00000000a001", Email: "owner@demo-bistro.test", Name: "Olivia Owner"}
	ViewerA = auth.Identity{Subject: "5f1d0a52-0000-4000-8000-00000000a002", Email: "viewer@demo-bistro.test", Name: "Victor Viewer"}
	OwnerB  = auth.Identity{Subject: "5f1d0a52-0000-4000-8000-00000000b001", Email: "owner@other-grocer.test", Name: "Oscar Other"}
)

const (
	orgA     = "0e0a0000-0000-4000-8000-00000000000a"
	orgB     = "0e0b0000-0000-4000-8000-00000000000b"
	siteA    = "51e0a000-0000-4000-8000-00000000000a"
	siteB    = "51e0b000-0000-4000-8000-00000000000b"
	areaA    = "a4ea0000-0000-4000-8000-00000000000a"
	areaB    = "a4eb0000-0000-4000-8000-00000000000b"
	unitA    = "0417a000-0000-4000-8000-00000000000a"
	unitB    = "0417b000-0000-4000-8000-00000000000b"
	sensorA  = "5e45a000-0000-4000-8000-00000000000a"
	contactA = "c0a7a000-0000-4000-8000-00000000000a"
	// SensorDevEUI is the demo sensor's LoRaWAN DevEUI.
	SensorDevEUI = "A84041000181C0DE"
	// TTNApplicationID is the demo organisation's TTN application.
	TTNApplicationID = "frostguard-demo"
)

// SeedFile is .dev/seed.json: everything a developer (or a script) needs to
// call the local stack as three different users.
type SeedFile struct {
	BaseURL          string `json:"base_url"`
	Token            string `json:"token"`
	ViewerToken      string `json:"viewer_token"`
	OtherToken       string `json:"other_token"`
	OrgID            string `json:"org_id"`
	OtherOrgID       string `json:"other_org_id"`
	SiteID           string `json:"site_id"`
	UnitID           string `json:"unit_id"`
	SensorDevEUI     string `json:"sensor_dev_eui"`
	TTNApplicationID string `json:"ttn_application_id"`
	TTNWebhookSecret string `json:"ttn_webhook_secret"`
	// ChirpStackWebhookSecret is organisation A's ChirpStack secret
	// (POST /webhooks/chirpstack?event=up with Authorization: Bearer <it>).
	ChirpStackWebhookSecret string            `json:"chirpstack_webhook_secret"`
	StripeWebhookSecret     string            `json:"stripe_webhook_secret"`
	StripePrices            map[string]string `json:"stripe_prices"`
	TelnyxPrivateKey        string            `json:"telnyx_private_key"`
}

// Write stores the file with owner-only permissions (it holds tokens).
func (f SeedFile) Write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// SeedOptions configure Seed.
type SeedOptions struct {
	BaseURL     string
	Environment map[string]string // for the configured Stripe price ids
	TokenTTL    time.Duration
}

// Seed creates (or refreshes) two demo organisations: A with a site, an
// area, a unit with a sensor, an escalation contact and a notification
// policy, so an alarm in dev produces a notification; B, a second tenant
// to try isolation against. Each run rotates the demo TTN webhook secret,
// because only its hash is stored and seed.json must show the secret.
func Seed(ctx context.Context, db *store.DB, s Secrets, o SeedOptions) (SeedFile, error) {
	var stripe config.StripePrices
	if err := config.Parse(&stripe, o.Environment); err != nil {
		return SeedFile{}, err
	}
	ttnSecret := "fgttn_" + randomHex(24)
	hash := sha256.Sum256([]byte(ttnSecret))
	csSecret := "fgcs_" + randomHex(24)
	csHash := sha256.Sum256([]byte(csSecret))
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, u := range []auth.Identity{OwnerA, ViewerA, OwnerB} {
			b.Queue(`INSERT INTO users (subject, email, display_name) VALUES ($1, $2, $3)
				ON CONFLICT (subject) DO UPDATE SET email = EXCLUDED.email, display_name = EXCLUDED.display_name, updated_at = now()`,
				u.Subject, u.Email, u.Name)
		}
		for _, org := range [][4]string{
			{orgA, "Demo Bistro", "demo-bistro", "America/New_York"},
			{orgB, "Other Grocer", "other-grocer", "Europe/Berlin"},
		} {
			b.Queue(`INSERT INTO organizations (id, name, slug, timezone, trial_ends_at) VALUES ($1, $2, $3, $4, now() + interval '14 days')
				ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()`, org[0], org[1], org[2], org[3])
			b.Queue(`INSERT INTO subscriptions (organization_id, status, trial_ends_at) VALUES ($1, 'trial', now() + interval '14 days')
				ON CONFLICT (organization_id) DO NOTHING`, org[0])
		}
		for _, m := range [][3]string{{orgA, OwnerA.Subject, "owner"}, {orgA, ViewerA.Subject, "viewer"}, {orgB, OwnerB.Subject, "owner"}} {
			b.Queue(`INSERT INTO memberships (organization_id, user_id, role, status, accepted_at)
				SELECT $1, id, $3, 'active', now() FROM users WHERE subject = $2
				ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role, status = 'active'`, m[0], m[1], m[2])
		}
		for _, h := range [][6]string{
			{orgA, siteA, "Main Street Kitchen", areaA, "Back of house", unitA},
			{orgB, siteB, "Riverside Store", areaB, "Dairy aisle", unitB},
		} {
			b.Queue(`INSERT INTO sites (id, organization_id, name, country) VALUES ($1, $2, $3, 'US') ON CONFLICT (id) DO NOTHING`, h[1], h[0], h[2])
			b.Queue(`INSERT INTO areas (id, organization_id, site_id, name) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`, h[3], h[0], h[1], h[4])
			b.Queue(`INSERT INTO units (id, organization_id, site_id, area_id, name, type, temp_min_c, temp_max_c)
				VALUES ($1, $2, $3, $4, 'Walk-in cooler', 'walk_in_cooler', 0, 5) ON CONFLICT (id) DO NOTHING`, h[5], h[0], h[1], h[3])
		}
		b.Queue(`INSERT INTO sensors (id, organization_id, unit_id, dev_eui, name, model)
			VALUES ($1, $2, $3, $4, 'Cooler probe', 'Dragino LHT65') ON CONFLICT (id) DO NOTHING`, sensorA, orgA, unitA, SensorDevEUI)
		b.Queue(`INSERT INTO network_connections (organization_id, kind, application_id, secret_hash, secret_last4)
			VALUES ($1, 'ttn', $2, $3, $4)
			ON CONFLICT (kind, application_id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash,
				secret_last4 = EXCLUDED.secret_last4, secret_rotated_at = now(), updated_at = now()`,
			orgA, TTNApplicationID, hash[:], ttnSecret[len(ttnSecret)-4:])
		b.Queue(`INSERT INTO network_connections (organization_id, kind, secret_hash, secret_last4)
			VALUES ($1, 'chirpstack', $2, $3)
			ON CONFLICT (organization_id) WHERE kind = 'chirpstack' DO UPDATE SET secret_hash = EXCLUDED.secret_hash,
				secret_last4 = EXCLUDED.secret_last4, secret_rotated_at = now(), updated_at = now()`,
			orgA, csHash[:], csSecret[len(csSecret)-4:])
		b.Queue(`INSERT INTO escalation_contacts (id, organization_id, name, phone, email, priority)
			VALUES ($1, $2, 'On-call manager', '+12125550100', 'oncall@demo-bistro.test', 1) ON CONFLICT (id) DO NOTHING`, contactA, orgA)
		// The demo's on-call manager has confirmed both (a trial organisation
		// pages only verified contacts, in its sites' countries: the site is US).
		b.Queue(`UPDATE escalation_contacts SET phone_verified_at = coalesce(phone_verified_at, now()),
			email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1`, contactA)
		steps, _ := json.Marshal([]map[string]any{
			{"after_minutes": 0, "channels": []string{"sms", "email"}, "contact_ids": []string{contactA}},
			// 15 minutes without an acknowledgement: a phone call too (make
			// dev without Telnyx keys logs the call it would place).
			{"after_minutes": 15, "channels": []string{"sms", "voice"}, "contact_ids": []string{contactA},
				"voice_retries": 2, "voice_retry_minutes": 3},
		})
		b.Queue(`INSERT INTO notification_policies (organization_id, name, steps) VALUES ($1, 'Default', $2)
			ON CONFLICT ON CONSTRAINT notification_policies_scope_key DO NOTHING`, orgA, steps)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return SeedFile{}, err
	}
	ttl := o.TokenTTL
	if ttl == 0 {
		ttl = 7 * 24 * time.Hour
	}
	f := SeedFile{
		BaseURL: o.BaseURL, OrgID: orgA, OtherOrgID: orgB, SiteID: siteA, UnitID: unitA,
		SensorDevEUI: SensorDevEUI, TTNApplicationID: TTNApplicationID, TTNWebhookSecret: ttnSecret, ChirpStackWebhookSecret: csSecret,
		StripeWebhookSecret: s.StripeWebhookSecret, TelnyxPrivateKey: s.TelnyxPrivateKey,
		StripePrices: map[string]string{"starter": stripe.PriceStarter, "pro": stripe.PricePro, "haccp": stripe.PriceHACCP},
	}
	for _, t := range []struct {
		dst *string
		id  auth.Identity
	}{{&f.Token, OwnerA}, {&f.ViewerToken, ViewerA}, {&f.OtherToken, OwnerB}} {
		if *t.dst, err = s.Signer.Mint(t.id, ttl); err != nil {
			return SeedFile{}, err
		}
	}
	return f, nil
}
