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

	"github.com/frostguard/functions/shared/alerting"
	"github.com/jackc/pgx/v5"
)

// One path judges every reading (issue 14): an uplink (BeginUplink) and a
// manual log (CreateManualLog) read the unit with the same SELECT
// (unitAlertingSQL), under the same row lock, and write the engine's
// decision with the same statements (queueJudgement). shared/judge maps
// between these rows and the pure engine.

// UnitAlerting is a unit's alerting configuration and state, read under its
// row lock.
type UnitAlerting struct {
	ID, OrgID, SiteID, Name, SiteName string
	TimeZone                          string // the site's, else the organisation's
	TempUnit                          string
	Type                              string // units.type
	MinC, MaxC, HysteresisC           float64
	ConfirmSeconds                    int
	DoorConfirmSeconds                int
	CoolingSlopeCPerHour              float64
	CoolingReadings                   int
	DefrostSchedule                   json.RawMessage // [{start_minute, duration_minutes}]
	Status                            string
	StatusSince                       time.Time
	InBandCount                       int
	LastReadingAt                     *time.Time // newest sensor reading processed
	LastManualLogAt                   *time.Time
	LastTemperatureAt                 *time.Time // newest plausible sensor temperature
	DoorOpen                          bool
	DoorChangedAt                     *time.Time
	// Recent are the unit's stored sensor temperatures before the reading
	// being judged (oldest first, at most cooling_readings, 6 hours back).
	Recent []TempSample
	// Silence is the unit's active silence (nil: none): alerts still open,
	// their paging waits for its end.
	Silence       *Silence
	silenceUntil  *time.Time
	silenceReason string
	// version is the row version read (its xmin): any write to the unit
	// since, by anyone, changes it.
	version string
}

// TempSample is one stored temperature of a unit.
type TempSample struct {
	At time.Time
	C  float64
}

// OpenAlertRef is one open alert of the unit.
type OpenAlertRef struct {
	Type     string
	SensorID string
}

// unitAlertingSQL is THE read of a unit for judging a reading: cond selects
// the unit (u), at is the placeholder of the reading's time (the recent
// temperatures are those before it), now of the clock (the unit's active
// silence). lock: the unit row is locked FOR UPDATE for the rest of the
// transaction (a manual log); an uplink reads it without a lock and its
// write checks the row's version instead (UplinkTx.Commit). Either way
// readings of one unit are judged one after another.
func unitAlertingSQL(cond, at, now string, lock bool) string {
	forUpdate := ""
	if lock {
		forUpdate = "FOR UPDATE OF u"
	}
	return `SELECT u.id, u.organization_id, u.site_id, u.name, si.name, coalesce(si.timezone, o.timezone), o.temp_unit, u.type,
			u.temp_min_c::float8, u.temp_max_c::float8, u.hysteresis_c::float8, u.confirm_seconds, u.door_confirm_seconds,
			u.cooling_slope_c_per_hour::float8, u.cooling_readings, u.defrost_schedule,
			u.status, u.status_since, u.in_band_count, u.last_reading_at, u.last_manual_log_at, u.last_temperature_at,
			u.door_open, u.door_changed_at,
			(SELECT coalesce(jsonb_agg(jsonb_build_array(extract(epoch FROM r.recorded_at), r.temperature_c) ORDER BY r.recorded_at), '[]')
				FROM (SELECT recorded_at, temperature_c FROM sensor_readings
					WHERE unit_id = u.id AND temperature_c IS NOT NULL
						AND recorded_at < ` + at + ` AND recorded_at >= ` + at + `::timestamptz - interval '6 hours'
					ORDER BY recorded_at DESC LIMIT u.cooling_readings) r),
			coalesce(sl.ended_early_at, sl.ends_at), coalesce(sl.reason, ''), u.xmin::text
		FROM units u JOIN sites si ON si.id = u.site_id AND si.organization_id = u.organization_id
			JOIN organizations o ON o.id = u.organization_id
			LEFT JOIN LATERAL active_unit_silence(u.id, ` + now + `) sl ON true
		WHERE u.deleted_at IS NULL AND ` + cond + `
		` + forUpdate
}

// unitAlertingScan scans a unitAlertingSQL row into u; finish completes it.
func (u *UnitAlerting) scanArgs(recent *[]byte) []any {
	return []any{&u.ID, &u.OrgID, &u.SiteID, &u.Name, &u.SiteName, &u.TimeZone, &u.TempUnit, &u.Type,
		&u.MinC, &u.MaxC, &u.HysteresisC, &u.ConfirmSeconds, &u.DoorConfirmSeconds,
		&u.CoolingSlopeCPerHour, &u.CoolingReadings, &u.DefrostSchedule,
		&u.Status, &u.StatusSince, &u.InBandCount, &u.LastReadingAt, &u.LastManualLogAt, &u.LastTemperatureAt,
		&u.DoorOpen, &u.DoorChangedAt, recent, &u.silenceUntil, &u.silenceReason, &u.version}
}

