package originimport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// orgWriter writes one organisation's plan and makes it live.
type orgWriter struct {
	db      database
	origin  *Origin
	p       *planner
	rep     *OrgReport
	started time.Time
	now     func() time.Time
	months  map[[2]string]*monthCount // (unit, YYYY-MM) -> counts of both sides
	// copiedNow is what this run copied (the report's readings count all runs)
	copiedNow int64
}

// catchUpMargin is how long before the previous run's start the catch-up
// looks for rows the origin received (clocks and transactions in flight);
// catchUpLateness how much older than its arrival a reading may be (a late
// uplink). A reading recorded more than a day before the origin stored it,
// after the copy had passed it, is the one case the catch-up misses: the
// counts per unit and month then differ and the report says where.
const (
	catchUpMargin   = 10 * time.Minute
	catchUpLateness = 24 * time.Hour
)

func (w *orgWriter) run(ctx context.Context, c *copier) error {
	p := w.p
	// one import of an organisation at a time (a session lock, held to the end)
	lock, err := w.db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer lock.Release()
	var got bool
	if err := lock.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended('origin-import:' || $1, 0))`, p.orgID).Scan(&got); err != nil {
		return err
	}
	if !got {
		return errors.New("another import of this organisation is running")
	}
	defer func() {
		_, _ = lock.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended('origin-import:' || $1, 0))`, p.orgID)
	}()
	live := p.ours.orgLive
	// the organisation first (created hidden), with its import record
	err = w.db.InTx(ctx, func(tx pgx.Tx) error {
		ins, upd, err := upsertRows(ctx, tx, toOrganizations, p.out[toOrganizations.Table])
		if err != nil {
			return err
		}
		w.count(toOrganizations, ins, upd)
		if _, err := tx.Exec(ctx, `INSERT INTO origin_imports (organization_id, origin) VALUES ($1, $2)
			ON CONFLICT (organization_id) DO UPDATE SET last_run_at = now(), runs = origin_imports.runs + 1, origin = EXCLUDED.origin`,
			p.orgID, w.origin.Name); err != nil {
			return err
		}
		return markDone(ctx, tx, p.orgID, toOrganizations.Table, 1)
	})
	if err != nil {
		return fmt.Errorf("writing the organisation: %w", err)
	}
	for _, d := range []destination{toUsers, toMemberships, toSites, toAreas, toUnits, toSensors, toConnections, toContacts, toPolicies, toSubscriptions} {
		if err := w.db.InTx(ctx, func(tx pgx.Tx) error { return w.table(ctx, tx, d) }); err != nil {
			return err
		}
	}

	// the readings
	if err := c.loadPositions(ctx); err != nil {
		return err
	}
	if err := c.ensurePartitions(ctx, w.started); err != nil {
		return err
	}
	t0 := time.Now()
	before := c.copiedBefore()
	stats, err := c.run(ctx)
	if err != nil {
		return err
	}
	w.copiedNow = stats.Copied - before
	if err := w.db.InTx(ctx, func(tx pgx.Tx) error { return markDone(ctx, tx, p.orgID, "sensor_readings", stats.Copied) }); err != nil {
		return err
	}
	readingsReport(w.rep, stats, time.Since(t0).Seconds())
	slog.InfoContext(ctx, "origin import: readings copied", "organization", p.orgID, "rows", w.rep.Readings.Copied,
		"seconds", w.rep.Readings.Seconds, "rows_per_second", int64(w.rep.Readings.RowsPerSec))

	// the history that points at readings' time and units
	for _, d := range []destination{toManualLogs, toDoorEvents, toAlerts, toAlertEvents} {
		if err := w.db.InTx(ctx, func(tx pgx.Tx) error {
			if err := w.table(ctx, tx, d); err != nil {
				return err
			}
			if d.Table == toAlerts.Table {
				n, err := advanceAlerts(ctx, tx, p.orgID, p.out[d.Table])
				w.rep.table("alerts", d.Table).Updated += n
				return err
			}
			return nil
		}); err != nil {
			return err
		}
	}

	// what the origin received meanwhile, and the counts of both sides, in
	// one snapshot of the origin
	if err := w.catchUpAndCount(ctx, c); err != nil {
		return err
	}
	if err := w.countOurs(ctx); err != nil {
		return err
	}
	balanceAll(w.rep)
	if !live {
		if err := w.unitState(ctx); err != nil {
			return err
		}
	}
	return w.finish(ctx, live)
}

