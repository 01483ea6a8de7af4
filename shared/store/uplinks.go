package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// An uplink is stored in two round trips (the ingest hot path,
// docs/ARCHITECTURE.md "The request flow", docs/PERFORMANCE.md): the first
// (BeginUplink) reads everything the decision needs, outside any
// transaction and taking no lock; the function decodes and judges with no
// transaction open; the second (Commit) is one transaction in one round
// trip that locks the unit, checks that it is still the row that was read,
// stores the reading (its own dedupe) and writes the decision. If the unit
// changed meanwhile, Commit writes nothing and returns ErrUplinkConflict:
// the caller reads and judges again. Alert changes add one read (the
// notification policy) between the two.

// ErrUplinkConflict: the unit changed between BeginUplink and Commit
// (another reading of it, a manual log, an edit): nothing was written;
// begin again.
var ErrUplinkConflict = errors.New("the unit changed since it was read")

// ErrUplinkDuplicate: Commit found the uplink already stored (a copy of the
// delivery committed between BeginUplink and Commit): nothing was written.
var ErrUplinkDuplicate = errors.New("the uplink is already stored")

// The SQLSTATEs uplink_assert raises (migration 00180).
const (
	sqlstateUnitChanged = "FGCON"
	sqlstateDuplicate   = "FGDUP"
)

// UplinkConnection is the network connection a delivery names: what the
// webhook checks the delivery's secret against before it opens any
// transaction.
type UplinkConnection struct {
	ID, OrgID string
	Network   string // the connection's kind: "ttn", "chirpstack"
	// SecretHash is SHA-256 of the per-organisation webhook secret.
	SecretHash []byte
	Active     bool
	// ApplicationID and TenantID are what a ChirpStack connection is bound
	// to ("" = any); a TTN connection is found by its application.
	ApplicationID, TenantID string
	// Importing: the organisation is still being imported from the origin
	// (organizations.import_state). Its deliveries are acknowledged and
	// stored nowhere: the origin still receives them, and the import's
	// delta run copies them.
	Importing bool
}

// Binds reports whether the connection accepts a delivery of the network's
// tenant and application: a binding left empty accepts any.
func (c UplinkConnection) Binds(tenantID, applicationID string) bool {
	return (c.TenantID == "" || strings.EqualFold(c.TenantID, tenantID)) &&
		(c.ApplicationID == "" || c.Network == "ttn" || strings.EqualFold(c.ApplicationID, applicationID))
}

// ConnectionLookup names the connection of a delivery: a TTN delivery by
// its application id (the installation's global secret admits any
// registered application), any other network's by its secret's hash.
type ConnectionLookup struct {
	Network       string
	ApplicationID string // TTN
	SecretHash    []byte // the other networks
}

// UplinkConnection reads the connection a delivery names: one indexed read
// outside any transaction, taking no lock. found is false when no
// organisation holds it.
func (db *DB) UplinkConnection(ctx context.Context, l ConnectionLookup) (c UplinkConnection, found bool, err error) {
	defer wrap(&err, "store.UplinkConnection")
	const cols = `SELECT c.id, c.organization_id, c.kind, c.secret_hash, c.is_active, coalesce(c.application_id, ''),
		coalesce(c.tenant_id, ''), o.import_state IS NOT NULL
		FROM network_connections c JOIN organizations o ON o.id = c.organization_id WHERE c.kind = $1 AND `
	var row pgx.Row
	if l.Network == "ttn" {
		row = db.pool.QueryRow(ctx, cols+`c.application_id = $2`, l.Network, l.ApplicationID)
	} else {
		row = db.pool.QueryRow(ctx, cols+`c.secret_hash = $2`, l.Network, l.SecretHash)
	}
	err = row.Scan(&c.ID, &c.OrgID, &c.Network, &c.SecretHash, &c.Active, &c.ApplicationID, &c.TenantID, &c.Importing)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, Classify(err)
	}
	return c, true, nil
}

// UplinkKey identifies an authenticated uplink delivery.
type UplinkKey struct {
	// ConnectionID is the connection the delivery authenticated against.
	// The first round trip re-checks it: every statement only reads rows
	// while the connection is still active and still accepts SecretHash (or
	// Global), so a secret rotated or a connection deactivated since the
	// check finds nothing and writes nothing.
	ConnectionID string
	SecretHash   []byte // SHA-256 of the secret the delivery presented
	Global       bool   // the delivery presented the installation's global secret
	DevEUI       string // "" when the network did not send one
	// DeviceName is the network's name of the device (shown for an
	// unclaimed device).
	DeviceName string
	DedupeKey  string // "" for messages that are not uplinks (no dedupe)
	ReceivedAt time.Time
	// Clamped: ReceivedAt is our clock, not the network's (the delivery's
	// time was in the future), so two copies of the delivery would not
	// share the reading's key: its dedupe key is stored as well.
	Clamped bool
	Now     time.Time // the clock (the unit's active silence); zero: time.Now
}

