package store

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frostguard/functions/shared/metrics"
)

// The alert-sweeper's queries. Every change happens in a short transaction
// around ONE unit or ONE alert, locked FOR UPDATE SKIP LOCKED and re-read
// under the lock: two overlapping sweeps never judge the same row at the
// same time, and a row an uplink is holding is simply left for the next
// minute (the uplink is proof the unit is reporting anyway).

// SweepUnit is a unit as the sweeper judges it, read under its row lock.
type SweepUnit struct {
	ID, OrgID, SiteID, Name, SiteName string
	TimeZone, TempUnit                string
	Status                            string
	CheckinInterval                   time.Duration
	// OfflineAfter is how many check-ins the unit may miss before it is
	// offline (its effective offline_multiplier).
	OfflineAfter      int
	LastReadingAt     *time.Time // newest sensor reading of any kind
	LastTemperatureAt *time.Time // newest plausible sensor temperature
	// ExpectsTemperature: one of the unit's live sensors has measured a
	// temperature, or has never reported at all (its kind is unknown): the
	// unit's check-ins are then its temperatures, whatever else reports.
	ExpectsTemperature bool
	// WatchedSince is when the unit started waiting for its first reading:
	// the later of the unit's creation and its live sensors' last change
	// (assigning a sensor touches its updated_at), so a long-registered
	// sensor moved into an old unit is not flagged the minute it arrives.
	WatchedSince      time.Time
	HasSensor         bool
	DoorOpen          bool
	DoorChangedAt     *time.Time
	DoorWarnAfter     time.Duration
	DoorCriticalAfter time.Duration
	// ManualLogInterval is how often a person must log the unit's
	// temperature (0: not required): the unit's own interval, else
	// DefaultHACCPManualLogInterval for a unit without a live sensor in an
	// organisation in HACCP mode.
	ManualLogInterval time.Duration
	LastManualLogAt   *time.Time
	CreatedAt         time.Time
	// Silence is the unit's active silence (nil: none): alerts the sweeper
	// opens wait for its end to page.
	Silence *Silence
	// Open are the unit-level open alerts of the sweeper's types, by type.
	Open map[string]SweepAlert
}

// DefaultHACCPManualLogInterval is how often a unit without sensors must be
// logged by hand in an organisation in HACCP mode, unless the unit sets its
// own interval.
const DefaultHACCPManualLogInterval = 4 * time.Hour

// SweepAlert is one open alert of a SweepUnit.
type SweepAlert struct {
	ID, Severity, Status string
	TriggeredAt          time.Time
}

// SweepTx is one sweeper transaction. Reads (Plan) run at once; writes are
// queued and sent with the COMMIT, so judging a unit costs three round
// trips at most (lock and read, plan, write and commit): a large outage is
// thousands of units in one minute.
type SweepTx struct {
	q       batcher
	pending *pgx.Batch
	// committed runs once the transaction has committed (metrics of what
	// it changed: a rolled-back change is not counted).
	committed []func()
	// changes is what the transaction writes, as a judgement: the live
	// events the sweeper publishes after the commit (shared/realtime).
	changes Judgement
}

// Changes is what the transaction has queued so far: the unit's status
// change and the alerts it opens and resolves.
func (s *SweepTx) Changes() Judgement { return s.changes }

// The candidate queries page through what needs the sweeper, in id order
// (keyset: after is the last id of the previous page, "" for the first),
// and skip what is already handled (an open alert at the right severity and
// the unit at the right status), so a large outage cannot starve later
// units: every page holds only units with something left to do, and a run
// cut short by its deadline leaves to the next minute only what it did not
// reach.

