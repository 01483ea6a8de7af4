// Command benchreport turns `go test -bench` output (make bench's
// bench/latest.txt, several runs of each benchmark) into bench/results.json
// and a compact table: per benchmark and metric the median over the runs,
// min, max and spread, the machine, and TTN ingestion as a share of the raw
// insert ceiling measured in the same run.
//
//	go run ./cmd/benchreport -o bench/results.json [-meta key=value ...] bench/latest.txt
//
// It parses the benchmark format itself (golang.org/design/14313) instead
// of importing golang.org/x/perf/benchfmt: a few dozen lines, and the
// module's go.mod stays free of x/perf's requirement graph.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
)

// Report is bench/results.json.
type Report struct {
	Machine    Machine           `json:"machine"`
	Run        map[string]string `json:"run,omitempty"` // -meta: how make bench ran (counts, row counts)
	Benchmarks []Benchmark       `json:"benchmarks"`
	// Failed lists the benchmarks that reported FAIL in some run: their
	// figures (if any) come from the runs that passed.
	Failed []Failure `json:"failed,omitempty"`
	// IngestVsCeiling divides BenchmarkUplinks by BenchmarkInsertCeiling at
	// each concurrency: the share of the database's raw single-row insert
	// rate that a whole uplink achieves.
	IngestVsCeiling []Ratio `json:"ingest_vs_ceiling"`
}

// Machine is where the figures were measured.
type Machine struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	GoVersion  string `json:"go_version"`
	PostgreSQL string `json:"postgresql"`
	// fsync and synchronous_commit of the server measured: make bench runs
	// with both on, as production does.
	PGFsync             string `json:"pg_fsync"`
	PGSynchronousCommit string `json:"pg_synchronous_commit"`
	GitCommit           string `json:"git_commit"`
	GitDirty            bool   `json:"git_dirty"`
	Date                string `json:"date"`
}

// Benchmark is one benchmark (sub-benchmark) over all its runs.
type Benchmark struct {
	Package string   `json:"package"`
	Name    string   `json:"name"` // without the -GOMAXPROCS suffix
	Procs   int      `json:"procs"`
	Runs    int      `json:"runs"`
	Metrics []Metric `json:"metrics"`
}