func (k UplinkKey) now() time.Time {
	if k.Now.IsZero() {
		return time.Now()
	}
	return k.Now
}

// UplinkTarget is what the first round trip found.
type UplinkTarget struct {
	// Authorized is false when the connection no longer accepts the
	// delivery (the re-check inside the transaction): nothing else is set.
	Authorized   bool
	ConnectionID string
	OrgID        string
	Network      string // the connection's kind: the readings' source
	Duplicate    bool

	SensorID      string // "" for a device that is not registered (active) in the organisation
	SensorModel   string
	SensorDecoder string
	SensorProbe   string // the probe setting ("" = the model's default)
	// The sensor model's saved battery thresholds (0: the defaults).
	SensorLowBatteryVolts   float64
	SensorLowBatteryPercent int

	Unit      *UnitAlerting // nil when the sensor has no live unit
	OpenAlert []OpenAlertRef
}

// UplinkTx is an uplink's work on one dedicated connection: no
// transaction is open between BeginUplink and Commit.
type UplinkTx struct {
	conn   *pgxpool.Conn
	target UplinkTarget
	key    UplinkKey
	done   bool
	inTx   bool // Commit's transaction failed and is still open
}

// uplinkAuthorized is the condition every statement of the first round trip
// puts on the connection c: $1 is its id, $2 the presented secret's hash,
// $3 whether the global secret was presented.
const uplinkAuthorized = `c.id = $1 AND c.is_active AND (c.secret_hash = $2 OR $3)`

