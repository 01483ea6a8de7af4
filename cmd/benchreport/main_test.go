package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// sample is go test -bench output as make bench produces it: several
// packages, two or three runs of most benchmarks, a run that failed, b.Log
// lines, -v headers and the lines go test prints around results.
const sample = `?   	github.com/frostguard/functions/cmd/frostguard	[no test files]
goos: linux
goarch: amd64
pkg: github.com/frostguard/functions/shared/ingest
cpu: Intel(R) Xeon(R) Processor
BenchmarkUplinks
    bench_test.go:42: a log line: 12 ms/op
BenchmarkUplinks/concurrency-1-2         	     400	   1736062 ns/op	         1.498 p50-ms	         2.000 roundtrips/uplink	       576.0 uplinks/s
BenchmarkUplinks/concurrency-1-2         	     400	   1636062 ns/op	         1.398 p50-ms	         2.000 roundtrips/uplink	       600.0 uplinks/s	      1100 WAL-B/uplink	         1.000 rows/uplink	         0.01 idle-in-tx-ms/uplink	         2.5 p99-ms
BenchmarkUplinks/concurrency-1-2         	     400	   1536062 ns/op	         1.298 p50-ms	         2.000 roundtrips/uplink	       640.0 uplinks/s
BenchmarkUplinks/concurrency-64-2        	     400	   1591773 ns/op	        76.04 p50-ms	         2.000 roundtrips/uplink	       628.2 uplinks/s
BenchmarkUplinks/concurrency-64-2        	     400	   1591773 ns/op	        70.00 p50-ms	         2.000 roundtrips/uplink	       700.0 uplinks/s
PASS
ok  	github.com/frostguard/functions/shared/ingest	3.932s
pkg: github.com/frostguard/functions/e2e
BenchmarkColdStartEmulator/api-2                    	--- FAIL: BenchmarkColdStartEmulator/api-2
    bench_test.go:50: emulator answered 502:
BenchmarkColdStartEmulator/api-2                    	      14	  76749538 ns/op	        74.11 ms/first-invoke
--- FAIL: BenchmarkColdStartEmulator
FAIL
pkg: github.com/frostguard/functions/shared/store
BenchmarkInsertCeiling/concurrency-1-2         	    1000	    479292 ns/op	      2000 inserts/s	         0.3990 p50-ms
BenchmarkInsertCeiling/concurrency-1-2         	    1000	    479292 ns/op	      2400 inserts/s	         0.3990 p50-ms	      1500 WAL-B/insert
BenchmarkInsertCeiling/concurrency-64-2        	    1000	    282858 ns/op	      3500 inserts/s	        10.46 p50-ms
BenchmarkInsertCeiling/concurrency-64-2        	    1000	    282858 ns/op	      3500 inserts/s	        10.46 p50-ms
pkg: github.com/frostguard/functions/shared/api
BenchmarkDashboard200Units-2   	     638	   1661160 ns/op	  447378 B/op	    3403 allocs/op
BenchmarkDashboard200Units-2   	     685	   1672550 ns/op	  450325 B/op	    3402 allocs/op
pkg: github.com/frostguard/functions/shared/lorawan/ttn
BenchmarkDecode/elsys-2                      	 7251488	       213.9 ns/op	      48 B/op	       6 allocs/op
BenchmarkParse/join_accept.json-2            	  169555	      7220 ns/op	  94.88 MB/s	    1408 B/op	      24 allocs/op
ok  	github.com/frostguard/functions/shared/api	7.948s
`