// Metric is one unit of a benchmark across its runs.
type Metric struct {
	Unit   string  `json:"unit"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// Spread is (max - min) / median: how much the runs disagree.
	Spread float64   `json:"spread"`
	Values []float64 `json:"values"`
}

// Failure is a benchmark that failed in at least one run.
type Failure struct {
	Package string `json:"package"`
	Name    string `json:"name"`
}

// Ratio is ingestion against the insert ceiling at one concurrency, with
// the per-uplink work beside the per-insert work (medians; 0 when a run
// did not report the metric).
type Ratio struct {
	Concurrency int     `json:"concurrency"`
	UplinksPerS float64 `json:"uplinks_per_s"`
	InsertsPerS float64 `json:"inserts_per_s"`
	Ratio       float64 `json:"ratio"`

	UplinkP99Ms         float64 `json:"uplink_p99_ms,omitempty"`
	RoundTripsPerUplink float64 `json:"roundtrips_per_uplink,omitempty"`
	RowsPerUplink       float64 `json:"rows_per_uplink,omitempty"`
	WALBytesPerUplink   float64 `json:"wal_bytes_per_uplink,omitempty"`
	WALBytesPerInsert   float64 `json:"wal_bytes_per_insert,omitempty"`
	IdleInTxMsPerUplink float64 `json:"idle_in_tx_ms_per_uplink,omitempty"`
}

// noisy is the spread above which the table flags a figure: beyond it a
// difference between two reports is not evidence of a change.
const noisy = 0.10

func main() {
	out := flag.String("o", "bench/results.json", "where to write the JSON report")
	var meta metaFlag
	flag.Var(&meta, "meta", "key=value recorded under run (repeatable)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: benchreport [-o results.json] [-meta key=value] bench-output.txt...")
		os.Exit(2)
	}
	var inputs []io.Reader
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		inputs = append(inputs, f)
	}
	parsed, err := Parse(io.MultiReader(inputs...))
	if err != nil {
		fatal(err)
	}
	if len(parsed.Benchmarks) == 0 {
		fatal(errors.New("no benchmark results in the input"))
	}
	rep := Report{Machine: machine(parsed.Config), Run: meta.m, Benchmarks: parsed.Benchmarks, Failed: parsed.Failed,
		IngestVsCeiling: Ratios(parsed.Benchmarks)}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		fatal(err)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		fatal(err)
	}
	WriteTable(os.Stdout, rep)
	fmt.Printf("\nwrote %s\n", *out)
	if len(rep.Failed) > 0 {
		// go test does not always fail the package when a sub-benchmark
		// fails in one of several runs: this exit status is the signal.
		fmt.Fprintf(os.Stderr, "benchreport: %d benchmarks failed in at least one run\n", len(rep.Failed))
		os.Exit(exitFailed)
	}
}

// exitFailed: the report was written, but some benchmark failed.
const exitFailed = 3

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchreport:", err)
	os.Exit(1)
}

type metaFlag struct{ m map[string]string }

func (f *metaFlag) String() string { return fmt.Sprint(f.m) }
func (f *metaFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value", s)
	}
	if f.m == nil {
		f.m = map[string]string{}
	}
	f.m[k] = v
	return nil
}

// rawResult is one result line.
type rawResult struct {
	pkg, name string
	values    []float64
	units     []string
}

var procsSuffix = regexp.MustCompile(`-(\d+)$`)

// Parsed is what Parse found.
type Parsed struct {
	Benchmarks []Benchmark       // in the order they first appear
	Config     map[string]string // the last value of each configuration key
	Failed     []Failure
}

// Parse reads benchmark output: configuration lines ("key: value", of which
// pkg names the package of the results that follow), result lines
// ("BenchmarkName-P  iterations  value unit  value unit...") and failures
// ("--- FAIL: BenchmarkName-P", also at the end of a result line's name).
// Anything else (logs, PASS, ok lines) is skipped.
func Parse(r io.Reader) (Parsed, error) {
	config := map[string]string{}
	var raws, fails []rawResult
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if _, failed, ok := strings.Cut(line, "--- FAIL: "); ok {
			if f := strings.Fields(failed); len(f) > 0 {
				fails = append(fails, rawResult{pkg: config["pkg"], name: f[0]})
			}
			continue
		}
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue // b.Log output is indented
		}
		if res, ok := parseResult(line); ok {
			res.pkg = config["pkg"]
			raws = append(raws, res)
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok && k != "" && !strings.ContainsAny(k, " \t") && k == strings.ToLower(k) {
			config[k] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return Parsed{}, err
	}
	// go test appends -GOMAXPROCS to every name, except when GOMAXPROCS
	// is 1: strip a numeric suffix only if every name has one, or
	// "concurrency-1" would lose its 1 on a one-core machine.
	strip := len(raws) > 0
	for _, res := range raws {
		strip = strip && procsSuffix.MatchString(res.name)
	}
	var out []Benchmark
	index := map[string]int{}
	for _, res := range raws {
		name, procs := res.name, 1
		if strip {
			m := procsSuffix.FindStringSubmatchIndex(name)
			procs, _ = strconv.Atoi(name[m[2]:m[3]])
			name = name[:m[0]]
		}
		key := res.pkg + "\x00" + name
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, Benchmark{Package: res.pkg, Name: name, Procs: procs})
		}
		b := &out[i]
		b.Runs++
		for j, unit := range res.units {
			k := slices.IndexFunc(b.Metrics, func(m Metric) bool { return m.Unit == unit })
			if k < 0 {
				b.Metrics = append(b.Metrics, Metric{Unit: unit})
				k = len(b.Metrics) - 1
			}
			b.Metrics[k].Values = append(b.Metrics[k].Values, res.values[j])
		}
	}
	for i := range out {
		for j := range out[i].Metrics {
			summarise(&out[i].Metrics[j])
		}
	}
	p := Parsed{Benchmarks: out, Config: config}
	// The failing sub-benchmark is named as its results are (with the
	// GOMAXPROCS suffix); its parent, which fails with it, has none.
	suffix := ""
	if strip {
		suffix = fmt.Sprintf("-%d", out[0].Procs)
	}
	for _, f := range fails {
		fl := Failure{Package: f.pkg, Name: f.name}
		if suffix != "" {
			fl.Name = strings.TrimSuffix(f.name, suffix)
		}
		if !slices.Contains(p.Failed, fl) {
			p.Failed = append(p.Failed, fl)
		}
	}
	return p, nil
}

// parseResult reads "BenchmarkX-2  100  12.5 ns/op  3 p50-ms".
func parseResult(line string) (rawResult, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
		return rawResult{}, false
	}
	if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
		return rawResult{}, false
	}
	res := rawResult{name: f[0]}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return rawResult{}, false
		}
		res.values = append(res.values, v)
		res.units = append(res.units, f[i+1])
	}
	return res, true
}

func summarise(m *Metric) {
	v := slices.Sorted(slices.Values(m.Values))
	n := len(v)
	m.Min, m.Max = v[0], v[n-1]
	if n%2 == 1 {
		m.Median = v[n/2]
	} else {
		m.Median = (v[n/2-1] + v[n/2]) / 2
	}
	if m.Median != 0 {
		m.Spread = (m.Max - m.Min) / math.Abs(m.Median)
	}
}

// Ratios pairs BenchmarkUplinks/concurrency-N with
// BenchmarkInsertCeiling/concurrency-N, by N.
func Ratios(bs []Benchmark) []Ratio {
	find := func(prefix, unit string) map[int]float64 {
		out := map[int]float64{}
		for _, b := range bs {
			n, err := strconv.Atoi(strings.TrimPrefix(b.Name, prefix))
			if !strings.HasPrefix(b.Name, prefix) || err != nil {
				continue
			}
			if m, ok := metric(b, unit); ok {
				out[n] = m.Median
			}
		}
		return out
	}
	const uplinks, ceiling = "BenchmarkUplinks/concurrency-", "BenchmarkInsertCeiling/concurrency-"
	up := find(uplinks, "uplinks/s")
	ins := find(ceiling, "inserts/s")
	p99, trips, rows := find(uplinks, "p99-ms"), find(uplinks, "roundtrips/uplink"), find(uplinks, "rows/uplink")
	wal, walIns, idle := find(uplinks, "WAL-B/uplink"), find(ceiling, "WAL-B/insert"), find(uplinks, "idle-in-tx-ms/uplink")
	var out []Ratio
	for n, u := range up {
		if i, ok := ins[n]; ok && i > 0 {
			out = append(out, Ratio{Concurrency: n, UplinksPerS: u, InsertsPerS: i, Ratio: u / i,
				UplinkP99Ms: p99[n], RoundTripsPerUplink: trips[n], RowsPerUplink: rows[n],
				WALBytesPerUplink: wal[n], WALBytesPerInsert: walIns[n], IdleInTxMsPerUplink: idle[n]})
		}
	}
	slices.SortFunc(out, func(a, b Ratio) int { return a.Concurrency - b.Concurrency })
	return out
}

func metric(b Benchmark, unit string) (Metric, bool) {
	for _, m := range b.Metrics {
		if m.Unit == unit {
			return m, true
		}
	}
	return Metric{}, false
}

// shown are the metrics of the table: the benchmark's own ones. B/op and
// allocs/op stay in the JSON only; ns/op too when the benchmark reports
// what it measures itself (there ns/op counts set-up or client work), else
// it is shown scaled to ms, µs or ns.
func shown(b Benchmark) []Metric {
	var custom, std []Metric
	for _, m := range b.Metrics {
		switch m.Unit {
		case "B/op", "allocs/op":
		case "ns/op":
			std = append(std, scaled(m))
		case "MB/s":
			std = append(std, m)
		default:
			custom = append(custom, m)
		}
	}
	if len(custom) > 0 {
		return custom
	}
	return std
}

func scaled(m Metric) Metric {
	unit, div := "ns/op", 1.0
	if m.Median >= 1e6 {
		unit, div = "ms/op", 1e6
	} else if m.Median >= 1e3 {
		unit, div = "µs/op", 1e3
	}
	return Metric{Unit: unit, Median: m.Median / div, Min: m.Min / div, Max: m.Max / div, Spread: m.Spread}
}

// WriteTable prints the report compactly: one line per benchmark metric.
func WriteTable(w io.Writer, rep Report) {
	m := rep.Machine
	fmt.Fprintf(w, "%s/%s, %d CPUs (%s), %s, PostgreSQL %s (fsync %s, synchronous_commit %s), commit %.12s%s, %s\n",
		m.GOOS, m.GOARCH, m.CPUs, m.CPUModel, m.GoVersion, m.PostgreSQL, m.PGFsync, m.PGSynchronousCommit, m.GitCommit,
		map[bool]string{true: "-dirty"}[m.GitDirty], m.Date)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "package\tbenchmark\truns\tmetric\t   median\t      min\t      max\tspread\t")
	for _, b := range rep.Benchmarks {
		pkg := b.Package[strings.LastIndex(b.Package, "/")+1:]
		for i, mt := range shown(b) {
			name, p, runs := strings.TrimPrefix(b.Name, "Benchmark"), pkg, strconv.Itoa(b.Runs)
			if i > 0 {
				name, p, runs = "", "", ""
			}
			spread, mark := "-", ""
			if b.Runs > 1 {
				spread = fmt.Sprintf("%.0f%%", 100*mt.Spread)
				if mt.Spread > noisy {
					mark = "noisy"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%4s\t%s\t%9s\t%9s\t%9s\t%6s %s\t\n", p, name, runs, mt.Unit,
				num(mt.Median), num(mt.Min), num(mt.Max), spread, mark)
		}
	}
	tw.Flush()
	for _, f := range rep.Failed {
		fmt.Fprintf(w, "FAILED in at least one run: %s %s\n", f.Package, f.Name)
	}
	if len(rep.IngestVsCeiling) > 0 {
		fmt.Fprintln(w, "\ningestion vs the insert ceiling (medians, same run):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "concurrency\tuplinks/s\tinserts/s\tuplinks/inserts\tp99 ms\tround trips\trows\tWAL B/uplink\tWAL B/insert\tidle in tx ms\t")
		for _, r := range rep.IngestVsCeiling {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Concurrency, num(r.UplinksPerS), num(r.InsertsPerS), r.Ratio,
				num(r.UplinkP99Ms), num(r.RoundTripsPerUplink), num(r.RowsPerUplink), num(r.WALBytesPerUplink), num(r.WALBytesPerInsert),
				num(r.IdleInTxMsPerUplink))
		}
		tw.Flush()
	}
}

// num prints about four significant digits without exponents.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// machine describes this machine; config is the benchmark output's own
// header (goos, goarch, cpu), preferred where present.
func machine(config map[string]string) Machine {
	m := Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		CPUModel: cpuModel(), Date: time.Now().UTC().Format(time.RFC3339)}
	if v := config["goos"]; v != "" {
		m.GOOS = v
	}
	if v := config["goarch"]; v != "" {
		m.GOARCH = v
	}
	if m.CPUModel == "" {
		m.CPUModel = config["cpu"]
	}
	m.PostgreSQL, m.PGFsync, m.PGSynchronousCommit = postgres()
	if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		m.GitCommit = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil {
		m.GitDirty = len(strings.TrimSpace(string(out))) > 0
	}
	return m
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// postgres asks the server the benchmarks used (DATABASE_URL, as make bench
// exports it) for its version and durability settings.
func postgres() (version, fsync, syncCommit string) {
	version, fsync, syncCommit = "unknown", "unknown", "unknown"
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport: PostgreSQL version:", err)
		return
	}
	defer conn.Close(ctx)
	var v, fs, sc string
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		current_setting('synchronous_commit')`).Scan(&v, &fs, &sc); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport: PostgreSQL version:", err)
		return
	}
	return v, fs, sc
}
