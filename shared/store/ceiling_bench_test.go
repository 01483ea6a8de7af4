package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

// BenchmarkInsertCeiling is the physical limit the uplink figures are read
// against: single-row INSERTs, each its own transaction (one round trip and
// one WAL flush, fsync on under `make bench`), from 1, 8, 32 and 64 clients
// with one connection each, as BenchmarkUplinks (shared/ingest) runs.
//
// The target is the real sensor_readings of a migrated database, not a
// look-alike: monthly partitions, its primary key, the three indexes and the
// two foreign keys, and the very statement ingest sends (ON CONFLICT on the
// sensor/time key, the same columns, a raw uplink of the same size). So
// uplinks/s ÷ inserts/s is the share of the database's write capacity that
// ingest gets; everything else an uplink costs (HTTP, JSON, the first round
// trip, the unit and sensor updates) is the difference.
func BenchmarkInsertCeiling(b *testing.B) {
	db, dsn := testenv.OpenDB(b)
	ctx := context.Background()
	const sensors = 256
	var orgID string
	if err := testenv.Pool(db).QueryRow(ctx, `INSERT INTO organizations (name, slug) VALUES ('Ceiling', 'ceiling') RETURNING id`).Scan(&orgID); err != nil {
		b.Fatal(err)
	}
	for _, sql := range []string{
		`INSERT INTO sites (organization_id, name) VALUES ($1, 'Site')`,
		`INSERT INTO areas (organization_id, site_id, name) SELECT organization_id, id, 'Area' FROM sites WHERE organization_id = $1`,
		`INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
			SELECT organization_id, site_id, id, 'Unit ' || i, 0, 5 FROM areas, generate_series(1, 256) i WHERE organization_id = $1`,
		`INSERT INTO sensors (organization_id, unit_id, dev_eui, model)
			SELECT organization_id, id, upper(lpad(to_hex(row_number() OVER (ORDER BY id)), 16, '0')), 'LHT65' FROM units WHERE organization_id = $1`,
	} {
		if _, err := testenv.Pool(db).Exec(ctx, sql, orgID); err != nil {
			b.Fatalf("%v\n%s", err, sql)
		}
	}
	type target struct{ unit, sensor string }
	rows, err := testenv.Pool(db).Query(ctx, `SELECT unit_id, id FROM sensors WHERE organization_id = $1 ORDER BY dev_eui`, orgID)
	if err != nil {
		b.Fatal(err)
	}
	var targets []target
	for rows.Next() {
		var t target
		if err := rows.Scan(&t.unit, &t.sensor); err != nil {
			b.Fatal(err)
		}
		targets = append(targets, t)
	}
	if rows.Err() != nil || len(targets) != sensors {
		b.Fatalf("%d sensors (%v)", len(targets), rows.Err())
	}
	raw := ceilingRaw()
	testenv.Pool(db).Reset() // the setup's row counters flushed before any run
	var seq atomic.Int64
	base := time.Now().Add(-time.Hour)

	// BenchmarkUplinks' levels (shared/ingest benchConcurrency): the report
	// divides one by the other level by level.
	for _, conc := range []int{1, 8, 32, 64} {
		b.Run(fmt.Sprintf("concurrency-%d", conc), func(b *testing.B) {
			meter := testenv.StartWriteMeter(b, dsn)
			pool := testenv.WarmPool(b, dsn, conc, nil)
			perWorker := sensors / conc
			lat := make([][]time.Duration, conc)
			var wg sync.WaitGroup
			var failed atomic.Int64
			first := seq.Add(int64(b.N)) - int64(b.N)
			meter.Begin(b)
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < conc; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := w; i < b.N; i += conc {
						t := targets[w*perWorker+(i/conc)%perWorker]
						n := first + int64(i)
						at := base.Add(time.Duration(n) * time.Millisecond)
						t0 := time.Now()
						// The statement of store.UplinkTx.Commit, values as an
						// uplink of BenchmarkUplinks would bring them.
						_, err := pool.Exec(context.Background(), `INSERT INTO sensor_readings (organization_id, unit_id, sensor_id,
								recorded_at, temperature_c, humidity, battery_percent, battery_voltage, door_open, rssi, snr,
								gateway_count, spreading_factor, f_cnt, source, raw)
							VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'ttn', $15)
							ON CONFLICT (sensor_id, recorded_at) DO NOTHING`,
							orgID, t.unit, t.sensor, at, 3.0, 55.5, 100, 3.05, nil, -80, 6.0, 2, 7, n, raw)
						if err != nil {
							failed.Add(1)
						}
						lat[w] = append(lat[w], time.Since(t0))
					}
				}(w)
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			meter.Stop()
			if failed.Load() > 0 {
				b.Fatalf("%d inserts failed", failed.Load())
			}
			pool.Close()
			meter.Report(b, b.N, "insert") // what an uplink's figures compare with
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "inserts/s")
			testenv.ReportLatencies(b, slices.Concat(lat...), 0.50, 0.99)
		})
	}
}

// ceilingRaw is an uplink_message object like the one ingest stores in
// sensor_readings.raw (the shape of shared/ingest's test uplinks).
func ceilingRaw() json.RawMessage {
	at := time.Now().UTC().Format(time.RFC3339Nano)
	m := map[string]any{
		"f_port": 2, "f_cnt": 1234, "frm_payload": "AAA=",
		"decoded_payload": map[string]any{"TempC_SHT": 3.0, "Hum_SHT": 55.5, "BatV": 3.05},
		"rx_metadata": []any{
			map[string]any{"gateway_ids": map[string]any{"gateway_id": "gw-1"}, "rssi": -97, "snr": 8.5},
			map[string]any{"gateway_ids": map[string]any{"gateway_id": "gw-2"}, "rssi": -80, "snr": 6.0},
		},
		"settings":    map[string]any{"data_rate": map[string]any{"lora": map[string]any{"bandwidth": 125000, "spreading_factor": 7}}},
		"received_at": at,
	}
	b, _ := json.Marshal(m)
	return b
}