// table writes one destination's planned rows in tx, counting them into
// the report's lines.
func (w *orgWriter) table(ctx context.Context, tx pgx.Tx, d destination) error {
	ins, upd, err := writeTable(ctx, tx, w.p.orgID, d, w.p.out[d.Table])
	if err != nil {
		return err
	}
	w.count(d, ins, upd)
	return nil
}

// count attributes a table's inserted and updated rows to its main report
// line (the one with the most rows).
func (w *orgWriter) count(d destination, ins, upd int64) {
	var main *TableReport
	for line, to := range w.p.lineTo {
		if to == d.Table && (main == nil || len(w.p.lineIDs[line]) > len(w.p.lineIDs[main.Origin])) {
			main = w.rep.table(line, to)
		}
	}
	if main != nil {
		main.Inserted += ins
		main.Updated += upd
	}
}

// catchUpAndCount copies the readings the origin received since the
// previous run started (or this one, the first time) that the copy passed
// before they arrived, then counts both sides per unit and month, all in
// one snapshot of the origin so that the counts are of what was copied.
func (w *orgWriter) catchUpAndCount(ctx context.Context, c *copier) error {
	p := w.p
	since := w.started
	if p.ours.lastRunAt != nil {
		since = *p.ours.lastRunAt
	}
	since = since.Add(-catchUpMargin)
	units := p.unitIDs()
	return w.origin.snapshot(ctx, func(tx pgx.Tx) error {
		conn, err := w.db.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		receivedAt := "t.received_at"
		if !w.origin.HasColumn("sensor_readings", "received_at") {
			receivedAt = "t.recorded_at"
		}
		// rows from before the window feed the temperature rule's memory only
		sql := w.origin.readingsSQL(`t.unit_id = $1 AND t.recorded_at >= $2`, receivedAt+` >= $3`)
		stats := newStats()
		var caught int64
		for _, unit := range units {
			s, err := c.stream(unit, stats)
			if err != nil {
				return err
			}
			rows, err := tx.Query(ctx, sql, unit, since.Add(-catchUpLateness-SeriesWindow), since)
			if err != nil {
				return fmt.Errorf("catching up: %w", err)
			}
			var batch []readingRow
			var o originReading
			var fresh bool
			for rows.Next() {
				if err := rows.Scan(append(o.fields(), &fresh)...); err != nil {
					rows.Close()
					return fmt.Errorf("catching up: %w", err)
				}
				if !fresh || o.recorded.Before(since.Add(-catchUpLateness)) {
					s.warm(&o, c.sensors)
					continue
				}
				if r, keep := s.convert(&o, c.sensors); keep {
					batch = append(batch, r)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("catching up: %w", err)
			}
			if len(batch) > 0 {
				n, _, err := writeDeduplicated(ctx, conn.Conn(), c.source(batch), int64(len(batch)), missingOnly, nil)
				if err != nil {
					return fmt.Errorf("catching up: %w", err)
				}
				caught += n
			}
		}
		w.rep.Readings.CaughtUp = caught
		return w.countOrigin(ctx, tx, units, c)
	})
}

// missingOnly keeps the staged readings that match none of ours (the same
// unit, instant and sensor): the catch-up's guard, idempotent without a
// position.
const missingOnly = `WHERE NOT EXISTS (SELECT 1 FROM sensor_readings r
	WHERE r.organization_id = s.organization_id AND r.unit_id = s.unit_id AND r.recorded_at = s.recorded_at
		AND r.sensor_id IS NOT DISTINCT FROM s.sensor_id) ON CONFLICT DO NOTHING`

// monthCount is one unit's month on one side.
type monthCount struct{ origin, expected, ours int64 }

// countOrigin counts the origin's readings per unit and month: all rows,
// and the rows we keep (a sensor's repeated reading at one instant once).
func (w *orgWriter) countOrigin(ctx context.Context, tx pgx.Tx, units []string, c *copier) error {
	var sensors []string
	for id := range w.p.sensorOf {
		sensors = append(sensors, id)
	}
	rows, err := tx.Query(ctx, `SELECT unit_id::text, to_char(date_trunc('month', recorded_at AT TIME ZONE 'UTC'), 'YYYY-MM'), count(*),
			count(*) - count(*) FILTER (WHERE device_id = ANY($2::uuid[]))
				+ count(DISTINCT (device_id, recorded_at)) FILTER (WHERE device_id = ANY($2::uuid[]))
		FROM sensor_readings WHERE unit_id = ANY($1::uuid[]) GROUP BY 1, 2`, units, sensors)
	if err != nil {
		return fmt.Errorf("counting the origin's readings: %w", err)
	}
	w.months = map[[2]string]*monthCount{}
	var unit, month string
	var all, expected int64
	_, err = pgx.ForEachRow(rows, []any{&unit, &month, &all, &expected}, func() error {
		w.months[[2]string{unit, month}] = &monthCount{origin: all, expected: expected}
		return nil
	})
	if err != nil {
		return fmt.Errorf("counting the origin's readings: %w", err)
	}
	return nil
}

// countOurs counts our side: the readings per unit and month against the
// origin's, and each report line's rows.
func (w *orgWriter) countOurs(ctx context.Context) error {
	p := w.p
	rows, err := w.db.pool.Query(ctx, `SELECT unit_id::text, to_char(date_trunc('month', recorded_at AT TIME ZONE 'UTC'), 'YYYY-MM'), count(*)
		FROM sensor_readings WHERE organization_id = $1 AND unit_id = ANY($2::uuid[]) GROUP BY 1, 2`, p.orgID, p.unitIDs())
	if err != nil {
		return fmt.Errorf("counting our readings: %w", err)
	}
	var unit, month string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&unit, &month, &n}, func() error {
		k := [2]string{unit, month}
		if w.months[k] == nil {
			w.months[k] = &monthCount{}
		}
		w.months[k].ours = n
		return nil
	}); err != nil {
		return fmt.Errorf("counting our readings: %w", err)
	}
	t := w.rep.table("sensor_readings", "sensor_readings")
	var origin, expected, ours, live int64
	w.rep.Readings.Months = nil
	for _, k := range sortedMonthKeys(w.months) {
		m := w.months[k]
		origin, expected, ours = origin+m.origin, expected+m.expected, ours+m.ours
		switch {
		case m.ours == m.expected:
		case p.ours.orgLive && m.ours > m.expected:
			live += m.ours - m.expected
		default:
			w.rep.Readings.Months = append(w.rep.Readings.Months, MonthDiff{UnitID: k[0], Month: k[1], Origin: m.expected, Ours: m.ours})
		}
	}
	t.OriginRow, t.OursRows = origin, ours
	t.Inserted = w.copiedNow + w.rep.Readings.CaughtUp
	t.diff(expected-origin, "the same sensor's reading at the same instant, stored again by the origin: one kept")
	t.diff(live, "stored by FrostGuard since the organisation went live, not in the origin")
	for line, ids := range p.lineIDs {
		n, err := presentIDs(ctx, w.db, p.lineTo[line], p.orgID, ids)
		if err != nil {
			return err
		}
		lt := w.rep.table(line, p.lineTo[line])
		lt.OursRows = n
		if p.ours.orgLive && n < int64(len(ids)) {
			lt.diff(n-int64(len(ids)), "FrostGuard already holds the row another way (an alert it opened itself for the same unit and type, ...): FrostGuard's kept")
		}
	}
	return nil
}