func TestParse(t *testing.T) {
	p, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	bs, config := p.Benchmarks, p.Config
	if config["goos"] != "linux" || config["cpu"] != "Intel(R) Xeon(R) Processor" {
		t.Errorf("config = %v", config)
	}
	var names []string
	for _, b := range bs {
		names = append(names, b.Name)
	}
	want := "BenchmarkUplinks/concurrency-1 BenchmarkUplinks/concurrency-64 BenchmarkColdStartEmulator/api " +
		"BenchmarkInsertCeiling/concurrency-1 BenchmarkInsertCeiling/concurrency-64 BenchmarkDashboard200Units " +
		"BenchmarkDecode/elsys BenchmarkParse/join_accept.json"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("benchmarks\n got %s\nwant %s", got, want)
	}
	up := bs[0]
	if up.Package != "github.com/frostguard/functions/shared/ingest" || up.Procs != 2 || up.Runs != 3 || len(up.Metrics) != 8 {
		t.Fatalf("uplinks = %+v", up)
	}
	m, _ := metric(up, "uplinks/s")
	if m.Median != 600 || m.Min != 576 || m.Max != 640 || len(m.Values) != 3 {
		t.Errorf("uplinks/s = %+v", m)
	}
	if !near(m.Spread, 64.0/600) {
		t.Errorf("spread = %v", m.Spread)
	}
	// an even number of runs: the mean of the middle two
	if m, _ := metric(bs[1], "p50-ms"); !near(m.Median, 73.02) {
		t.Errorf("p50 of two runs = %v", m.Median)
	}
	if bs[5].Package != "github.com/frostguard/functions/shared/api" {
		t.Errorf("dashboard package = %q", bs[5].Package)
	}
	// a run that failed: the others still count, and the failure is listed
	if bs[2].Runs != 1 || bs[2].Package != "github.com/frostguard/functions/e2e" {
		t.Errorf("emulator = %+v", bs[2])
	}
	want = "e2e BenchmarkColdStartEmulator/api, e2e BenchmarkColdStartEmulator"
	var failed []string
	for _, f := range p.Failed {
		failed = append(failed, f.Package[strings.LastIndex(f.Package, "/")+1:]+" "+f.Name)
	}
	if got := strings.Join(failed, ", "); got != want {
		t.Errorf("failed = %s, want %s", got, want)
	}
}

func TestRatios(t *testing.T) {
	p, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	r := Ratios(p.Benchmarks)
	if len(r) != 2 || r[0].Concurrency != 1 || r[1].Concurrency != 64 {
		t.Fatalf("ratios = %+v", r)
	}
	if r[0].UplinksPerS != 600 || r[0].InsertsPerS != 2200 || !near(r[1].Ratio, 664.1/3500) {
		t.Errorf("ratios = %+v", r)
	}
	// the per-uplink work beside the per-insert work (one run reported it)
	if r[0].WALBytesPerUplink != 1100 || r[0].WALBytesPerInsert != 1500 || r[0].RowsPerUplink != 1 ||
		r[0].IdleInTxMsPerUplink != 0.01 || r[0].UplinkP99Ms != 2.5 || r[0].RoundTripsPerUplink != 2 {
		t.Errorf("per-uplink work = %+v", r[0])
	}
}

// With GOMAXPROCS=1 go test appends no suffix: a name's own trailing
// number must survive.
func TestParseWithoutProcsSuffix(t *testing.T) {
	in := "pkg: p\nBenchmarkUplinks/concurrency-1 \t 10\t 5 ns/op\t 700 uplinks/s\nBenchmarkParse \t 10\t 5 ns/op\n"
	p, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if bs := p.Benchmarks; len(bs) != 2 || bs[0].Name != "BenchmarkUplinks/concurrency-1" || bs[0].Procs != 1 {
		t.Fatalf("%+v", p.Benchmarks)
	}
}

func TestTable(t *testing.T) {
	p, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	WriteTable(&buf, Report{Machine: Machine{GOOS: "linux", GOARCH: "amd64", CPUs: 2}, Benchmarks: p.Benchmarks,
		Failed: p.Failed, IngestVsCeiling: Ratios(p.Benchmarks)})
	out := buf.String()
	for _, want := range []string{
		"Uplinks/concurrency-1", "uplinks/s", "noisy", // 11 % spread
		"Dashboard200Units", "ms/op", "1.67", // ns/op shown as ms when it is the only figure
		"Decode/elsys", "213.9", "ns/op", // ... and as it is when small
		"Parse/join_accept.json", "µs/op", "7.22", "MB/s",
		"uplinks/inserts", "0.27", // 600 / 2200
		"FAILED in at least one run: github.com/frostguard/functions/e2e BenchmarkColdStartEmulator/api",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"B/op", "allocs/op", "1736062"} { // uplinks' ns/op
		if strings.Contains(out, unwanted) {
			t.Errorf("table shows %s:\n%s", unwanted, out)
		}
	}
}