// finish completes a scanned unit: its recent temperatures and silence.
func (u *UnitAlerting) finish(recent []byte) (err error) {
	u.Recent, err = decodeRecent(recent)
	u.Silence = newSilence(u.silenceUntil, u.silenceReason)
	return err
}

// Silence is a unit's active silence (snooze, maintenance window): its
// paging is held until Until.
type Silence struct {
	Until  time.Time
	Reason string // cleaning, defrost, stocking, maintenance, other
}

func newSilence(until *time.Time, reason string) *Silence {
	if until == nil {
		return nil
	}
	return &Silence{Until: *until, Reason: reason}
}

// decodeRecent reads the [[epoch, °C], ...] of unitAlertingSQL.
func decodeRecent(raw []byte) ([]TempSample, error) {
	var pairs [][2]float64
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, fmt.Errorf("recent temperatures: %w", err)
	}
	out := make([]TempSample, len(pairs))
	for i, p := range pairs {
		sec := int64(p[0])
		out[i] = TempSample{At: time.Unix(sec, int64((p[0]-float64(sec))*1e9)).UTC().Truncate(time.Microsecond), C: p[1]}
	}
	return out, nil
}

// openAlertsSQL lists a unit's open alerts ($1 organisation, and the unit
// by cond).
const openAlertsSQL = `SELECT type, coalesce(sensor_id::text, '') FROM alerts WHERE status <> 'resolved' AND `

func collectOpenAlerts(rows pgx.Rows) ([]OpenAlertRef, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (OpenAlertRef, error) {
		var a OpenAlertRef
		return a, r.Scan(&a.Type, &a.SensorID)
	})
}

// Judgement is the engine's decision on one reading, as rows: written in
// the reading's transaction by queueJudgement.
type Judgement struct {
	UnitState    *UnitStateRow
	DoorChange   *bool // the door changed at the reading's time: door_events row
	Opens        []AlertOpenRow
	Resolves     []AlertResolveRow
	Events       []AlertEventRow  // history lines of alerts that stay open
	StatusChange *StatusChangeRow // the unit's status moved: audit_log
}

// empty reports whether the judgement writes nothing.
func (w Judgement) empty() bool {
	return w.UnitState == nil && w.DoorChange == nil && len(w.Opens) == 0 && len(w.Resolves) == 0 &&
		len(w.Events) == 0 && w.StatusChange == nil
}

// UnitStateRow is the unit's new alerting state.
type UnitStateRow struct {
	Status      string
	StatusSince time.Time
	InBandCount int
	// Sensor is what only a sensor reading moves (nil for a hand reading:
	// a person's thermometer is no check-in and no door).
	Sensor *SensorStateRow
}

// SensorStateRow is the part of a unit's state a sensor reading moves.
type SensorStateRow struct {
	LastReadingAt     time.Time
	LastTempC         *float64   // nil: unchanged (no plausible temperature)
	LastTemperatureAt *time.Time // nil: unchanged
	DoorOpen          bool
	DoorChangedAt     *time.Time
}

// AlertOpenRow opens one alert with its first notifications (the outbox).
type AlertOpenRow struct {
	Type, Severity, Title, Message string
	SensorID                       string
	TemperatureC, LimitC           *float64
	At                             time.Time
	AckCode                        string
	// PagingFrom is when paging starts (escalation steps count from it);
	// zero: At.
	PagingFrom       time.Time
	NextEscalationAt *time.Time
	StepsSent        int // escalation steps sent with the opening (alerts.escalation_step)
	EventNote        string
	EventData        map[string]any
	Notifications    []OutboxRow // escalation step 0
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
	// Redials and RedialAfter (voice): how often an unanswered call is
	// placed again, and how long after the last one ended.
	Redials     int
	RedialAfter time.Duration
}

// AlertEventRow is one line of an open alert's history (alert_events).
type AlertEventRow struct {
	AlertType, Kind, Note string
	At                    time.Time
	Data                  map[string]any
}

// StatusChangeRow records a unit status transition (ok -> excursion,
// excursion -> restoring...): the audit trail of the alert engine.
type StatusChangeRow struct {
	From, To     string
	At           time.Time
	TemperatureC *float64
}

// judgementScope is where a judgement is written and who caused it.
type judgementScope struct {
	OrgID, UnitID string
	SensorID      string // the reading's sensor ("" for a manual log)
	ActorUserID   string // the person whose manual log it was ("" for a sensor)
	ManualLogID   string
}

