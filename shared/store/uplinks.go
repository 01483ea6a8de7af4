package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// An uplink is stored in one transaction of two round trips (the ingest
// hot path, docs/ARCHITECTURE.md "The request flow"): the first reads
// everything the decision needs and locks the unit; the second writes
// everything and commits. Alert changes add one read (the notification
// policy) between them.

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
	const cols = `SELECT c.id, c.organization_id, c.kind, c.secret_hash, c.is_active, coalesce(c.application_id, ''),
		coalesce(c.tenant_id, ''), o.import_state IS NOT NULL
		FROM network_connections c JOIN organizations o ON o.id = c.organization_id WHERE c.kind = $1 AND `
	var row pgx.Row
	if l.Network == "ttn" {
		row = db.Pool.QueryRow(ctx, cols+`c.application_id = $2`, l.Network, l.ApplicationID)
	} else {
		row = db.Pool.QueryRow(ctx, cols+`c.secret_hash = $2`, l.Network, l.SecretHash)
	}
	err = row.Scan(&c.ID, &c.OrgID, &c.Network, &c.SecretHash, &c.Active, &c.ApplicationID, &c.TenantID, &c.Importing)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("UplinkConnection: %w", Classify(err))
	}
	return c, true, nil
}

// UplinkKey identifies an authenticated uplink delivery.
type UplinkKey struct {
	// ConnectionID is the connection the delivery authenticated against.
	// The transaction re-checks it: every statement of the first round trip
	// only touches rows while the connection is still active and still
	// accepts SecretHash (or Global), so a secret rotated or a connection
	// deactivated since the check writes and locks nothing.
	ConnectionID string
	SecretHash   []byte // SHA-256 of the secret the delivery presented
	Global       bool   // the delivery presented the installation's global secret
	DevEUI       string // "" when the network did not send one
	// DeviceName is the network's name of the device (shown for an
	// unclaimed device).
	DeviceName string
	DedupeKey  string // "" for messages that are not uplinks (no dedupe)
	ReceivedAt time.Time
	Now        time.Time // the clock (the unit's active silence); zero: time.Now
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

// UplinkTx is an uplink's transaction on one dedicated connection.
type UplinkTx struct {
	conn   *pgxpool.Conn
	target UplinkTarget
	key    UplinkKey
	done   bool
}

// uplinkAuthorized is the condition every statement of the first round trip
// puts on the connection c: $1 is its id, $2 the presented secret's hash,
// $3 whether the global secret was presented.
const uplinkAuthorized = `c.id = $1 AND c.is_active AND (c.secret_hash = $2 OR $3)`

// BeginUplink opens the transaction and runs the first round trip: the
// connection re-checked, the dedupe insert, the sensor, its unit locked FOR
// UPDATE (so concurrent uplinks of one unit are judged one after the other)
// and the unit's open alerts. The caller has checked the secret already:
// BeginUplink is never reached by an unauthenticated delivery, and the
// re-check keeps it from writing or locking anything if the connection
// changed since.
func (db *DB) BeginUplink(ctx context.Context, key UplinkKey) (*UplinkTx, UplinkTarget, error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, UplinkTarget{}, fmt.Errorf("BeginUplink: %w", Classify(err))
	}
	tx := &UplinkTx{conn: conn, key: key}
	auth := []any{key.ConnectionID, key.SecretHash, key.Global}
	with := func(args ...any) []any { return append(append([]any{}, auth...), args...) }
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SELECT c.organization_id, c.kind FROM network_connections c WHERE `+uplinkAuthorized, auth...)
	if key.DedupeKey != "" {
		// Concurrent copies of one delivery wait here for each other; the
		// loser finds the key taken once the winner commits.
		b.Queue(`INSERT INTO uplink_dedupe (connection_id, dedupe_key, organization_id, dev_eui, received_at)
			SELECT c.id, $4, c.organization_id, nullif($5, ''), $6 FROM network_connections c WHERE `+uplinkAuthorized+`
			ON CONFLICT (connection_id, dedupe_key) DO NOTHING RETURNING true`, with(key.DedupeKey, key.DevEUI, key.ReceivedAt)...)
	}
	// The sensor is the organisation's active registration of the DevEUI:
	// whichever of the organisation's connections delivered it.
	const sensor = `SELECT s.id, s.unit_id FROM sensors s JOIN network_connections c ON c.organization_id = s.organization_id
		WHERE ` + uplinkAuthorized + ` AND s.dev_eui = $4 AND s.deleted_at IS NULL`
	b.Queue(`SELECT s.id, coalesce(s.model, ''), coalesce(s.decoder, ''), coalesce(s.probe, ''),
			coalesce(ms.low_battery_volts::float8, 0), coalesce(ms.low_battery_percent, 0) FROM sensors s
		JOIN network_connections c ON c.organization_id = s.organization_id
		LEFT JOIN sensor_model_settings ms ON ms.organization_id = s.organization_id AND ms.model_key = upper(btrim(s.model))
		WHERE `+uplinkAuthorized+` AND s.dev_eui = $4 AND s.deleted_at IS NULL`, with(key.DevEUI)...)
	b.Queue(unitAlertingSQL(`u.id = (SELECT unit_id FROM (`+sensor+`) s)`, "$5", "$6"), with(key.DevEUI, key.ReceivedAt, key.now())...)
	b.Queue(openAlertsSQL+`unit_id = (SELECT unit_id FROM (`+sensor+`) s)`, with(key.DevEUI)...)

	t := &tx.target
	err = func() error {
		br := conn.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil { // BEGIN
			return err
		}
		err := br.QueryRow().Scan(&t.OrgID, &t.Network)
		switch {
		case err == nil:
			t.Authorized, t.ConnectionID = true, key.ConnectionID
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if key.DedupeKey != "" {
			var inserted bool
			err := br.QueryRow().Scan(&inserted)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				t.Duplicate = t.Authorized
			case err != nil:
				return err
			}
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
		return nil, UplinkTarget{}, fmt.Errorf("BeginUplink: %w", Classify(err))
	}
	return tx, tx.target, nil
}

// Rollback ends the transaction without writing (auth failure, duplicate,
// or an error). Safe to call twice and after Commit.
func (tx *UplinkTx) Rollback(ctx context.Context) {
	if tx.done {
		return
	}
	tx.done = true
	// A connection whose rollback failed is closed, not returned to the pool
	// mid-transaction.
	if _, err := tx.conn.Exec(context.WithoutCancel(ctx), `ROLLBACK`); err != nil {
		_ = tx.conn.Conn().Close(context.WithoutCancel(ctx))
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

// Commit writes w and commits: the second round trip.
func (tx *UplinkTx) Commit(ctx context.Context, w UplinkWrites) error {
	if tx.done {
		return errors.New("uplink transaction already finished")
	}
	t := tx.target
	b := &pgx.Batch{}
	at := tx.key.ReceivedAt
	if !w.UplinkAt.IsZero() {
		at = w.UplinkAt
	}
	if w.Reading != nil && t.Unit != nil {
		r := w.Reading
		// ON CONFLICT: a replay whose dedupe key was pruned long ago.
		b.Queue(`INSERT INTO sensor_readings (organization_id, unit_id, sensor_id, recorded_at, temperature_c, humidity,
				battery_percent, battery_voltage, door_open, rssi, snr, gateway_count, spreading_factor, f_cnt, source, raw)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT (sensor_id, recorded_at) DO NOTHING`,
			t.OrgID, t.Unit.ID, t.SensorID, at, r.TemperatureC, r.HumidityPct, r.BatteryPercent, r.BatteryVolts,
			r.DoorOpen, r.RSSI, r.SNR, r.GatewayCount, r.SpreadingFactor, r.FCnt, t.Network, r.Raw)
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
	err := tx.conn.SendBatch(ctx, b).Close()
	if err != nil {
		tx.Rollback(ctx)
		return fmt.Errorf("Commit: %w", Classify(err))
	}
	tx.done = true
	tx.conn.Release()
	return nil
}

// NotificationPlan reads, inside the uplink's transaction, the policy that
// governs an alert of alertType on the unit and the organisation's active
// contacts (readPlan). Only alert changes need it: the extra round trip is
// off the no-change hot path.
func (tx *UplinkTx) NotificationPlan(ctx context.Context, alertType string) (NotificationPlan, error) {
	t := tx.target
	if t.Unit == nil {
		return NotificationPlan{}, nil
	}
	plan, err := readPlan(ctx, tx.conn, t.OrgID, t.Unit.ID, alertType)
	if err != nil {
		return plan, fmt.Errorf("NotificationPlan: %w", Classify(err))
	}
	return plan, nil
}
