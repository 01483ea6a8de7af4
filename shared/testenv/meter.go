package testenv

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// WriteMeter measures what a benchmark run costs the database, per unit of
// work, from PostgreSQL's own counters (issue 18): the WAL it generated
// (pg_current_wal_lsn before and after: the whole server, so nothing else
// may write meanwhile), the rows it inserted, updated and deleted in the
// benchmark's database (pg_stat_database, complete once the run's backends
// have exited and flushed their counters), and the connections idle in a
// transaction, sampled from pg_stat_activity every few milliseconds while
// it runs (a transaction held open while the client thinks).
//
// Start it before the run's pool exists (it remembers how many backends
// were there before), Stop it when the run ends, then close the pool and
// Report.
type WriteMeter struct {
	conn      *pgx.Conn
	lsn       string
	tables    map[string]int64 // rows written by table at Begin
	baseline  int              // client backends of the database before the run
	rows      int64
	started   time.Time
	elapsed   time.Duration
	stop      chan struct{}
	done      sync.WaitGroup
	samples   int
	idleInTx  int
	active    int // backends running a statement (not idle, not idle in transaction)
	sampleErr error
}

// StartWriteMeter opens its own connection to dsn. Close the setup's
// connections first (pgxpool Reset): a backend's row counters reach
// pg_stat_database when it exits, and the setup's must not land in a run.
// It waits for them to go.
func StartWriteMeter(b *testing.B, dsn string) *WriteMeter {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	m := &WriteMeter{conn: conn, stop: make(chan struct{})}
	if m.baseline, err = m.waitForBackends(ctx, 0, 2*time.Second); err != nil {
		b.Fatal(err)
	}
	return m
}

// waitForBackends waits up to d for the database's other client backends
// to be at most n, and returns how many there are.
func (m *WriteMeter) waitForBackends(ctx context.Context, n int, d time.Duration) (int, error) {
	deadline := time.Now().Add(d)
	for {
		var left int
		if err := m.conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`).Scan(&left); err != nil {
			return 0, err
		}
		if left <= n || time.Now().After(deadline) {
			return left, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Begin marks the start of the measured run: the WAL position and row
// counters, then samples pg_stat_activity until Stop.
func (m *WriteMeter) Begin(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	if err := m.conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&m.lsn); err != nil {
		b.Fatal(err)
	}
	var err error
	if m.rows, err = m.rowsWritten(ctx); err != nil {
		b.Fatal(err)
	}
	if m.tables, err = m.rowsByTable(ctx); err != nil {
		b.Fatal(err)
	}
	m.started = time.Now()
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
			var idle, active int
			err := m.conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state LIKE 'idle in transaction%'),
					count(*) FILTER (WHERE state = 'active')
				FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`).
				Scan(&idle, &active)
			if err != nil {
				m.sampleErr = err
				return
			}
			m.samples++
			m.idleInTx += idle
			m.active += active
		}
	}()
}

// Stop ends the sampling (the run is over; its pool may still be open).
func (m *WriteMeter) Stop() {
	m.elapsed = time.Since(m.started)
	close(m.stop)
	m.done.Wait()
}

// Report waits for the run's backends to exit (close its pool first) and
// reports, per unit of work (n units over the run, named by unit, e.g.
// "uplink"): WAL bytes, rows written, and the time connections spent idle
// in a transaction (ms per unit: the mean count sampled × the run's
// duration ÷ n); also the mean number of connections idle in a transaction
// and running a statement.
func (m *WriteMeter) Report(b *testing.B, n int, unit string) {
	b.Helper()
	ctx := context.Background()
	if m.sampleErr != nil {
		b.Fatalf("sampling pg_stat_activity: %v", m.sampleErr)
	}
	// Backends flush their table counters when they exit.
	if left, err := m.waitForBackends(ctx, m.baseline, 10*time.Second); err != nil {
		b.Fatal(err)
	} else if left > m.baseline {
		b.Fatalf("%d backends still connected after the run (was %d): close the run's pool before Report", left, m.baseline)
	}
	var wal float64
	if err := m.conn.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8`, m.lsn).Scan(&wal); err != nil {
		b.Fatal(err)
	}
	rows, err := m.rowsWritten(ctx)
	if err != nil {
		b.Fatal(err)
	}
	tables, err := m.rowsByTable(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var by []string
	for t, v := range tables {
		if d := v - m.tables[t]; d != 0 {
			by = append(by, fmt.Sprintf("%s %.2f", t, float64(d)/float64(n)))
		}
	}
	slices.Sort(by)
	b.Logf("rows written per %s, by table (inserted + updated + deleted): %s", unit, strings.Join(by, ", "))
	b.ReportMetric(wal/float64(n), "WAL-B/"+unit)
	b.ReportMetric(float64(rows-m.rows)/float64(n), "rows/"+unit)
	if m.samples > 0 {
		idle := float64(m.idleInTx) / float64(m.samples)
		b.ReportMetric(idle, "idle-in-tx-conns")
		b.ReportMetric(float64(m.active)/float64(m.samples), "active-conns")
		b.ReportMetric(idle*float64(m.elapsed.Microseconds())/1000/float64(n), "idle-in-tx-ms/"+unit)
	}
}

// rowsByTable is rowsWritten by table (partitions folded into their parent).
func (m *WriteMeter) rowsByTable(ctx context.Context) (map[string]int64, error) {
	rows, err := m.conn.Query(ctx, `SELECT coalesce(pi.inhparent::regclass::text, s.relname), sum(n_tup_ins + n_tup_upd + n_tup_del)::bigint
		FROM pg_stat_user_tables s LEFT JOIN pg_inherits pi ON pi.inhrelid = s.relid GROUP BY 1`)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for rows.Next() {
		var t string
		var v int64
		if err := rows.Scan(&t, &v); err != nil {
			return nil, err
		}
		out[t] = v
	}
	return out, rows.Err()
}

// rowsWritten is the database's rows inserted, updated and deleted so far
// (counters flushed by backends; a fresh snapshot each time).
func (m *WriteMeter) rowsWritten(ctx context.Context) (int64, error) {
	if _, err := m.conn.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		return 0, err
	}
	var n int64
	err := m.conn.QueryRow(ctx, `SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	return n, err
}
