package ingest

import (
	"context"
	"crypto/sha256"
	"net/http"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

// An unauthenticated delivery must cost nothing but the secret check: no
// write, no row lock, no transaction. The proof: another transaction holds
// the unit's lock (as a slow real uplink would) and a delivery with a
// wrong secret for that very unit is still answered 401 at once, with no
// dedupe key, reading or unclaimed row written.
func TestUnauthenticatedDeliveryTakesNoLockAndWritesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	holder, err := testenv.Pool(f.db).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `SELECT 1 FROM units WHERE id = $1 FOR UPDATE`, f.unitID); err != nil {
		t.Fatal(err)
	}
	f.handler.GlobalSecret = "the-global-secret"
	bodies := map[string]string{
		"a registered device":  uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body(),
		"an unregistered one":  uplink{DevEUI: "FFFFFFFFFFFF0009", At: f.now, FCnt: 1, Decoded: temp(3)}.body(),
		"an unknown app":       uplink{App: "somebody-elses-app", At: f.now, FCnt: 1, Decoded: temp(3)}.body(),
		"a second wrong guess": uplink{At: f.now.Add(time.Minute), FCnt: 2, Decoded: temp(3)}.body(),
	}
	for name, body := range bodies {
		done := make(chan answer, 1)
		go func() { done <- f.post(body, "X-Webhook-Secret", "fgttn_guessed_wrong") }()
		select {
		case a := <-done:
			if a.Status != http.StatusUnauthorized {
				t.Errorf("%s: %d %s, want 401", name, a.Status, a.Body)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: an unauthenticated delivery waited for the unit lock", name)
		}
	}
	holder.Rollback(ctx)
	for _, table := range []string{"uplink_dedupe", "sensor_readings", "unclaimed_devices", "audit_log"} {
		if n := f.count(`SELECT count(*) FROM ` + table); n != 0 {
			t.Errorf("refused deliveries wrote %d rows into %s", n, table)
		}
	}
	// The right secret is still admitted once the lock is gone.
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()).must(t, 200, "stored")
}

// The global secret admits registered applications only while their
// connection is active, exactly as the per-organisation secret does.
func TestGlobalSecretRefusesDeactivatedConnections(t *testing.T) {
	f := newFixture(t)
	f.handler.GlobalSecret = "the-global-secret"
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body(), "X-Webhook-Secret", "the-global-secret").must(t, 200, "stored")
	f.exec(`UPDATE network_connections SET is_active = false`)
	for name, secretUsed := range map[string]string{"global": "the-global-secret", "per-org": secret} {
		if a := f.post(uplink{At: f.now.Add(time.Minute), FCnt: 2, Decoded: temp(3)}.body(), "X-Webhook-Secret", secretUsed); a.Status != http.StatusUnauthorized {
			t.Errorf("%s secret, deactivated connection: %d %s", name, a.Status, a.Body)
		}
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != 1 {
		t.Errorf("%d readings, want only the one from before the deactivation", n)
	}
}

// Dedupe keys are namespaced by the connection: another tenant's delivery
// that carries the same correlation id (by accident or on purpose) must not
// turn a real uplink into a "duplicate".
func TestDedupeKeyIsNamespacedByConnection(t *testing.T) {
	f := newFixture(t)
	var otherOrg, otherSite, otherArea, otherUnit string
	const otherApp, otherSecret, otherEUI = "other-tenant-app", "fgttn_other_tenant_secret", "70B3D57E0000BEEF"
	f.row(&otherOrg, `INSERT INTO organizations (name, slug) VALUES ('Rival', 'rival') RETURNING id`)
	f.row(&otherSite, `INSERT INTO sites (organization_id, name) VALUES ($1, 'Rival St') RETURNING id`, otherOrg)
	f.row(&otherArea, `INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'Back') RETURNING id`, otherOrg, otherSite)
	f.row(&otherUnit, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		VALUES ($1, $2, $3, 'Rival cooler', 0, 5) RETURNING id`, otherOrg, otherSite, otherArea)
	f.exec(`INSERT INTO sensors (organization_id, unit_id, dev_eui) VALUES ($1, $2, $3)`, otherOrg, otherUnit, otherEUI)
	hash := sha256.Sum256([]byte(otherSecret))
	f.exec(`INSERT INTO network_connections (organization_id, application_id, secret_hash, secret_last4) VALUES ($1, $2, $3, 'cret')`,
		otherOrg, otherApp, hash[:])

	const correlation = "as:up:01SAMECORRELATIONID"
	f.post(uplink{App: otherApp, DevEUI: otherEUI, At: f.now, FCnt: 1, Decoded: temp(3), Correlation: correlation}.body(),
		"X-Webhook-Secret", otherSecret).must(t, 200, "stored")
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3), Correlation: correlation}.body()).must(t, 200, "stored")
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3), Correlation: correlation}.body()).must(t, 200, "duplicate")
	if n := f.count(`SELECT count(*) FROM sensor_readings WHERE unit_id = $1`, f.unitID); n != 1 {
		t.Errorf("%d readings in the victim's unit, want 1", n)
	}
}