// CheckinCandidates lists live units with a live sensor that need the
// check-in rule: missed check-ins without their monitoring_interrupted alert,
// an alert to raise to critical, a status to move, or an open alert that
// fresh readings resolve. A unit's check-in is its newest temperature when
// it expects temperatures (liveSensorsSQL), else its newest reading. The
// caller re-judges each under its lock (sweep.MissedCheckins is the rule;
// this query mirrors it with the same grace, to select).
func (db *DB) CheckinCandidates(ctx context.Context, now time.Time, after string, limit int) (_ []string, err error) {
	defer wrap(&err, "store.CheckinCandidates")
	return db.ids(ctx, `WITH c AS (
			SELECT u.id, u.status, a.severity AS open_severity, u.offline_multiplier AS offline_after,
				greatest($4, u.offline_multiplier) AS critical_after,
				floor((extract(epoch FROM $1::timestamptz - coalesce(x.last, greatest(u.created_at, s.changed))) - 30)
					/ u.checkin_interval_seconds)::int - CASE WHEN x.last IS NULL THEN 1 ELSE 0 END AS missed
			FROM units u
			CROSS JOIN LATERAL (`+liveSensorsSQL+`) s
			CROSS JOIN LATERAL (SELECT CASE WHEN s.expects_temperature THEN u.last_temperature_at ELSE u.last_reading_at END AS last) x
			LEFT JOIN alerts a ON a.unit_id = u.id AND a.organization_id = u.organization_id
				AND a.type = 'monitoring_interrupted' AND a.status <> 'resolved' AND a.sensor_id IS NULL
			WHERE u.deleted_at IS NULL AND s.changed IS NOT NULL AND u.id > $2::uuid
				AND u.organization_id NOT IN `+hiddenOrgs+`)
		SELECT id FROM c
		WHERE (missed >= offline_after AND (open_severity IS NULL
				OR (missed >= critical_after AND (open_severity <> 'critical' OR status <> 'monitoring_interrupted'))
				OR (missed < critical_after AND status NOT IN ('offline', 'monitoring_interrupted'))))
			OR (missed < 1 AND open_severity IS NOT NULL)
		ORDER BY id LIMIT $3`, now, cursor(after), limit, criticalMissedCheckins)
}

// criticalMissedCheckins mirrors sweep.CriticalMissedCheckins for the
// candidate query (a test keeps them equal).
const criticalMissedCheckins = 5

// DoorCandidates lists units whose door has been open at least their
// door_warn_minutes without a door_open alert (or with one to raise to
// critical at door_critical_minutes, or from an earlier opening), and units
// whose open door_open alert a closed door resolves.
func (db *DB) DoorCandidates(ctx context.Context, now time.Time, after string, limit int) (_ []string, err error) {
	defer wrap(&err, "store.DoorCandidates")
	return db.ids(ctx, `SELECT u.id FROM units u
		LEFT JOIN alerts a ON a.unit_id = u.id AND a.organization_id = u.organization_id
			AND a.type = 'door_open' AND a.status <> 'resolved' AND a.sensor_id IS NULL
		WHERE u.id IN (
				SELECT id FROM units WHERE door_open AND deleted_at IS NULL
					AND door_changed_at <= $1::timestamptz - make_interval(mins => door_warn_minutes)
				UNION ALL
				SELECT unit_id FROM alerts WHERE type = 'door_open' AND status <> 'resolved' AND sensor_id IS NULL)
			AND u.deleted_at IS NULL AND u.id > $2::uuid AND u.organization_id NOT IN `+hiddenOrgs+`
			AND ((a.id IS NULL AND u.door_open)
				OR (a.id IS NOT NULL AND (NOT u.door_open OR u.door_changed_at IS NULL
					OR a.triggered_at < u.door_changed_at + make_interval(mins => u.door_warn_minutes)
					OR (a.severity <> 'critical' AND u.door_changed_at <= $1::timestamptz - make_interval(mins => u.door_critical_minutes)))))
		ORDER BY u.id LIMIT $3`, now, cursor(after), limit)
}

