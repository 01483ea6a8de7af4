package originimport

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"golang.org/x/sync/errgroup"
)

// The readings are copied in bulk, unit by unit: each unit's readings are
// read from the origin in (recorded_at, id) order, converted (mapping.go,
// the temperature rule of temperature.go) and written with COPY, through our
// partitioned table (its partitions made first, so no month lands in the
// default one), in batches. Each batch is one transaction with the unit's
// checkpoint (where it ended and the running counts): a killed import
// resumes after the last committed batch of each unit, never copying a row
// twice, and judges the readings after it as an uninterrupted run would (the
// last SeriesWindow before the checkpoint is read again to warm the
// temperature rule's memory). Workers copy several units at once; in each,
// reading the origin and writing ours overlap.

// DefaultBatchRows is the number of readings per COPY transaction.
const DefaultBatchRows = 20000

// DefaultWorkers is how many units are copied at once: two keep both cores
// of the reference machine busy (docs/PERFORMANCE.md).
const DefaultWorkers = 2

// verdict is one outcome of the temperature rule.
type verdict struct {
	Scale    Scale
	Evidence Evidence
}

func (v verdict) String() string {
	if v.Evidence == ByNothing {
		return string(v.Scale)
	}
	return string(v.Scale) + " by " + string(v.Evidence)
}

// copyStats are a unit's running counts, kept in its checkpoint.
type copyStats struct {
	Copied     int64             `json:"copied"`
	Duplicates int64             `json:"duplicates"` // a sensor's repeated reading at one instant
	Foreign    int64             `json:"foreign"`    // from a device that is not a sensor of the organisation
	Outside    int64             `json:"outside"`    // outside every partition we keep
	Retired    int64             `json:"retired"`    // older than the plan keeps raw readings
	Scales     map[verdict]int64 `json:"-"`
	ScaleNames map[string]int64  `json:"scales"`
}

func newStats() *copyStats {
	return &copyStats{Scales: map[verdict]int64{}, ScaleNames: map[string]int64{}}
}

// names are the verdict counts by name, the earlier runs' included.
func (s *copyStats) names() map[string]int64 {
	out := map[string]int64{}
	for k, v := range s.ScaleNames {
		out[k] += v
	}
	for k, v := range s.Scales {
		out[k.String()] += v
	}
	return out
}

// snapshot is a copy the writer can keep while the reader counts on.
func (s *copyStats) snapshot() *copyStats {
	c := *s
	c.Scales, c.ScaleNames = nil, s.names()
	return &c
}

// add sums o into s (the organisation's totals).
func (s *copyStats) add(o *copyStats) {
	s.Copied += o.Copied
	s.Duplicates += o.Duplicates
	s.Foreign += o.Foreign
	s.Outside += o.Outside
	s.Retired += o.Retired
	for k, v := range o.names() {
		s.ScaleNames[k] += v
	}
}

// position is where a unit's copy stands: its last reading copied.
type position struct {
	At    time.Time  `json:"recorded_at"`
	ID    string     `json:"id"`
	Done  bool       `json:"done"`
	Stats *copyStats `json:"stats"`
}

// after reports whether the origin reading (at, id) comes after the position.
func (p position) after(at time.Time, id pgtype.UUID) bool {
	if p.ID == "" || at.After(p.At) {
		return true
	}
	if at.Before(p.At) {
		return false
	}
	var last pgtype.UUID
	_ = last.Scan(p.ID)
	return bytes.Compare(id.Bytes[:], last.Bytes[:]) > 0 // PostgreSQL orders uuids as bytes
}

// batch is what a unit's reader hands its writer.
type batch struct {
	rows []readingRow
	end  position
}

// copier copies one organisation's readings.
type copier struct {
	db      database
	origin  *Origin
	p       *planner
	org     pgtype.UUID
	sensors map[[16]byte]bool
	window  [2]time.Time
	// retention is the first month the organisation's plan keeps raw
	// readings (retention.Cutoff)
	retention time.Time
	dry       bool
	// batchRows per COPY transaction, workers copying at once (0: defaults)
	batchRows, workers int
	// where earlier runs stopped, by unit
	from map[string]position
}