// queueJudgement queues the writes of one judgement (not the reading
// itself, which each flow stores in its own table).
func queueJudgement(b *pgx.Batch, sc judgementScope, w Judgement, at time.Time) {
	if s := w.UnitState; s != nil {
		if r := s.Sensor; r != nil {
			b.Queue(`UPDATE units SET status = $2, status_since = $3, in_band_count = $4, last_reading_at = $5,
					last_temp_c = coalesce($6, last_temp_c), last_temperature_at = coalesce($7, last_temperature_at),
					door_open = $8, door_changed_at = $9, updated_at = now()
				WHERE id = $1`, sc.UnitID, s.Status, s.StatusSince, s.InBandCount, r.LastReadingAt, r.LastTempC,
				r.LastTemperatureAt, r.DoorOpen, r.DoorChangedAt)
		} else {
			b.Queue(`UPDATE units SET status = $3, status_since = $4, in_band_count = $5, updated_at = now()
				WHERE organization_id = $1 AND id = $2`, sc.OrgID, sc.UnitID, s.Status, s.StatusSince, s.InBandCount)
		}
	}
	if w.DoorChange != nil && sc.SensorID != "" {
		state := "closed"
		if *w.DoorChange {
			state = "open"
		}
		b.Queue(`INSERT INTO door_events (organization_id, unit_id, sensor_id, state, changed_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (sensor_id, changed_at) DO NOTHING`, sc.OrgID, sc.UnitID, sc.SensorID, state, at)
	}
	for _, o := range w.Opens {
		queueOpenAlert(b, sc.OrgID, sc.UnitID, o)
	}
	for _, r := range w.Resolves {
		queueResolveAlert(b, sc.OrgID, sc.UnitID, r, sc.ActorUserID)
	}
	for _, e := range w.Events {
		data, _ := json.Marshal(e.Data)
		b.Queue(`INSERT INTO alert_events (organization_id, alert_id, kind, actor_user_id, note, data, at)
			SELECT organization_id, id, $4, $8, nullif($5, ''), $6, $7 FROM alerts
			WHERE organization_id = $1 AND unit_id = $2 AND type = $3 AND status <> 'resolved'
			ORDER BY triggered_at DESC LIMIT 1`, sc.OrgID, sc.UnitID, e.AlertType, e.Kind, e.Note, data, e.At, nullable(sc.ActorUserID))
	}
	if c := w.StatusChange; c != nil {
		before, _ := json.Marshal(map[string]any{"status": c.From})
		after := map[string]any{"status": c.To, "reading_at": c.At, "temperature_c": c.TemperatureC}
		if sc.SensorID != "" {
			after["sensor_id"] = sc.SensorID
		}
		if sc.ManualLogID != "" {
			after["source"], after["manual_log_id"] = "manual_log", sc.ManualLogID
		}
		afterJSON, _ := json.Marshal(after)
		// A status change caused by a person's hand reading is recorded as
		// theirs.
		b.Queue(`INSERT INTO audit_log (organization_id, actor_user_id, actor_type, action, entity_type, entity_id, before, after, at)
			VALUES ($1, $2, $3, 'unit.status_changed', 'unit', $4, $5, $6, $7)`,
			sc.OrgID, nullable(sc.ActorUserID), actorType(sc.ActorUserID), sc.UnitID, before, afterJSON, c.At)
	}
}