// ManualLogCandidates lists live units that require manual logs (see
// SweepUnit.ManualLogInterval) whose last log (else their creation) is older
// than the interval and that have no open missed_manual_entry alert, and
// units with an open one that no longer needs it (a fresh log, or logs no
// longer required).
func (db *DB) ManualLogCandidates(ctx context.Context, now time.Time, after string, limit int) (_ []string, err error) {
	defer wrap(&err, "store.ManualLogCandidates")
	return db.ids(ctx, `WITH c AS (
			SELECT u.id, a.id AS open_id,
				coalesce(u.last_manual_log_at, u.created_at) + make_interval(secs => r.interval) <= $1 AS due
			FROM units u
			JOIN organizations o ON o.id = u.organization_id
			CROSS JOIN LATERAL (SELECT coalesce(u.manual_log_interval_seconds,
				CASE WHEN o.compliance_mode = 'haccp' AND NOT EXISTS (SELECT 1 FROM sensors s
					WHERE s.unit_id = u.id AND s.organization_id = u.organization_id AND s.deleted_at IS NULL) THEN $4::int END) AS interval) r
			LEFT JOIN alerts a ON a.unit_id = u.id AND a.organization_id = u.organization_id
				AND a.type = 'missed_manual_entry' AND a.status <> 'resolved' AND a.sensor_id IS NULL
			WHERE u.deleted_at IS NULL AND u.id > $2::uuid AND (r.interval IS NOT NULL OR a.id IS NOT NULL)
				AND u.organization_id NOT IN `+hiddenOrgs+`)
		SELECT id FROM c WHERE (open_id IS NULL AND due) OR (open_id IS NOT NULL AND NOT coalesce(due, false))
		ORDER BY id LIMIT $3`, now, cursor(after), limit, int(DefaultHACCPManualLogInterval/time.Second))
}

// DueEscalations lists active alerts whose next escalation is due
// (alerts_next_escalation_idx), oldest due first, after the keyset
// (afterAt, afterID) of the previous page (zero: the first page).
func (db *DB) DueEscalations(ctx context.Context, now time.Time, afterAt time.Time, afterID string, limit int) (_ []DueAlert, err error) {
	defer wrap(&err, "store.DueEscalations")
	rows, err := db.pool.Query(ctx, `SELECT id, next_escalation_at FROM alerts
		WHERE status = 'active' AND next_escalation_at <= $1 AND (next_escalation_at, id) > ($2, $3::uuid)
			AND organization_id NOT IN `+hiddenOrgs+`
		ORDER BY next_escalation_at, id LIMIT $4`, now, afterAt, cursor(afterID), limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DueAlert, error) {
		var a DueAlert
		return a, r.Scan(&a.ID, &a.DueAt)
	})
	return out, Classify(err)
}

// DueAlert is one alert whose escalation is due.
type DueAlert struct {
	ID    string
	DueAt time.Time
}

// cursor is a keyset position: the nil uuid sorts before every id.
func cursor(after string) string {
	if after == "" {
		return "00000000-0000-0000-0000-000000000000"
	}
	return after
}

func (db *DB) ids(ctx context.Context, sql string, args ...any) ([]string, error) {
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, Classify(err)
}

