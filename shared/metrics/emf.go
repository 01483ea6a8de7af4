// Package metrics writes CloudWatch Embedded Metric Format (EMF) lines: one
// JSON object per line on stdout, from which CloudWatch Logs extracts the
// metrics of every function (no API call, no credentials, nothing to flush).
// `make dev` prints the same lines in its log.
//
// No maintained Go EMF library could be had from the module proxy (the
// forks of prozz/aws-embedded-metrics-golang are refused there), so this is
// one small package, tested against the specification's JSON schema.
//
// Every metric is recorded under two dimension sets: [Stage] (what alarms
// and the dashboard's totals read) and [Stage, its own dimensions...] (the
// breakdown, e.g. by reason). Emission sites call one function on one line.
package metrics

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/logging"
)

// Namespace is the CloudWatch namespace of every FrostGuard metric.
const Namespace = "FrostGuard"

// Unit is a CloudWatch metric unit.
type Unit string

// The units FrostGuard's metrics use.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

var (
	mu       sync.Mutex
	out      io.Writer = io.Discard
	function           = "local"
	stage              = "local"
	now                = time.Now
)

// Setup directs the lines to w (stdout in the functions and `make dev`) and
// labels them with the function and stage. Until it is called (unit tests)
// nothing is written.
func Setup(fn, stg string, w io.Writer) {
	mu.Lock()
	defer mu.Unlock()
	out, function, stage = w, fn, stg
	if stage == "" {
		stage = "local"
	}
}

// SetupStdout is Setup on os.Stdout.
func SetupStdout(fn, stg string) { Setup(fn, stg, os.Stdout) }

// Add records n occurrences of a counted event. dims are key, value pairs.
func Add(ctx context.Context, name string, n int, dims ...string) {
	emit(ctx, []datum{{name, float64(n), Count}}, dims)
}

// Duration records how long something took, in milliseconds.
func Duration(ctx context.Context, name string, d time.Duration, dims ...string) {
	emit(ctx, []datum{{name, float64(d.Microseconds()) / 1000, Milliseconds}}, dims)
}

// Request records one HTTP answer of a function: Requests 1 and ServerErrors
// 1 or 0, on one line, so a 5xx rate is ServerErrors / Requests.
func Request(ctx context.Context, fn string, status int) {
	errs := 0.0
	if status >= 500 {
		errs = 1
	}
	emit(ctx, []datum{{Requests, 1, Count}, {ServerErrors, errs, Count}}, []string{"Function", fn})
}

type datum struct {
	name  string
	value float64
	unit  Unit
}

type metricDefinition struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

type directive struct {
	Namespace  string             `json:"Namespace"`
	Dimensions [][]string         `json:"Dimensions"`
	Metrics    []metricDefinition `json:"Metrics"`
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// maxDimensions is the specification's limit per dimension set.
const maxDimensions = 9

func emit(ctx context.Context, data []datum, dims []string) {
	mu.Lock()
	defer mu.Unlock()
	if out == io.Discard {
		return
	}
	root := map[string]any{"Stage": stage, "function": function}
	// Metrics first: a dimension key never shadows a metric.
	var defs []metricDefinition
	for _, m := range data {
		if !validName(m.name) || math.IsNaN(m.value) || math.IsInf(m.value, 0) {
			continue
		}
		if _, dup := root[m.name]; dup {
			continue
		}
		root[m.name] = m.value
		defs = append(defs, metricDefinition{Name: m.name, Unit: m.unit})
	}
	set := []string{"Stage"}
	for i := 0; i+1 < len(dims) && len(set) < maxDimensions; i += 2 {
		key, value := dims[i], strings.ToValidUTF8(dims[i+1], "?")
		if !validName(key) || value == "" || len(value) > 1024 {
			continue // the specification wants non-empty string targets
		}
		if _, dup := root[key]; dup {
			continue
		}
		root[key] = value
		set = append(set, key)
	}
	sets := [][]string{{"Stage"}}
	if len(set) > 1 {
		sets = append(sets, set)
	}
	d := directive{Namespace: Namespace, Dimensions: sets, Metrics: defs}
	if len(d.Metrics) == 0 {
		return
	}
	if id := logging.RequestID(ctx); id != "" {
		root["request_id"] = id
	}
	if id := logging.LambdaRequestID(ctx); id != "" {
		root["lambda_request_id"] = id
	}
	root["_aws"] = metadata{Timestamp: now().UnixMilli(), CloudWatchMetrics: []directive{d}}
	line, err := json.Marshal(root)
	if err != nil {
		return
	}
	_, _ = out.Write(append(line, '\n'))
}

// validName reports whether s may name a metric or a dimension: 1..255
// characters of valid UTF-8 without control characters (two invalid names
// would otherwise encode to the same member), and not a member the line
// itself uses.
func validName(s string) bool {
	if s == "" || len(s) > 255 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	switch s {
	case "_aws", "Stage", "function", "request_id", "lambda_request_id":
		return false
	}
	return true
}
