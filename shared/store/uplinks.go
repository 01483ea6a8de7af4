package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// An uplink is stored in one transaction of two round trips (the ingest
// hot path, DESIGN §4): the first reads everything the decision needs and
// locks the unit; the second writes everything and commits. Alert changes
// add one read (the notification policy) between them.

// UplinkConnection is the connection a delivery names by its application
// id: what the webhook checks the delivery's secret against before it opens
// any transaction.
type UplinkConnection struct {
	ID, OrgID  string
	SecretHash []byte // SHA-256 of the per-organisation webhook secret
	Active     bool
	// Importing: the organisation is still being imported from the origin
	// (organizations.import_state). Its deliveries are acknowledged and
	// stored nowhere: the origin still receives them, and the import's
	// delta run copies them.
	Importing bool
}

// UplinkConnection reads the connection of an application id: one indexed
// read outside any transaction, taking no lock. found is false when no
// organisation holds the application.
func (db *DB) UplinkConnection(ctx context.Context, applicationID string) (c UplinkConnection, found bool, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT c.id, c.organization_id, c.secret_hash, c.is_active, o.import_state IS NOT NULL
		FROM ttn_connections c JOIN organizations o ON o.id = c.organization_id WHERE c.application_id = $1`,
		applicationID).Scan(&c.ID, &c.OrgID, &c.SecretHash, &c.Active, &c.Importing)
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
	DevEUI       string // "" when TTN did not send one
	DedupeKey    string // "" for messages that are not uplinks (no dedupe)
	ReceivedAt   time.Time
}

// UplinkTarget is what the first round trip found.
type UplinkTarget struct {
	// Authorized is false when the connection no longer accepts the
	// delivery (the re-check inside the transaction): nothing else is set.
	Authorized   bool
	ConnectionID string
	OrgID        string
	Duplicate    bool

	SensorID      string // "" for a device that is not registered (active) in the organisation
	SensorModel   string
	SensorDecoder string

	Unit      *UnitAlerting // nil when the sensor has no live unit
	OpenAlert []OpenAlertRef
}

// UnitAlerting is a unit's configuration and alerting state, locked.
type UnitAlerting struct {
	ID, SiteID, Name, SiteName string
	TimeZone                   string // the site's, else the organisation's
	TempUnit                   string
	MinC, MaxC, HysteresisC    float64
	ConfirmSeconds             int
	DoorConfirmSeconds         int
	Status                     string
	StatusSince                time.Time
	InBandCount                int
	LastReadingAt              *time.Time
	DoorOpen                   bool
	DoorChangedAt              *time.Time
}

// OpenAlertRef is one open alert of the unit.
type OpenAlertRef struct {
	Type     string
	SensorID string
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
	b.Queue(`SELECT c.organization_id FROM ttn_connections c WHERE `+uplinkAuthorized, auth...)
	if key.DedupeKey != "" {
		// Concurrent copies of one delivery wait here for each other; the
		// loser finds the key taken once the winner commits.
		b.Queue(`INSERT INTO ttn_uplinks (ttn_connection_id, dedupe_key, organization_id, dev_eui, received_at)
			SELECT c.id, $4, c.organization_id, nullif($5, ''), $6 FROM ttn_connections c WHERE `+uplinkAuthorized+`
			ON CONFLICT (ttn_connection_id, dedupe_key) DO NOTHING RETURNING true`, with(key.DedupeKey, key.DevEUI, key.ReceivedAt)...)
	}
	// The sensor is the organisation's active registration of the DevEUI.
	const sensor = `SELECT s.id, s.unit_id FROM sensors s JOIN ttn_connections c ON c.organization_id = s.organization_id
		WHERE ` + uplinkAuthorized + ` AND s.dev_eui = $4 AND s.deleted_at IS NULL`
	b.Queue(`SELECT s.id, coalesce(s.model, ''), coalesce(s.decoder, '') FROM sensors s
		JOIN ttn_connections c ON c.organization_id = s.organization_id
		WHERE `+uplinkAuthorized+` AND s.dev_eui = $4 AND s.deleted_at IS NULL`, with(key.DevEUI)...)
	b.Queue(`SELECT u.id, u.site_id, u.name, si.name, coalesce(si.timezone, o.timezone), o.temp_unit,
			u.temp_min_c::float8, u.temp_max_c::float8, u.hysteresis_c::float8, u.confirm_seconds, u.door_confirm_seconds,
			u.status, u.status_since, u.in_band_count, u.last_reading_at, u.door_open, u.door_changed_at
		FROM units u JOIN sites si ON si.id = u.site_id JOIN organizations o ON o.id = u.organization_id
		WHERE u.id = (SELECT unit_id FROM (`+sensor+`) s)
		AND u.deleted_at IS NULL
		FOR UPDATE OF u`, with(key.DevEUI)...)
	b.Queue(`SELECT type, coalesce(sensor_id::text, '') FROM alerts
		WHERE unit_id = (SELECT unit_id FROM (`+sensor+`) s)
		AND status <> 'resolved'`, with(key.DevEUI)...)

	t := &tx.target
	err = func() error {
		br := conn.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil { // BEGIN
			return err
		}
		err := br.QueryRow().Scan(&t.OrgID)
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
		err = br.QueryRow().Scan(&t.SensorID, &t.SensorModel, &t.SensorDecoder)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var u UnitAlerting
		err = br.QueryRow().Scan(&u.ID, &u.SiteID, &u.Name, &u.SiteName, &u.TimeZone, &u.TempUnit,
			&u.MinC, &u.MaxC, &u.HysteresisC, &u.ConfirmSeconds, &u.DoorConfirmSeconds,
			&u.Status, &u.StatusSince, &u.InBandCount, &u.LastReadingAt, &u.DoorOpen, &u.DoorChangedAt)
		switch {
		case err == nil:
			t.Unit = &u
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		t.OpenAlert, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (OpenAlertRef, error) {
			var a OpenAlertRef
			return a, r.Scan(&a.Type, &a.SensorID)
		})
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
	FCnt           int64
}

// UnitStateRow is the unit's new alerting state.
type UnitStateRow struct {
	Status        string
	StatusSince   time.Time
	InBandCount   int
	LastReadingAt time.Time
	LastTempC     *float64
	DoorOpen      bool
	DoorChangedAt *time.Time
}

// AlertOpenRow opens one alert with its first notifications (the outbox).
type AlertOpenRow struct {
	Type, Severity, Title, Message string
	SensorID                       string
	TemperatureC, LimitC           *float64
	At                             time.Time
	AckCode                        string
	NextEscalationAt               *time.Time
	StepsSent                      int // escalation steps sent with the opening (alerts.escalation_step)
	EventNote                      string
	EventData                      map[string]any
	Notifications                  []OutboxRow // escalation step 0
}

// AlertResolveRow auto-resolves an open alert, telling whoever was paged.
type AlertResolveRow struct {
	Type, SensorID string
	At             time.Time
	Reason         string
	SMSBody        string
	EmailSubject   string
	EmailBody      string
}

// OutboxRow is one notification to send.
type OutboxRow struct {
	ContactID string
	Recipient string
	Channel   string
	Subject   string
	Body      string
}

// UplinkWrites is the second round trip.
type UplinkWrites struct {
	Reading      *ReadingRow   // needs the target's unit
	Health       *SensorHealth // needs the target's sensor
	UnitState    *UnitStateRow // needs the target's unit
	DoorChange   *bool         // the door changed at the reading's time: door_events row
	Unclaimed    string        // a device id to record as seen, unclaimed (no sensor)
	Opens        []AlertOpenRow
	Resolves     []AlertResolveRow
	Events       []AlertEventRow  // history lines of alerts that stay open
	StatusChange *StatusChangeRow // the unit's status moved: audit_log
	UplinkAt     time.Time        // the reading time
}

// AlertEventRow is one line of an open alert's history (alert_events).
type AlertEventRow struct {
	AlertType, Kind, Note string
	At                    time.Time
	Data                  map[string]any
}

// StatusChangeRow records a unit status transition that no alert carries
// (ok -> excursion, excursion -> restoring...): the audit trail of the
// alert engine.
type StatusChangeRow struct {
	From, To     string
	At           time.Time
	TemperatureC *float64
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
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'ttn', $15)
			ON CONFLICT (sensor_id, recorded_at) DO NOTHING`,
			t.OrgID, t.Unit.ID, t.SensorID, at, r.TemperatureC, r.HumidityPct, r.BatteryPercent, r.BatteryVolts,
			r.DoorOpen, r.RSSI, r.SNR, r.GatewayCount, r.SpreadingFactor, r.FCnt, r.Raw)
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
				last_f_cnt = CASE WHEN last_seen_at IS NULL OR $2 >= last_seen_at THEN $7 ELSE last_f_cnt END,
				updated_at = now()
			WHERE id = $1`, t.SensorID, at, h.BatteryPercent, h.BatteryVolts, h.RSSI, h.SNR, h.FCnt)
	}
	if w.UnitState != nil && t.Unit != nil {
		s := w.UnitState
		b.Queue(`UPDATE units SET status = $2, status_since = $3, in_band_count = $4, last_reading_at = $5,
				last_temp_c = coalesce($6, last_temp_c), door_open = $7, door_changed_at = $8, updated_at = now()
			WHERE id = $1`, t.Unit.ID, s.Status, s.StatusSince, s.InBandCount, s.LastReadingAt, s.LastTempC, s.DoorOpen, s.DoorChangedAt)
	}
	if w.DoorChange != nil && t.Unit != nil {
		state := "closed"
		if *w.DoorChange {
			state = "open"
		}
		b.Queue(`INSERT INTO door_events (organization_id, unit_id, sensor_id, state, changed_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (sensor_id, changed_at) DO NOTHING`, t.OrgID, t.Unit.ID, t.SensorID, state, at)
	}
	if w.Unclaimed != "" && t.Authorized && tx.key.DevEUI != "" {
		b.Queue(`INSERT INTO unclaimed_devices (organization_id, ttn_connection_id, dev_eui, ttn_device_id, first_seen_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (ttn_connection_id, dev_eui) DO UPDATE SET last_seen_at = greatest(unclaimed_devices.last_seen_at, EXCLUDED.last_seen_at),
				ttn_device_id = EXCLUDED.ttn_device_id, uplink_count = unclaimed_devices.uplink_count + 1`,
			t.OrgID, t.ConnectionID, tx.key.DevEUI, w.Unclaimed, at)
	}
	for _, o := range w.Opens {
		queueOpenAlert(b, t, o)
	}
	for _, r := range w.Resolves {
		queueResolveAlert(b, t, r)
	}
	for _, e := range w.Events {
		data, _ := json.Marshal(e.Data)
		b.Queue(`INSERT INTO alert_events (organization_id, alert_id, kind, note, data, at)
			SELECT organization_id, id, $4, nullif($5, ''), $6, $7 FROM alerts
			WHERE organization_id = $1 AND unit_id = $2 AND type = $3 AND status <> 'resolved'
			ORDER BY triggered_at DESC LIMIT 1`, t.OrgID, t.Unit.ID, e.AlertType, e.Kind, e.Note, data, e.At)
	}
	if c := w.StatusChange; c != nil && t.Unit != nil {
		before, _ := json.Marshal(map[string]any{"status": c.From})
		after, _ := json.Marshal(map[string]any{"status": c.To, "reading_at": c.At, "temperature_c": c.TemperatureC, "sensor_id": t.SensorID})
		b.Queue(`INSERT INTO audit_log (organization_id, actor_type, action, entity_type, entity_id, before, after, at)
			VALUES ($1, 'system', 'unit.status_changed', 'unit', $2, $3, $4, $5)`, t.OrgID, t.Unit.ID, before, after, c.At)
	}
	b.Queue(`COMMIT`)
	err := tx.conn.SendBatch(ctx, b).Close()
	if err != nil {
		tx.Rollback(ctx)
		return Classify(err)
	}
	tx.done = true
	tx.conn.Release()
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func queueOpenAlert(b *pgx.Batch, t UplinkTarget, o AlertOpenRow) {
	conflict := `ON CONFLICT (unit_id, type) WHERE status <> 'resolved' AND sensor_id IS NULL DO NOTHING`
	if o.SensorID != "" {
		conflict = `ON CONFLICT (sensor_id, type) WHERE status <> 'resolved' AND sensor_id IS NOT NULL DO NOTHING`
	}
	data, _ := json.Marshal(o.EventData)
	var contacts, recipients, channels, subjects, bodies []string
	for _, n := range o.Notifications {
		contacts = append(contacts, n.ContactID)
		recipients = append(recipients, n.Recipient)
		channels = append(channels, n.Channel)
		subjects = append(subjects, n.Subject)
		bodies = append(bodies, n.Body)
	}
	// One statement: the alert (at most one open per unit/sensor and type:
	// a concurrent opener makes this a no-op), its audit event and its
	// first notifications, all keyed on the inserted row. The ack code is
	// o.AckCode unless an open alert of the organisation holds it (a large
	// outage opens thousands: 3 random bytes collide), then a fresh one; the
	// notifications' "ACK <code>" follows the code the alert got.
	b.Queue(`WITH code AS (
			SELECT x.c FROM (SELECT $11::text AS c, 0 AS o
				UNION ALL SELECT upper(substr(md5(gen_random_uuid()::text), 1, 6)), g FROM generate_series(1, 8) g) x
			WHERE NOT EXISTS (SELECT 1 FROM alerts t WHERE t.organization_id = $1 AND t.ack_code = x.c AND t.status <> 'resolved')
			ORDER BY x.o LIMIT 1),
		a AS (
			INSERT INTO alerts (organization_id, unit_id, sensor_id, type, severity, status, title, message, triggered_at,
				temperature_c, limit_c, ack_code, next_escalation_at, escalation_step)
			VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, (SELECT c FROM code), $12, $20) `+conflict+`
			RETURNING id, organization_id, triggered_at, ack_code),
		ev AS (INSERT INTO alert_events (organization_id, alert_id, kind, note, data, at)
			SELECT organization_id, id, 'opened', $13, $14, triggered_at FROM a)
		INSERT INTO notifications (organization_id, alert_id, kind, escalation_step, contact_id, recipient, channel, subject, body)
		SELECT a.organization_id, a.id, 'alert', 0, nullif(n.contact_id, '')::uuid, n.recipient, n.channel, nullif(n.subject, ''),
			replace(n.body, 'ACK ' || $11, 'ACK ' || a.ack_code)
		FROM a, unnest($15::text[], $16::text[], $17::text[], $18::text[], $19::text[]) AS n(contact_id, recipient, channel, subject, body)
		ON CONFLICT ON CONSTRAINT notifications_once_per_step_key DO NOTHING`,
		t.OrgID, t.Unit.ID, nullable(o.SensorID), o.Type, o.Severity, o.Title, nullable(o.Message), o.At,
		o.TemperatureC, o.LimitC, o.AckCode, o.NextEscalationAt, nullable(o.EventNote), data,
		contacts, recipients, channels, subjects, bodies, o.StepsSent)
}

// NewAckCode is the short code people text back ("ACK 3F9A2C"): 3 random
// bytes in hex. Opening an alert swaps it for a free one if an open alert of
// the organisation already holds it.
func NewAckCode() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

func queueResolveAlert(b *pgx.Batch, t UplinkTarget, r AlertResolveRow) {
	// Resolve, record why, and send "back to normal" to everyone an alert
	// notification of this alert reached (or is still trying to reach),
	// unless the governing policy turned notify_on_resolve off.
	b.Queue(`WITH r AS (
			UPDATE alerts SET status = 'resolved', resolution = 'auto', resolved_at = $4, resolved_note = $5,
				next_escalation_at = NULL, updated_at = now()
			WHERE organization_id = $1 AND unit_id = $2 AND type = $3 AND status <> 'resolved'
				AND sensor_id IS NOT DISTINCT FROM $6::uuid
			RETURNING id, organization_id),
		ev AS (INSERT INTO alert_events (organization_id, alert_id, kind, note, at)
			SELECT organization_id, id, 'auto_resolved', $5, $4 FROM r)
		INSERT INTO notifications (organization_id, alert_id, kind, escalation_step, contact_id, recipient, channel, subject, body)
		SELECT DISTINCT ON (n.recipient, n.channel) r.organization_id, r.id, 'resolved', 0, n.contact_id, n.recipient, n.channel,
			CASE WHEN n.channel = 'email' THEN $8 END, CASE WHEN n.channel = 'sms' THEN $7 ELSE $9 END
		FROM r JOIN notifications n ON n.alert_id = r.id AND n.kind = 'alert' AND n.status NOT IN ('failed', 'skipped')
		WHERE coalesce((SELECT notify_on_resolve FROM effective_notification_policy($1, $2, $3)), true)
		ON CONFLICT ON CONSTRAINT notifications_once_per_step_key DO NOTHING`,
		t.OrgID, t.Unit.ID, r.Type, r.At, r.Reason, nullable(r.SensorID), r.SMSBody, r.EmailSubject, r.EmailBody)
}

// PolicyStep is one escalation step of a notification policy.
type PolicyStep struct {
	AfterMinutes int      `json:"after_minutes"`
	Channels     []string `json:"channels"`
	ContactIDs   []string `json:"contact_ids"`
}

// Contact is an escalation contact.
type Contact struct {
	ID, Name, Phone, Email string
}

// NotificationPlan is the effective policy of an alert and its contacts.
type NotificationPlan struct {
	Found    bool
	Steps    []PolicyStep
	Contacts map[string]Contact
}

// NotificationPlan reads, inside the uplink's transaction, the most
// specific enabled policy for the unit and alert type (unit, then site,
// then organisation; a typed policy before an any-type one) and the active
// contacts it names. Only alert changes need it: the extra round trip is
// off the no-change hot path.
func (tx *UplinkTx) NotificationPlan(ctx context.Context, alertType string) (NotificationPlan, error) {
	t := tx.target
	var plan NotificationPlan
	if t.Unit == nil {
		return plan, nil
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT steps FROM effective_notification_policy($1, $2, $3)`, t.OrgID, t.Unit.ID, alertType)
	b.Queue(`SELECT id, name, coalesce(phone, ''), coalesce(email, '') FROM escalation_contacts
		WHERE organization_id = $1 AND is_active`, t.OrgID)
	br := tx.conn.SendBatch(ctx, b)
	defer br.Close()
	var steps []byte
	err := br.QueryRow().Scan(&steps)
	switch {
	case err == nil:
		plan.Found = true
		if err := json.Unmarshal(steps, &plan.Steps); err != nil {
			return plan, err
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return plan, Classify(err)
	}
	rows, err := br.Query()
	if err != nil {
		return plan, Classify(err)
	}
	contacts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contact, error) {
		var c Contact
		return c, r.Scan(&c.ID, &c.Name, &c.Phone, &c.Email)
	})
	if err != nil {
		return plan, Classify(err)
	}
	plan.Contacts = make(map[string]Contact, len(contacts))
	for _, c := range contacts {
		plan.Contacts[c.ID] = c
	}
	return plan, nil
}