// WithSweepUnit runs fn in a transaction holding the unit's row lock. A
// unit that is locked (an uplink, or the other sweep) or gone is skipped:
// fn is not called and ok is false.
func (db *DB) WithSweepUnit(ctx context.Context, unitID string, now time.Time, fn func(*SweepTx, SweepUnit) error) (ok bool, err error) {
	defer wrap(&err, "store.WithSweepUnit")
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return false, Classify(err)
	}
	defer conn.Release()
	var u SweepUnit
	found, err := func() (bool, error) {
		var interval, doorWarn, doorCrit int
		var manual *int
		var silenceUntil *time.Time
		var silenceReason string
		b := &pgx.Batch{}
		b.Queue(`BEGIN`)
		b.Queue(`SELECT u.id, u.organization_id, u.site_id, u.name, si.name, coalesce(si.timezone, o.timezone),
				o.temp_unit, u.status, u.checkin_interval_seconds, u.offline_multiplier, u.last_reading_at, u.last_temperature_at, u.door_open, u.door_changed_at,
				u.door_warn_minutes, u.door_critical_minutes, u.last_manual_log_at, u.created_at,
				greatest(u.created_at, s.changed), s.changed IS NOT NULL, s.expects_temperature,
				coalesce(u.manual_log_interval_seconds, CASE WHEN o.compliance_mode = 'haccp' AND s.changed IS NULL THEN $2::int END),
				coalesce(sl.ended_early_at, sl.ends_at), coalesce(sl.reason, '')
			FROM units u JOIN sites si ON si.id = u.site_id AND si.organization_id = u.organization_id
				JOIN organizations o ON o.id = u.organization_id
				CROSS JOIN LATERAL (`+liveSensorsSQL+`) s
				LEFT JOIN LATERAL active_unit_silence(u.id, $3) sl ON true
			WHERE u.id = $1 AND u.deleted_at IS NULL AND o.import_state IS NULL
			FOR UPDATE OF u SKIP LOCKED`, unitID, int(DefaultHACCPManualLogInterval/time.Second), now)
		b.Queue(`SELECT a.id, a.type, a.severity, a.status, a.triggered_at FROM alerts a JOIN units u ON u.id = a.unit_id
			WHERE a.unit_id = $1 AND a.organization_id = u.organization_id AND a.sensor_id IS NULL AND a.status <> 'resolved'
				AND a.type IN ('monitoring_interrupted', 'door_open', 'missed_manual_entry')`, unitID)
		br := conn.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil { // BEGIN
			return false, err
		}
		err := br.QueryRow().Scan(&u.ID, &u.OrgID, &u.SiteID, &u.Name, &u.SiteName, &u.TimeZone,
			&u.TempUnit, &u.Status, &interval, &u.OfflineAfter, &u.LastReadingAt, &u.LastTemperatureAt, &u.DoorOpen, &u.DoorChangedAt,
			&doorWarn, &doorCrit, &u.LastManualLogAt, &u.CreatedAt, &u.WatchedSince, &u.HasSensor, &u.ExpectsTemperature, &manual,
			&silenceUntil, &silenceReason)
		found := err == nil
		u.Silence = newSilence(silenceUntil, silenceReason)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return false, err
		}
		u.CheckinInterval = time.Duration(interval) * time.Second
		u.DoorWarnAfter, u.DoorCriticalAfter = time.Duration(doorWarn)*time.Minute, time.Duration(doorCrit)*time.Minute
		if manual != nil {
			u.ManualLogInterval = time.Duration(*manual) * time.Second
		}
		rows, err := br.Query()
		if err != nil {
			return false, err
		}
		u.Open = map[string]SweepAlert{}
		var a SweepAlert
		var typ string
		_, err = pgx.ForEachRow(rows, []any{&a.ID, &typ, &a.Severity, &a.Status, &a.TriggeredAt}, func() error {
			u.Open[typ] = a
			return nil
		})
		return found, err
	}()
	if err != nil || !found {
		endTx(ctx, conn, "ROLLBACK")
		if err != nil {
			return false, Classify(err)
		}
		return false, nil // locked by an uplink or the other sweep, or gone
	}
	st := &SweepTx{q: conn, pending: &pgx.Batch{}}
	if err := fn(st, u); err != nil {
		endTx(ctx, conn, "ROLLBACK")
		return true, Classify(err)
	}
	st.pending.Queue(`COMMIT`)
	if err := conn.SendBatch(ctx, st.pending).Close(); err != nil {
		endTx(ctx, conn, "ROLLBACK")
		return true, Classify(err)
	}
	for _, f := range st.committed {
		f()
	}
	return true, nil
}

// endTx ends a transaction opened with a BEGIN statement on conn; a
// connection whose ROLLBACK fails is closed, not returned to the pool
// mid-transaction.
func endTx(ctx context.Context, conn *pgxpool.Conn, stmt string) {
	if _, err := conn.Exec(context.WithoutCancel(ctx), stmt); err != nil {
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
	}
}