func newCopier(db database, o *Origin, p *planner, dry bool, now time.Time) (*copier, error) {
	c := &copier{db: db, origin: o, p: p, dry: dry, sensors: map[[16]byte]bool{}, window: partitionWindow(now), from: map[string]position{}}
	if err := c.org.Scan(p.orgID); err != nil {
		return nil, err
	}
	for id := range p.sensorOf {
		var u pgtype.UUID
		if err := u.Scan(id); err != nil {
			return nil, err
		}
		c.sensors[u.Bytes] = true
	}
	return c, nil
}

// partitionWindow is [first, end) of the months ensure_sensor_readings_partitions
// can make from now (120 months either way).
func partitionWindow(now time.Time) [2]time.Time {
	m := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return [2]time.Time{m.AddDate(0, -120, 0), m.AddDate(0, 121, 0)}
}

// readingsCheckpoint is a unit's checkpoint row.
func readingsCheckpoint(unit string) string { return "sensor_readings:" + unit }

// loadPositions reads the checkpoints of earlier runs.
func (c *copier) loadPositions(ctx context.Context) error {
	rows, err := c.db.pool.Query(ctx, `SELECT table_name, position FROM origin_import_checkpoints
		WHERE organization_id = $1 AND table_name LIKE 'sensor\_readings:%' AND position IS NOT NULL`, c.p.orgID)
	if err != nil {
		return fmt.Errorf("reading the readings' checkpoints: %w", err)
	}
	var name string
	var raw []byte
	_, err = pgx.ForEachRow(rows, []any{&name, &raw}, func() error {
		var pos position
		if err := json.Unmarshal(raw, &pos); err != nil {
			return err
		}
		if pos.Stats == nil {
			pos.Stats = newStats()
		}
		pos.Stats.Scales = map[verdict]int64{}
		if pos.Stats.ScaleNames == nil {
			pos.Stats.ScaleNames = map[string]int64{}
		}
		c.from[strings.TrimPrefix(name, "sensor_readings:")] = pos
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the readings' checkpoints: %w", err)
	}
	return nil
}

// copiedBefore is what earlier runs copied.
func (c *copier) copiedBefore() int64 {
	var n int64
	for _, pos := range c.from {
		n += pos.Stats.Copied
	}
	return n
}

// ensurePartitions makes the monthly partitions the organisation's readings
// need, from its oldest month (at most ten years back) to its newest (at
// least three months ahead).
func (c *copier) ensurePartitions(ctx context.Context, now time.Time) error {
	var oldest, newest *time.Time
	for _, u := range c.p.unitIDs() {
		var lo, hi *time.Time
		if err := c.origin.conn.QueryRow(ctx, `SELECT min(recorded_at), max(recorded_at) FROM sensor_readings WHERE unit_id = $1`, u).Scan(&lo, &hi); err != nil {
			return fmt.Errorf("reading the origin's reading range: %w", err)
		}
		if lo != nil && (oldest == nil || lo.Before(*oldest)) {
			oldest = lo
		}
		if hi != nil && (newest == nil || hi.After(*newest)) {
			newest = hi
		}
	}
	back, ahead := 0, 3
	if oldest != nil {
		back = clamp(monthsBetween(*oldest, now), 0, 120)
	}
	if newest != nil {
		ahead = clamp(monthsBetween(now, *newest), 3, 120)
	}
	if _, err := c.db.EnsureReadingPartitions(ctx, back, ahead); err != nil {
		return fmt.Errorf("making the readings' partitions: %w", err)
	}
	return nil
}

func monthsBetween(a, b time.Time) int {
	a, b = a.UTC(), b.UTC()
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

// run copies (or, dry, only reads and judges) every unit's readings after
// its checkpoint, and returns the organisation's counts (earlier runs
// included).
func (c *copier) run(ctx context.Context) (*copyStats, error) {
	units := make(chan string)
	total := newStats()
	var mu sync.Mutex
	workers := c.workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(units)
		for _, u := range c.p.unitIDs() {
			if pos, ok := c.from[u]; ok && pos.Done {
				mu.Lock()
				total.add(pos.Stats)
				mu.Unlock()
				continue
			}
			select {
			case units <- u:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			oconn, err := c.origin.connect(gctx)
			if err != nil {
				return err
			}
			defer oconn.Close(context.WithoutCancel(gctx))
			var wconn *pgx.Conn
			if !c.dry {
				conn, err := c.db.pool.Acquire(gctx)
				if err != nil {
					return err
				}
				defer conn.Release()
				wconn = conn.Conn()
			}
			for u := range units {
				s, err := c.copyUnit(gctx, oconn, wconn, u)
				if err != nil {
					return err
				}
				mu.Lock()
				total.add(s)
				mu.Unlock()
			}
			return nil
		})
	}
	err := g.Wait()
	return total, err
}

// copyUnit copies one unit from its checkpoint: a reader goroutine feeds
// batches to the writer (this goroutine).
func (c *copier) copyUnit(ctx context.Context, oconn, wconn *pgx.Conn, unit string) (*copyStats, error) {
	from, ok := c.from[unit]
	if !ok {
		from = position{Stats: newStats()}
	}
	batches := make(chan batch, 2)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(batches)
		return c.read(gctx, oconn, unit, from, batches)
	})
	var last *copyStats
	g.Go(func() error {
		w := &unitWriter{c: c, conn: wconn, unit: unit, copied: from.Stats.Copied}
		for b := range batches {
			if c.dry {
				w.copied += int64(len(b.rows)) // what would be copied
				b.end.Stats.Copied = w.copied
			} else if err := w.write(gctx, b); err != nil {
				return err
			}
			last = b.end.Stats
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return last, nil
}

// read streams one unit's origin readings after from. The SeriesWindow
// before it is read again only to warm the temperature rule (and the
// dedupe of the checkpoint's own instant).
func (c *copier) read(ctx context.Context, conn *pgx.Conn, unit string, from position, out chan<- batch) error {
	stats := from.Stats
	s, err := c.stream(unit, stats)
	if err != nil {
		return err
	}
	size := c.batchRows
	if size <= 0 {
		size = DefaultBatchRows
	}
	cur := batch{rows: make([]readingRow, 0, size), end: from}
	send := func() error {
		cur.end.Stats = stats.snapshot()
		select {
		case out <- cur:
		case <-ctx.Done():
			return ctx.Err()
		}
		cur = batch{rows: make([]readingRow, 0, size), end: cur.end}
		return nil
	}
	start := pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	if from.ID != "" {
		start = pgtype.Timestamptz{Time: from.At.Add(-SeriesWindow), Valid: true}
	}
	rows, err := conn.Query(ctx, c.origin.readingsSQL(`t.unit_id = $1 AND t.recorded_at >= $2`), unit, start)
	if err != nil {
		return fmt.Errorf("reading the origin's readings: %w", err)
	}
	defer rows.Close()
	var o originReading
	for rows.Next() {
		if err := rows.Scan(o.fields()...); err != nil {
			return fmt.Errorf("reading the origin's readings: %w", err)
		}
		if !from.after(o.recorded, o.id) {
			s.warm(&o, c.sensors) // copied by an earlier run
			continue
		}
		cur.end.At, cur.end.ID = o.recorded, uuidString(o.id)
		r, keep := s.convert(&o, c.sensors)
		if !keep {
			continue
		}
		cur.rows = append(cur.rows, r)
		if len(cur.rows) == size {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the origin's readings: %w", err)
	}
	cur.end.Done = true
	return send()
}

// readingsSQL selects origin readings (originReadingColumns, a column the
// origin lacks as NULL) matching where, in copy order.
func (o *Origin) readingsSQL(where string, extra ...string) string {
	cols := make([]string, len(originReadingColumns))
	for i, col := range originReadingColumns {
		name, _, _ := strings.Cut(col, "::")
		cols[i] = "NULL"
		if o.HasColumn("sensor_readings", name) {
			cols[i] = "t." + col
		}
	}
	return `SELECT ` + strings.Join(append(cols, extra...), ", ") + ` FROM sensor_readings t WHERE ` + where + ` ORDER BY t.recorded_at, t.id`
}

// stream starts the conversion of one unit's readings.
func (c *copier) stream(unit string, stats *copyStats) (*unitStream, error) {
	if stats.Scales == nil {
		stats.Scales = map[verdict]int64{}
	}
	s := &unitStream{norm: NewNormaliser(c.p.unitInfo[unit].typ), seen: map[[16]byte]bool{}, series: map[seriesKey]string{}, stats: stats, window: c.window, retention: c.retention}
	return s, s.unit.Scan(unit)
}

// testAfterCopy, when set (by the resume test's child process only), runs
// inside each batch's transaction between its COPY and its commit: a kill
// then lands in the middle of a copy.
var testAfterCopy func()

// unitWriter writes one unit's batches, counting what it copied (the
// counts of earlier runs included).
type unitWriter struct {
	c      *copier
	conn   *pgx.Conn
	unit   string
	copied int64
	dups   int64 // found by our unique index (the reader's are in the batch's counts)
}

// write copies one batch with the unit's checkpoint in one transaction. A
// batch that meets a reading we already hold (the same sensor at the same
// instant: a device moved between units) is copied again through a staging
// table that keeps only the new rows.
func (w *unitWriter) write(ctx context.Context, b batch) error {
	var copied, dups int64
	err := pgx.BeginFunc(ctx, w.conn, func(tx pgx.Tx) error {
		// a lost commit only costs this batch again: the checkpoint is in it
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"sensor_readings"}, readingColumns, w.c.source(b.rows))
		if err != nil {
			return err
		}
		if testAfterCopy != nil {
			testAfterCopy()
		}
		copied = n
		return w.checkpoint(ctx, tx, b.end, copied, 0)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		copied, dups, err = writeDeduplicated(ctx, w.conn, w.c.source(b.rows), int64(len(b.rows)), "ON CONFLICT DO NOTHING",
			func(tx pgx.Tx, copied, dups int64) error { return w.checkpoint(ctx, tx, b.end, copied, dups) })
	}
	if err != nil {
		return fmt.Errorf("copying readings: %w", err)
	}
	w.copied += copied
	w.dups += dups
	b.end.Stats.Copied, b.end.Stats.Duplicates = w.copied, b.end.Stats.Duplicates+w.dups
	return nil
}

// checkpoint records where the unit's copy stands, in the batch's
// transaction (the running totals move once it commits).
func (w *unitWriter) checkpoint(ctx context.Context, tx pgx.Tx, end position, copied, dups int64) error {
	stats := *end.Stats
	stats.Copied = w.copied + copied
	stats.Duplicates += w.dups + dups
	end.Stats = &stats
	pos, err := json.Marshal(end)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO origin_import_checkpoints (organization_id, table_name, done, position, rows, updated_at)
		VALUES ($1, $2, $3, $4, $5, now())
		ON CONFLICT (organization_id, table_name) DO UPDATE SET done = EXCLUDED.done, position = EXCLUDED.position,
			rows = EXCLUDED.rows, updated_at = now()`, w.c.p.orgID, readingsCheckpoint(w.unit), end.Done, pos, stats.Copied)
	return err
}

// writeDeduplicated copies n rows through a staging table and inserts those
// the guard (the INSERT's tail, over the staged row s) lets through; then
// runs after in the same transaction.
func writeDeduplicated(ctx context.Context, conn *pgx.Conn, src pgx.CopyFromSource, n int64, guard string,
	after func(tx pgx.Tx, copied, dups int64) error) (copied, dups int64, err error) {
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS import_readings ON COMMIT DELETE ROWS AS
			SELECT `+strings.Join(readingColumns, ", ")+` FROM sensor_readings WITH NO DATA`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_readings"}, readingColumns, src); err != nil {
			return err
		}
		cols := strings.Join(readingColumns, ", ")
		tag, err := tx.Exec(ctx, `INSERT INTO sensor_readings (`+cols+`) SELECT `+cols+` FROM import_readings s `+guard)
		if err != nil {
			return err
		}
		copied, dups = tag.RowsAffected(), n-tag.RowsAffected()
		if after != nil {
			return after(tx, copied, dups)
		}
		return nil
	})
	return copied, dups, err
}

// source feeds rows to COPY, reusing one value slice.
func (c *copier) source(rows []readingRow) pgx.CopyFromSource {
	vals := make([]any, len(readingColumns))
	return pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		r := &rows[i]
		vals[0], vals[1], vals[2], vals[3], vals[4] = c.org, r.unit, r.sensor, r.recorded, r.received
		vals[5], vals[6], vals[7], vals[8], vals[9] = r.temp, r.humidity, r.battery, r.rssi, r.source
		if r.raw != nil {
			vals[10] = r.raw
		} else {
			vals[10] = nil
		}
		return vals, nil
	})
}

func uuidString(u pgtype.UUID) string {
	if !u.Valid {
		return ""
	}
	h := hex.EncodeToString(u.Bytes[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