func actorType(userID string) string {
	if userID == "" {
		return "system"
	}
	return "user"
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func queueOpenAlert(b *pgx.Batch, orgID, unitID string, o AlertOpenRow) {
	conflict := `ON CONFLICT (unit_id, type) WHERE status <> 'resolved' AND sensor_id IS NULL DO NOTHING`
	if o.SensorID != "" {
		conflict = `ON CONFLICT (sensor_id, type) WHERE status <> 'resolved' AND sensor_id IS NOT NULL DO NOTHING`
	}
	data, _ := json.Marshal(o.EventData)
	arrays := newOutboxArrays(o.Notifications)
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
				temperature_c, limit_c, ack_code, next_escalation_at, escalation_step, paging_started_at)
			VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, (SELECT c FROM code), $12, $15, coalesce($16::timestamptz, $8::timestamptz)) `+conflict+`
			RETURNING id, organization_id, triggered_at, ack_code),
		ev AS (INSERT INTO alert_events (organization_id, alert_id, kind, note, data, at)
			SELECT organization_id, id, 'opened', $13, $14, triggered_at FROM a)
		INSERT INTO notifications (`+outboxInsertColumns+`)
		SELECT a.organization_id, a.id, 'alert', 0, `+outboxRowValues(`replace(n.body, 'ACK ' || $11, 'ACK ' || a.ack_code)`)+`
		FROM a, `+outboxUnnest(17)+`
		ON CONFLICT ON CONSTRAINT notifications_once_per_step_key DO NOTHING`,
		append([]any{orgID, unitID, nullable(o.SensorID), o.Type, o.Severity, o.Title, nullable(o.Message), o.At,
			o.TemperatureC, o.LimitC, o.AckCode, o.NextEscalationAt, nullable(o.EventNote), data,
			o.StepsSent, timeOrNil(o.PagingFrom)}, arrays.args()...)...)
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// NewAckCode is the short code people text back ("ACK 3F9A2C"): 3 random
// bytes in hex. Opening an alert swaps it for a free one if an open alert of
// the organisation already holds it.
func NewAckCode() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// queueResolveAlert resolves the unit's open alert of r.Type (and sensor),
// records why (and, for a manual log, whose reading it was), and queues
// "back to normal" to everyone an alert notification of this alert reached
// (or is still trying to reach), unless the governing policy turned
// notify_on_resolve off.
func queueResolveAlert(b *pgx.Batch, orgID, unitID string, r AlertResolveRow, actorUserID string) {
	b.Queue(`WITH r AS (
			UPDATE alerts SET status = 'resolved', resolution = 'auto', resolved_at = $4, resolved_note = $5,
				next_escalation_at = NULL, updated_at = now()
			WHERE organization_id = $1 AND unit_id = $2 AND type = $3 AND status <> 'resolved'
				AND sensor_id IS NOT DISTINCT FROM $6::uuid
			RETURNING id, organization_id),
		ev AS (INSERT INTO alert_events (organization_id, alert_id, kind, actor_user_id, note, at)
			SELECT organization_id, id, 'auto_resolved', $10, $5, $4 FROM r)
		INSERT INTO notifications (organization_id, alert_id, kind, escalation_step, contact_id, recipient, channel, subject, body)
		SELECT DISTINCT ON (n.recipient, m.channel) r.organization_id, r.id, 'resolved', 0, n.contact_id, n.recipient, m.channel,
			CASE WHEN m.channel = 'email' THEN $8 END, CASE WHEN m.channel = 'sms' THEN $7 ELSE $9 END
		FROM r JOIN notifications n ON n.alert_id = r.id AND n.kind = 'alert' AND n.status NOT IN ('failed', 'skipped')
			-- whoever a call reached hears the good news by SMS: nobody is
			-- woken by a phone call to be told all is well
			CROSS JOIN LATERAL (SELECT CASE WHEN n.channel = 'voice' THEN 'sms' ELSE n.channel END AS channel) m
		WHERE coalesce((SELECT notify_on_resolve FROM effective_notification_policy($1, $2, $3)), true)
		ON CONFLICT ON CONSTRAINT notifications_once_per_step_key DO NOTHING`,
		orgID, unitID, r.Type, r.At, r.Reason, nullable(r.SensorID), r.SMSBody, r.EmailSubject, r.EmailBody, nullable(actorUserID))
}

// Contact is an escalation contact.
type Contact struct {
	ID, Name, Phone, Email string
}

// NotificationPlan is the effective policy of an alert and the
// organisation's active contacts.
type NotificationPlan struct {
	Found    bool
	Steps    []alerting.Step
	Contacts map[string]Contact
}

// batcher is a transaction (pgx.Tx) or a connection inside one.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// readPlan reads, in one round trip of the caller's transaction, the
// policy that governs an alert of alertType on the unit
// (effective_notification_policy: unit, then site, then organisation; a
// typed policy before an any-type one) and the organisation's active
// contacts. Every flow that opens or escalates an alert reads it here.
func readPlan(ctx context.Context, q batcher, orgID, unitID, alertType string) (NotificationPlan, error) {
	var plan NotificationPlan
	b := &pgx.Batch{}
	b.Queue(`SELECT steps FROM effective_notification_policy($1, $2, $3)`, orgID, unitID, alertType)
	b.Queue(`SELECT id, name, coalesce(phone, ''), coalesce(email, '') FROM escalation_contacts
		WHERE organization_id = $1 AND is_active`, orgID)
	br := q.SendBatch(ctx, b)
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
		return plan, err
	}
	rows, err := br.Query()
	if err != nil {
		return plan, err
	}
	contacts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contact, error) {
		var c Contact
		return c, r.Scan(&c.ID, &c.Name, &c.Phone, &c.Email)
	})
	if err != nil {
		return plan, err
	}
	plan.Contacts = make(map[string]Contact, len(contacts))
	for _, c := range contacts {
		plan.Contacts[c.ID] = c
	}
	return plan, nil
}