// liveSensorsSQL summarises a unit u's live sensors: when they last changed
// (NULL: the unit has none) and whether the unit expects temperatures (a
// sensor measured one, or never reported at all).
const liveSensorsSQL = `SELECT max(s.updated_at) AS changed,
		coalesce(bool_or(s.last_temperature_at IS NOT NULL OR s.last_seen_at IS NULL), false) AS expects_temperature
	FROM sensors s WHERE s.unit_id = u.id AND s.organization_id = u.organization_id AND s.deleted_at IS NULL`

// Plan reads the notification plan of an alert of alertType on the unit
// (readPlan, as every flow that opens an alert).
func (s *SweepTx) Plan(ctx context.Context, orgID, unitID, alertType string) (_ NotificationPlan, err error) {
	defer wrap(&err, "store.SweepTx.Plan")
	plan, err := readPlan(ctx, s.q, orgID, unitID, alertType)
	if err != nil {
		return plan, err
	}
	return plan, nil
}

// OpenAlert opens a unit-level alert with its audit event and first
// notifications, exactly as an uplink does (a no-op when one of that type
// is already open: the partial unique index).
func (s *SweepTx) OpenAlert(ctx context.Context, u SweepUnit, o AlertOpenRow) (err error) {
	defer wrap(&err, "store.SweepTx.OpenAlert")
	queueOpenAlert(s.pending, u.OrgID, u.ID, o)
	s.changes.Opens = append(s.changes.Opens, o)
	s.committed = append(s.committed, func() { metrics.Add(ctx, metrics.AlertsOpened, 1, "Type", o.Type, "Severity", o.Severity) })
	return nil
}

// ResolveAlert auto-resolves the unit's open alert of r.Type and queues
// "back to normal" to everyone its alert notifications reached, exactly as
// an uplink does.
func (s *SweepTx) ResolveAlert(ctx context.Context, u SweepUnit, r AlertResolveRow) (err error) {
	defer wrap(&err, "store.SweepTx.ResolveAlert")
	queueResolveAlert(s.pending, u.OrgID, u.ID, r, "")
	s.changes.Resolves = append(s.changes.Resolves, r)
	s.committed = append(s.committed, func() { metrics.Add(ctx, metrics.AlertsResolved, 1, "Type", r.Type) })
	return nil
}

// RaiseSeverity raises an open alert's severity (never lowers it) and
// records the change, with the commit. It reports whether it changes
// anything (a is the alert as read under the unit's lock).
func (s *SweepTx) RaiseSeverity(ctx context.Context, orgID string, a SweepAlert, severity string, at time.Time, note string) bool {
	if a.Severity == severity || !(a.Severity == "info" || severity == "critical") {
		return false
	}
	data, _ := json.Marshal(map[string]any{"severity": severity})
	s.pending.Queue(`WITH a AS (
			UPDATE alerts SET severity = $3, updated_at = now()
			WHERE organization_id = $1 AND id = $2 AND status <> 'resolved' AND severity <> $3
				AND (severity = 'info' OR $3 = 'critical')
			RETURNING id, organization_id)
		INSERT INTO alert_events (organization_id, alert_id, kind, note, data, at)
		SELECT organization_id, id, 'severity_changed', $4, $5, $6 FROM a`, orgID, a.ID, severity, note, data, at)
	return true
}

// SetUnitStatus moves the locked unit to status (if it is not there yet)
// with an audit_log line, like the alert engine's status changes.
func (s *SweepTx) SetUnitStatus(ctx context.Context, u SweepUnit, status string, at time.Time) {
	if u.Status == status {
		return
	}
	before, _ := json.Marshal(map[string]any{"status": u.Status})
	after, _ := json.Marshal(map[string]any{"status": status, "at": at, "reason": "missed check-ins"})
	s.pending.Queue(`WITH u AS (
			UPDATE units SET status = $3, status_since = $4, in_band_count = 0, updated_at = now()
			WHERE organization_id = $1 AND id = $2 AND status <> $3 RETURNING id, organization_id)
		INSERT INTO audit_log (organization_id, actor_type, action, entity_type, entity_id, before, after, at)
		SELECT organization_id, 'system', 'unit.status_changed', 'unit', id, $5, $6, $4 FROM u`,
		u.OrgID, u.ID, status, at, before, after)
	s.changes.StatusChange = &StatusChangeRow{From: u.Status, To: status, At: at}
}