func sortedMonthKeys(m map[[2]string]*monthCount) [][2]string {
	keys := make([][2]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	return keys
}

// unitState gives each unit of a first import the alert machine's state the
// imported history implies: its newest sensor reading, alarm_active while a
// temperature alert is open (an in-band reading then restores it and
// resolves the alert, as for any alarm), monitoring_interrupted while such
// an alert is open, its door's last transition and its last manual log.
func (w *orgWriter) unitState(ctx context.Context) error {
	type extra struct {
		Unit   string     `json:"unit"`
		Open   bool       `json:"open"`
		At     *time.Time `json:"at"`
		Manual *time.Time `json:"manual"`
	}
	var ex []extra
	for _, u := range w.p.unitInfo {
		ex = append(ex, extra{Unit: u.id, Open: u.doorOpen, At: u.doorAt, Manual: u.lastManual})
	}
	payload, err := json.Marshal(ex)
	if err != nil {
		return err
	}
	_, err = w.db.pool.Exec(ctx, `UPDATE units u SET last_reading_at = r.recorded_at, last_temp_c = r.temperature_c, last_reading_id = r.id,
			status = CASE WHEN a.temp THEN 'alarm_active' WHEN a.offline THEN 'monitoring_interrupted' ELSE 'ok' END,
			status_since = coalesce(a.since, u.created_at), in_band_count = 0,
			door_open = coalesce(d.open, false), door_changed_at = d.at, last_manual_log_at = d.manual, updated_at = now()
		FROM units x
			LEFT JOIN LATERAL (SELECT s.id, s.recorded_at, s.temperature_c FROM sensor_readings s
				WHERE s.organization_id = x.organization_id AND s.unit_id = x.id AND s.sensor_id IS NOT NULL
					AND s.recorded_at > '-infinity' AND s.recorded_at <= $2
				ORDER BY s.recorded_at DESC LIMIT 1) r ON true
			LEFT JOIN LATERAL (SELECT coalesce(bool_or(type = 'temp_excursion'), false) AS temp,
					coalesce(bool_or(type = 'monitoring_interrupted'), false) AS offline,
					max(triggered_at) FILTER (WHERE type IN ('temp_excursion', 'monitoring_interrupted')) AS since
				FROM alerts WHERE organization_id = x.organization_id AND unit_id = x.id AND status <> 'resolved' AND sensor_id IS NULL) a ON true
			LEFT JOIN jsonb_to_recordset($3::jsonb) AS d(unit uuid, open boolean, at timestamptz, manual timestamptz) ON d.unit = x.id
		WHERE u.id = x.id AND u.organization_id = x.organization_id AND x.organization_id = $1`,
		w.p.orgID, w.now().Add(time.Minute), payload)
	if err != nil {
		return fmt.Errorf("setting the units' state: %w", err)
	}
	return nil
}

// finish makes a first import live, in one transaction, only when every
// line of the report balances; a later run records its report. An
// organisation whose counts do not balance stays hidden (run again, or read
// the report).
func (w *orgWriter) finish(ctx context.Context, live bool) error {
	var unbalanced []string
	for _, t := range w.rep.Tables {
		if !t.Balanced {
			unbalanced = append(unbalanced, t.Origin)
		}
	}
	if len(w.rep.Readings.Months) > 0 {
		unbalanced = append(unbalanced, fmt.Sprintf("sensor_readings (%d unit months)", len(w.rep.Readings.Months)))
	}
	switch {
	case live:
		w.rep.Status = "updated"
	case len(unbalanced) > 0:
		w.rep.Status = "failed"
		w.rep.Error = "the counts do not balance (" + strings.Join(unbalanced, ", ") + "): the organisation stays hidden"
	default:
		w.rep.Status = "imported"
	}
	report, err := json.Marshal(w.rep)
	if err != nil {
		return err
	}
	return w.db.InTx(ctx, func(tx pgx.Tx) error {
		if w.rep.Status == "imported" {
			if _, err := tx.Exec(ctx, `UPDATE organizations SET import_state = NULL, updated_at = now() WHERE id = $1`, w.p.orgID); err != nil {
				return err
			}
			// FrostGuard's escalation takes over the alarms still open and
			// unacknowledged in the origin, from its policy's first step: an
			// ongoing excursion must not go silent when the origin's paging is
			// turned off (a stale one resolves at the unit's first in-band
			// readings)
			if _, err := tx.Exec(ctx, `UPDATE alerts SET next_escalation_at = now(), paging_started_at = now(), escalation_step = 0
				WHERE organization_id = $1 AND status = 'active' AND next_escalation_at IS NULL AND id = ANY($2::uuid[])`,
				w.p.orgID, w.p.lineIDs["alerts"]); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE origin_imports SET report = $2,
			activated_at = CASE WHEN $3 THEN now() ELSE activated_at END WHERE organization_id = $1`,
			w.p.orgID, report, w.rep.Status == "imported")
		return err
	})
}
