package ingest

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/web"
)

// BenchmarkUplinks measures uplinks per second through the whole webhook
// (HTTP over loopback, JSON, secret check, decode, alert engine, one
// PostgreSQL transaction of two round trips) at concurrency 1, 8 and 32.
// Each client sends for its own sensors, as a fleet does; no alert changes.
// Run by `make bench` with fsync on.
func BenchmarkUplinks(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	b.Cleanup(func() { slog.SetDefault(prev) })
	const sensors = 256
	f := newFixture(b)
	devs := make([]string, sensors)
	for i := range devs {
		devs[i] = fmt.Sprintf("70B3D57E%08X", i)
		var unitID string
		f.row(&unitID, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
			SELECT organization_id, site_id, area_id, $2, 0, 5 FROM units WHERE id = $1 RETURNING id`, f.unitID, fmt.Sprintf("Unit %d", i))
		f.exec(`INSERT INTO sensors (organization_id, unit_id, dev_eui, model) VALUES ($1, $2, $3, 'LHT65')`, f.orgID, unitID, devs[i])
	}
	srv := httptest.NewServer(web.Standard(f.handler, web.Options{Function: "ttn-webhook"}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var seq atomic.Int64
	base := time.Now().Add(-time.Hour)

	for _, conc := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("concurrency-%d", conc), func(b *testing.B) {
			perWorker := sensors / conc
			// Bodies are made before the clock starts: the client shares the
			// two cores with the server and PostgreSQL.
			bodies := make([]string, b.N)
			for i := range bodies {
				w := i % conc
				dev := devs[w*perWorker+(i/conc)%perWorker]
				n := seq.Add(1)
				bodies[i] = uplink{DevEUI: dev, At: base.Add(time.Duration(n) * time.Millisecond), FCnt: int(n), Decoded: temp(3)}.body()
			}
			lat := make([][]time.Duration, conc)
			var wg sync.WaitGroup
			var failed atomic.Int64
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < conc; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := w; i < b.N; i += conc {
						req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/ttn", strings.NewReader(bodies[i]))
						req.Header.Set("X-Webhook-Secret", secret)
						t0 := time.Now()
						res, err := client.Do(req)
						if err != nil || res.StatusCode != 200 {
							failed.Add(1)
						}
						if res != nil {
							res.Body.Close()
						}
						lat[w] = append(lat[w], time.Since(t0))
					}
				}(w)
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if failed.Load() > 0 {
				b.Fatalf("%d uplinks failed", failed.Load())
			}
			all := slices.Concat(lat...)
			slices.Sort(all)
			pct := func(p float64) float64 {
				return float64(all[max(int(math.Ceil(p*float64(len(all))))-1, 0)].Microseconds()) / 1000
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "uplinks/s")
			b.ReportMetric(pct(0.5), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}