// EscalationAlert is an active alert whose escalation is due, read under its
// row lock, with what its notifications say.
type EscalationAlert struct {
	ID, OrgID, UnitID, SiteID, Type, Severity, AckCode string
	SiteName, UnitName, TimeZone, TempUnit             string
	TriggeredAt                                        time.Time
	PagingFrom                                         time.Time // escalation steps count from here
	TemperatureC, LimitC                               *float64
	StepsSent                                          int // alerts.escalation_step
	NextEscalationAt                                   *time.Time
	// Silence is the unit's active silence (nil: none): escalation waits.
	Silence *Silence
	// EndedSilence is the unit's latest silence that ended since the alert
	// triggered (nil: none): its pages say paging was held.
	EndedSilence *PastSilence
}

// PastSilence is a silence that has ended.
type PastSilence struct {
	Reason      string
	From, Until time.Time
}

// EscalationWrite is what one escalation run writes for an alert.
type EscalationWrite struct {
	Steps     map[int][]OutboxRow // step index -> its notifications
	StepsSent int                 // the new alerts.escalation_step
	Next      *time.Time          // nil: nothing more to send (the alert stays open)
	Held      *Silence            // escalation waits for this silence's end (a paging_held event)
}

// WithDueEscalation runs fn for one alert under its row lock, if it is still
// active and due at now; fn's write is then applied (ok reports whether fn
// ran). The outbox insert is ON CONFLICT DO NOTHING on the once-per-step
// key, and the alert update is conditional on the step count read under
// the lock, so even a mistaken second run cannot page twice.
func (db *DB) WithDueEscalation(ctx context.Context, alertID string, now time.Time,
	fn func(*SweepTx, EscalationAlert) (EscalationWrite, error)) (ok bool, err error) {
	defer wrap(&err, "store.WithDueEscalation")
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var a EscalationAlert
		var silenceUntil, pastStart, pastEnd *time.Time
		var silenceReason, pastReason string
		err := tx.QueryRow(ctx, `SELECT a.id, a.organization_id, a.unit_id, u.site_id, a.type, a.severity, a.ack_code,
				si.name, u.name, coalesce(si.timezone, o.timezone), o.temp_unit, a.triggered_at, coalesce(a.paging_started_at, a.triggered_at),
				a.temperature_c::float8, a.limit_c::float8, a.escalation_step, a.next_escalation_at,
				coalesce(sl.ended_early_at, sl.ends_at), coalesce(sl.reason, ''), ps.starts_at, ps.ended, coalesce(ps.reason, '')
			FROM alerts a JOIN units u ON u.id = a.unit_id AND u.organization_id = a.organization_id
				JOIN sites si ON si.id = u.site_id AND si.organization_id = a.organization_id
				JOIN organizations o ON o.id = a.organization_id
				LEFT JOIN LATERAL active_unit_silence(a.unit_id, $2) sl ON true
				LEFT JOIN LATERAL (SELECT reason, starts_at, coalesce(ended_early_at, ends_at) AS ended FROM unit_silences s
					WHERE s.unit_id = a.unit_id AND coalesce(s.ended_early_at, s.ends_at) <= $2
						AND coalesce(s.ended_early_at, s.ends_at) > a.triggered_at
					ORDER BY 3 DESC LIMIT 1) ps ON true
			WHERE a.id = $1 AND a.status = 'active' AND a.next_escalation_at <= $2 AND o.import_state IS NULL
			FOR UPDATE OF a SKIP LOCKED`, alertID, now).Scan(&a.ID, &a.OrgID, &a.UnitID, &a.SiteID, &a.Type, &a.Severity,
			&a.AckCode, &a.SiteName, &a.UnitName, &a.TimeZone, &a.TempUnit, &a.TriggeredAt, &a.PagingFrom, &a.TemperatureC, &a.LimitC,
			&a.StepsSent, &a.NextEscalationAt, &silenceUntil, &silenceReason, &pastStart, &pastEnd, &pastReason)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		a.Silence = newSilence(silenceUntil, silenceReason)
		if pastStart != nil && pastEnd != nil {
			a.EndedSilence = &PastSilence{Reason: pastReason, From: *pastStart, Until: *pastEnd}
		}
		w, err := fn(&SweepTx{q: tx}, a)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		var stepsQueued []int
		for step, rows := range w.Steps {
			stepsQueued = append(stepsQueued, step)
			arrays := newOutboxArrays(rows)
			b.Queue(`INSERT INTO notifications (`+outboxInsertColumns+`)
				SELECT $1, $2, 'alert', $3, `+outboxRowValues("n.body")+`
				FROM `+outboxUnnest(4)+`
				ON CONFLICT ON CONSTRAINT notifications_once_per_step_key DO NOTHING`,
				append([]any{a.OrgID, a.ID, step}, arrays.args()...)...)
		}
		b.Queue(`UPDATE alerts SET escalation_step = $3, next_escalation_at = $4, updated_at = now()
			WHERE organization_id = $1 AND id = $2 AND escalation_step = $5`, a.OrgID, a.ID, w.StepsSent, w.Next, a.StepsSent)
		if w.Held != nil {
			data, _ := json.Marshal(map[string]any{"silenced_until": w.Held.Until, "reason": w.Held.Reason})
			b.Queue(`INSERT INTO alert_events (organization_id, alert_id, kind, note, data, at) VALUES ($1, $2, 'paging_held', $3, $4, $5)`,
				a.OrgID, a.ID, "escalation held: the unit is silenced ("+w.Held.Reason+")", data, now)
		}
		if len(stepsQueued) > 0 {
			sort.Ints(stepsQueued)
			data, _ := json.Marshal(map[string]any{"steps": stepsQueued, "escalation_step": w.StepsSent})
			b.Queue(`INSERT INTO alert_events (organization_id, alert_id, kind, note, data, at) VALUES ($1, $2, 'escalated', $3, $4, $5)`,
				a.OrgID, a.ID, "escalation step queued", data, now)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	return ok, err
}

// PruneDedupe deletes uplink_dedupe keys, telnyx_events and unclaimed early
// Telnyx receipts received before cutoff,
// at most limit rows of each per call (a bounded batch keeps the
// transaction and its WAL small; the next minute continues).
func (db *DB) PruneDedupe(ctx context.Context, cutoff time.Time, limit int) (uplinks, events int64, err error) {
	defer wrap(&err, "store.PruneDedupe")
	tag, err := db.pool.Exec(ctx, `DELETE FROM uplink_dedupe WHERE (connection_id, dedupe_key) IN (
		SELECT connection_id, dedupe_key FROM uplink_dedupe WHERE received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, cutoff, limit)
	if err != nil {
		return 0, 0, Classify(err)
	}
	uplinks = tag.RowsAffected()
	tag, err = db.pool.Exec(ctx, `DELETE FROM telnyx_events WHERE event_id IN (
		SELECT event_id FROM telnyx_events WHERE received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, cutoff, limit)
	if err != nil {
		return uplinks, 0, Classify(err)
	}
	events = tag.RowsAffected()
	// Receipts held for a message id no notification ever took (the HELP
	// and ACK replies have no outbox row) count with the events.
	// Failed ACK attempts count for an hour only.
	if _, err = db.pool.Exec(ctx, `DELETE FROM sms_ack_failures WHERE ctid IN (
		SELECT ctid FROM sms_ack_failures WHERE at < $1 LIMIT $2)`, cutoff, limit); err != nil {
		return uplinks, events, Classify(err)
	}
	tag, err = db.pool.Exec(ctx, `DELETE FROM telnyx_early_receipts WHERE provider_message_id IN (
		SELECT provider_message_id FROM telnyx_early_receipts WHERE received_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, cutoff, limit)
	if err != nil {
		return uplinks, events, Classify(err)
	}
	return uplinks, events + tag.RowsAffected(), nil
}