// BeginUplink runs the first round trip, outside any transaction and
// taking no lock: the connection re-checked, whether the uplink is already
// stored (its dedupe key, or a reading of the sensor at its time), the
// sensor, its unit with the unit's row version, and the unit's open alerts.
// The caller has checked the secret already: BeginUplink is never reached
// by an unauthenticated delivery, and the re-check keeps it from finding
// anything if the connection changed since.
func (db *DB) BeginUplink(ctx context.Context, key UplinkKey) (_ *UplinkTx, _ UplinkTarget, err error) {
	defer wrap(&err, "store.BeginUplink")
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, UplinkTarget{}, Classify(err)
	}
	tx := &UplinkTx{conn: conn, key: key}
	auth := []any{key.ConnectionID, key.SecretHash, key.Global}
	with := func(args ...any) []any { return append(append([]any{}, auth...), args...) }
	// The sensor is the organisation's active registration of the DevEUI:
	// whichever of the organisation's connections delivered it.
	const sensor = `SELECT s.id, s.unit_id FROM sensors s JOIN network_connections c ON c.organization_id = s.organization_id
		WHERE ` + uplinkAuthorized + ` AND s.dev_eui = $4 AND s.deleted_at IS NULL`
	b := &pgx.Batch{}
	b.Queue(`SELECT c.organization_id, c.kind FROM network_connections c WHERE `+uplinkAuthorized, auth...)
	if key.DedupeKey != "" {
		// A copy still in flight is caught by Commit; this spares the
		// decoding and judging of one that is not.
		b.Queue(`SELECT EXISTS (SELECT FROM uplink_dedupe d JOIN network_connections c ON c.id = d.connection_id
				WHERE `+uplinkAuthorized+` AND d.dedupe_key = $5)
			OR EXISTS (SELECT FROM sensor_readings r WHERE r.sensor_id = (SELECT id FROM (`+sensor+`) s) AND r.recorded_at = $6)`,
			with(key.DevEUI, key.DedupeKey, key.ReceivedAt)...)
	}
	b.Queue(`SELECT s.id, coalesce(s.model, ''), coalesce(s.decoder, ''), coalesce(s.probe, ''),
			coalesce(ms.low_battery_volts::float8, 0), coalesce(ms.low_battery_percent, 0) FROM sensors s
		JOIN network_connections c ON c.organization_id = s.organization_id
		LEFT JOIN sensor_model_settings ms ON ms.organization_id = s.organization_id AND ms.model_key = upper(btrim(s.model))
		WHERE `+uplinkAuthorized+` AND s.dev_eui = $4 AND s.deleted_at IS NULL`, with(key.DevEUI)...)
	b.Queue(unitAlertingSQL(`u.id = (SELECT unit_id FROM (`+sensor+`) s)`, "$5", "$6", false), with(key.DevEUI, key.ReceivedAt, key.now())...)
	b.Queue(openAlertsSQL+`unit_id = (SELECT unit_id FROM (`+sensor+`) s)`, with(key.DevEUI)...)

	t := &tx.target
	err = func() error {
		br := conn.SendBatch(ctx, b)
		defer br.Close()
		err := br.QueryRow().Scan(&t.OrgID, &t.Network)
		switch {
		case err == nil:
			t.Authorized, t.ConnectionID = true, key.ConnectionID
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if key.DedupeKey != "" {
			var stored bool
			if err := br.QueryRow().Scan(&stored); err != nil {
				return err
			}
			t.Duplicate = t.Authorized && stored
		}
		err = br.QueryRow().Scan(&t.SensorID, &t.SensorModel, &t.SensorDecoder, &t.SensorProbe, &t.SensorLowBatteryVolts, &t.SensorLowBatteryPercent)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var u UnitAlerting
		var recent []byte
		err = br.QueryRow().Scan(u.scanArgs(&recent)...)
		switch {
		case err == nil:
			if err := u.finish(recent); err != nil {
				return err
			}
			t.Unit = &u
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		t.OpenAlert, err = collectOpenAlerts(rows)
		return err
	}()
	if err != nil {
		tx.Rollback(ctx)
		return nil, UplinkTarget{}, Classify(err)
	}
	return tx, tx.target, nil
}

// Rollback gives the connection back without writing (auth failure,
// duplicate, or an error), ending Commit's transaction if it failed half
// way. Safe to call twice and after Commit.
func (tx *UplinkTx) Rollback(ctx context.Context) {
	if tx.done {
		return
	}
	tx.done = true
	if tx.inTx {
		// A connection whose rollback failed is closed, not returned to
		// the pool mid-transaction.
		if _, err := tx.conn.Exec(context.WithoutCancel(ctx), `ROLLBACK`); err != nil {
			_ = tx.conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}
	tx.conn.Release()
}

// ReadingRow is one sensor_readings row.
type ReadingRow struct {
	TemperatureC    *float64
	HumidityPct     *float64
	BatteryPercent  *int
	BatteryVolts    *float64
	DoorOpen        *bool
	RSSI            *int
	SNR             *float64
	GatewayCount    int
	SpreadingFactor *int
	FCnt            int64
	Raw             json.RawMessage
}

// SensorHealth is what an uplink says about its sensor.
type SensorHealth struct {
	BatteryPercent *int
	BatteryVolts   *float64
	RSSI           *int
	SNR            *float64
	FCnt           *int64 // nil: unchanged (a join, a device status)
	// TemperatureAt is the reading time when the uplink carried a plausible
	// temperature (the sensor's own check-in of that quantity).
	TemperatureAt *time.Time
	// Joined: the device (re)joined its network at the uplink time.
	Joined bool
}

// UplinkWrites is the second round trip.
type UplinkWrites struct {
	Reading   *ReadingRow   // needs the target's unit
	Health    *SensorHealth // needs the target's sensor
	Judgement Judgement     // needs the target's unit
	Unclaimed bool          // record the device as seen, unclaimed (no sensor)
	UplinkAt  time.Time     // the reading time
}

// Commit writes w in one transaction, in one round trip: the second. A
// reading first locks the unit and checks its row version against the one
// BeginUplink read (ErrUplinkConflict if another write came between: the
// caller begins again), then inserts the reading, which is the uplink's
// dedupe: its key (sensor_id, recorded_at) is the network's time of the
// uplink, the same in every copy of the delivery (ErrUplinkDuplicate when a
// copy is stored already). An uplink without a reading (a join, a device
// status, an unclaimed device, a frame that measured nothing) is deduped
// by its dedupe key in uplink_dedupe instead. Either failure stops the
// round trip at that statement: nothing after it is written.
func (tx *UplinkTx) Commit(ctx context.Context, w UplinkWrites) (err error) {
	defer wrap(&err, "store.UplinkTx.Commit")
	if tx.done {
		return errors.New("the uplink is already finished")
	}
	t := tx.target
	b := &pgx.Batch{}
	at := tx.key.ReceivedAt
	if !w.UplinkAt.IsZero() {
		at = w.UplinkAt
	}
	b.Queue(`BEGIN`)
	if t.Unit != nil && (w.Reading != nil || !w.Judgement.empty()) {
		b.Queue(`SELECT uplink_assert((SELECT xmin::text FROM units WHERE id = $1 AND deleted_at IS NULL FOR UPDATE) = $2, '`+sqlstateUnitChanged+`')`,
			t.Unit.ID, t.Unit.version)
	}
	reading := w.Reading != nil && t.Unit != nil
	if reading {
		r := w.Reading
		b.Queue(`WITH r AS (INSERT INTO sensor_readings (organization_id, unit_id, sensor_id, recorded_at, temperature_c, humidity,
				battery_percent, battery_voltage, door_open, rssi, snr, gateway_count, spreading_factor, f_cnt, source, raw)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT (sensor_id, recorded_at) DO NOTHING RETURNING 1)
			SELECT uplink_assert(EXISTS (SELECT FROM r), '`+sqlstateDuplicate+`')`,
			t.OrgID, t.Unit.ID, t.SensorID, at, r.TemperatureC, r.HumidityPct, r.BatteryPercent, r.BatteryVolts,
			r.DoorOpen, r.RSSI, r.SNR, r.GatewayCount, r.SpreadingFactor, r.FCnt, t.Network, r.Raw)
	}
	if tx.key.DedupeKey != "" && t.Authorized && (!reading || tx.key.Clamped) {
		b.Queue(`WITH d AS (INSERT INTO uplink_dedupe (connection_id, dedupe_key, organization_id, dev_eui, received_at)
				VALUES ($1, $2, $3, nullif($4, ''), $5) ON CONFLICT (connection_id, dedupe_key) DO NOTHING RETURNING 1)
			SELECT uplink_assert(EXISTS (SELECT FROM d), '`+sqlstateDuplicate+`')`,
			t.ConnectionID, tx.key.DedupeKey, t.OrgID, tx.key.DevEUI, tx.key.ReceivedAt)
	}
	if w.Health != nil && t.SensorID != "" {
		h := w.Health
		// Health follows the newest uplink only: a late delivery does not
		// roll the battery level back.
		b.Queue(`UPDATE sensors SET last_seen_at = greatest(last_seen_at, $2),
				battery_percent = CASE WHEN last_seen_at IS NULL OR $2 >= last_seen_at THEN coalesce($3, battery_percent) ELSE battery_percent END,
				battery_voltage = CASE WHEN last_seen_at IS NULL OR $2 >= last_seen_at THEN coalesce($4, battery_voltage) ELSE battery_voltage END,
				rssi = CASE WHEN last_seen_at IS NULL OR $2 >= last_seen_at THEN coalesce($5, rssi) ELSE rssi END,
				snr = CASE WHEN last_seen_at IS NULL OR $2 >= last_seen_at THEN coalesce($6, snr) ELSE snr END,
				last_f_cnt = CASE WHEN last_seen_at IS NULL OR $2 >= last_seen_at THEN coalesce($7, last_f_cnt) ELSE last_f_cnt END,
				last_temperature_at = greatest(last_temperature_at, $8),
				last_joined_at = CASE WHEN $9 THEN greatest(last_joined_at, $2) ELSE last_joined_at END,
				updated_at = now()
			WHERE id = $1`, t.SensorID, at, h.BatteryPercent, h.BatteryVolts, h.RSSI, h.SNR, h.FCnt, h.TemperatureAt, h.Joined)
	}
	if t.Unit != nil {
		queueJudgement(b, judgementScope{OrgID: t.OrgID, UnitID: t.Unit.ID, SensorID: t.SensorID}, w.Judgement, at)
	}
	if w.Unclaimed && t.Authorized && tx.key.DevEUI != "" {
		b.Queue(`INSERT INTO unclaimed_devices (organization_id, connection_id, dev_eui, device_name, first_seen_at, last_seen_at)
			VALUES ($1, $2, $3, nullif($4, ''), $5, $5)
			ON CONFLICT (connection_id, dev_eui) DO UPDATE SET last_seen_at = greatest(unclaimed_devices.last_seen_at, EXCLUDED.last_seen_at),
				device_name = coalesce(EXCLUDED.device_name, unclaimed_devices.device_name), uplink_count = unclaimed_devices.uplink_count + 1`,
			t.OrgID, t.ConnectionID, tx.key.DevEUI, tx.key.DeviceName, at)
	}
	b.Queue(`COMMIT`)
	tx.inTx = true
	err = tx.conn.SendBatch(ctx, b).Close()
	if err != nil {
		tx.Rollback(ctx)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			switch pgErr.Code {
			case sqlstateUnitChanged:
				return ErrUplinkConflict
			case sqlstateDuplicate:
				return ErrUplinkDuplicate
			}
		}
		return Classify(err)
	}
	tx.done = true
	tx.conn.Release()
	return nil
}

// NotificationPlan reads, on the uplink's connection, the policy that
// governs an alert of alertType on the unit and the organisation's active
// contacts (readPlan). Only alert changes need it: the extra round trip is
// off the no-change hot path.
func (tx *UplinkTx) NotificationPlan(ctx context.Context, alertType string) (_ NotificationPlan, err error) {
	defer wrap(&err, "store.UplinkTx.NotificationPlan")
	t := tx.target
	if t.Unit == nil {
		return NotificationPlan{}, nil
	}
	plan, err := readPlan(ctx, tx.conn, t.OrgID, t.Unit.ID, alertType)
	if err != nil {
		return plan, Classify(err)
	}
	return plan, nil
}
