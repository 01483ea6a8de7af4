package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// Tenant filters of the uplink transaction's first round trip: a delivery
// authenticated against one organisation's connection reads nothing of
// another organisation's — not its sensor of the same DevEUI, not its unit,
// not its stored reading as a duplicate — and a secret that is not the
// connection's reads nothing at all.
func TestBeginUplinkReadsOnlyTheConnectionsOrganisation(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	pool := testenv.Pool(db)
	const devEUI = "70B3D57ED0000001"
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)

	type tenant struct {
		org, unit, sensor, connection string
		secret                        domain.TTNSecret
	}
	newTenant := func(name string) tenant {
		var tn tenant
		tn.org, tn.unit = newOrgWithUnit(t, db, name)
		tn.secret, _ = domain.NewChirpStackSecret()
		if _, _, err := db.PutChirpStackConnection(ctx, tn.org, domain.ChirpStackBinding{}, tn.secret); err != nil {
			t.Fatal(err)
		}
		c, found, err := db.UplinkConnection(ctx, store.ConnectionLookup{Network: "chirpstack", SecretHash: tn.secret.Hash[:]})
		if err != nil || !found || c.OrgID != tn.org {
			t.Fatalf("%s's connection: %+v %v %v", name, c, found, err)
		}
		tn.connection = c.ID
		return tn
	}
	a, b := newTenant("A"), newTenant("B")
	// B owns the device and has stored its reading at `at`.
	if err := pool.QueryRow(ctx, `INSERT INTO sensors (organization_id, unit_id, dev_eui, model) VALUES ($1, $2, $3, 'Dragino LHT65') RETURNING id`,
		b.org, b.unit, devEUI).Scan(&b.sensor); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO sensor_readings (organization_id, unit_id, sensor_id, recorded_at, received_at, temperature_c, source)
		VALUES ($1, $2, $3, $4, $4, 4.2, 'chirpstack')`, b.org, b.unit, b.sensor, at); err != nil {
		t.Fatal(err)
	}
	begin := func(key store.UplinkKey) store.UplinkTarget {
		t.Helper()
		tx, target, err := db.BeginUplink(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		tx.Rollback(ctx)
		return target
	}
	key := func(tn tenant, secret domain.TTNSecret) store.UplinkKey {
		return store.UplinkKey{ConnectionID: tn.connection, SecretHash: secret.Hash[:], DevEUI: devEUI,
			DedupeKey: "up-1", ReceivedAt: at}
	}

	// A's delivery of B's device: authorised for A, and nothing of B's.
	if got := begin(key(a, a.secret)); !got.Authorized || got.OrgID != a.org || got.SensorID != "" || got.Unit != nil || got.Duplicate {
		t.Fatalf("A's delivery of B's device: %+v", got)
	}
	// B's own delivery sees B's sensor, unit and the stored reading.
	if got := begin(key(b, b.secret)); !got.Authorized || got.OrgID != b.org || got.SensorID != b.sensor ||
		got.Unit == nil || got.Unit.ID != b.unit || !got.Duplicate {
		t.Fatalf("B's delivery: %+v", got)
	}
	// A registers the same DevEUI (DevEUIs are unique per organisation): A's
	// delivery reaches A's sensor and unit, and B's reading is no duplicate.
	if err := pool.QueryRow(ctx, `INSERT INTO sensors (organization_id, unit_id, dev_eui, model) VALUES ($1, $2, $3, 'Dragino LHT65') RETURNING id`,
		a.org, a.unit, devEUI).Scan(&a.sensor); err != nil {
		t.Fatal(err)
	}
	if got := begin(key(a, a.secret)); !got.Authorized || got.SensorID != a.sensor || got.Unit == nil || got.Unit.ID != a.unit || got.Duplicate {
		t.Fatalf("A's delivery of its own device: %+v", got)
	}
	// B's connection presented with A's secret: nothing is read.
	if got := begin(key(b, a.secret)); got.Authorized || got.OrgID != "" || got.SensorID != "" || got.Unit != nil || got.Duplicate {
		t.Fatalf("B's connection with A's secret: %+v", got)
	}
}

// newOrgWithUnit makes an organisation with one site, area and unit (0..5 °C).
func newOrgWithUnit(t *testing.T, db *store.DB, name string) (orgID, unitID string) {
	t.Helper()
	if err := testenv.Pool(db).QueryRow(context.Background(), `WITH o AS (INSERT INTO organizations (name, slug) VALUES ($1, gen_random_uuid()::text) RETURNING id),
		s AS (INSERT INTO sites (organization_id, name) SELECT id, 'S' FROM o RETURNING id, organization_id),
		a AS (INSERT INTO areas (organization_id, site_id, name) SELECT organization_id, id, 'A' FROM s RETURNING id, site_id, organization_id)
		INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		SELECT organization_id, site_id, id, 'U', 0, 5 FROM a RETURNING organization_id, id`, name).Scan(&orgID, &unitID); err != nil {
		t.Fatal(err)
	}
	return orgID, unitID
}
