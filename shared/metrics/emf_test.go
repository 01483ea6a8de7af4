package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/logging"
	"github.com/frostguard/functions/shared/metrics"
)

// The rules of the EMF specification's JSON schema and text
// (CloudWatch_Embedded_Metric_Format_Specification, "Embedded metric format
// example and JSON schema"): _aws with an integer Timestamp and
// CloudWatchMetrics; each directive a 1..255-character Namespace, at least
// one dimension set of at most 9 (newer text: 30) non-empty keys, at most
// 100 metric definitions with a Name and an optional unit from CloudWatch's
// list; every referenced member a root member, dimensions strings, metrics
// numbers (or arrays of at most 100 numbers); nothing nested as a target.
var unitPattern = regexp.MustCompile(`^(Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes/Second|Kilobytes/Second|Megabytes/Second|Gigabytes/Second|Terabytes/Second|Bits/Second|Kilobits/Second|Megabits/Second|Gigabits/Second|Terabits/Second|Count/Second|None)$`)

func validateEMF(line []byte) error {
	if !json.Valid(line) || bytes.ContainsAny(line, "\n") {
		return fmt.Errorf("not one JSON object on one line: %s", line)
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return fmt.Errorf("root is not an object: %v", err)
	}
	var meta struct {
		Timestamp         *json.Number `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  *string    `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name *string `json:"Name"`
				Unit *string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	}
	dec := json.NewDecoder(bytes.NewReader(root["_aws"]))
	dec.UseNumber()
	if err := dec.Decode(&meta); err != nil {
		return fmt.Errorf("_aws: %v", err)
	}
	if meta.Timestamp == nil {
		return fmt.Errorf("_aws.Timestamp is required")
	}
	if _, err := meta.Timestamp.Int64(); err != nil {
		return fmt.Errorf("_aws.Timestamp must be an integer: %v", meta.Timestamp)
	}
	if meta.CloudWatchMetrics == nil {
		return fmt.Errorf("_aws.CloudWatchMetrics is required")
	}
	for _, d := range meta.CloudWatchMetrics {
		if d.Namespace == nil || len(*d.Namespace) < 1 || len(*d.Namespace) > 255 {
			return fmt.Errorf("Namespace must be 1..255 characters")
		}
		if len(d.Dimensions) < 1 {
			return fmt.Errorf("Dimensions needs at least one dimension set")
		}
		for _, set := range d.Dimensions {
			if len(set) > 9 {
				return fmt.Errorf("a dimension set has %d keys, over 9", len(set))
			}
			for _, key := range set {
				var v any
				if len(key) < 1 || len(key) > 255 {
					return fmt.Errorf("dimension key %q", key)
				}
				if err := json.Unmarshal(root[key], &v); err != nil {
					return fmt.Errorf("dimension %q is not a root member", key)
				}
				if s, ok := v.(string); !ok || s == "" {
					return fmt.Errorf("dimension %q must be a non-empty string, is %v", key, v)
				}
			}
		}
		if len(d.Metrics) > 100 {
			return fmt.Errorf("%d metric definitions, over 100", len(d.Metrics))
		}
		for _, m := range d.Metrics {
			if m.Name == nil || len(*m.Name) < 1 || len(*m.Name) > 255 {
				return fmt.Errorf("a metric definition needs a Name of 1..255 characters")
			}
			if m.Unit != nil && !unitPattern.MatchString(*m.Unit) {
				return fmt.Errorf("unit %q is not a CloudWatch unit", *m.Unit)
			}
			var v any
			if err := json.Unmarshal(root[*m.Name], &v); err != nil {
				return fmt.Errorf("metric %q is not a root member", *m.Name)
			}
			switch v := v.(type) {
			case float64:
			case []any:
				if len(v) > 100 {
					return fmt.Errorf("metric %q has %d values, over 100", *m.Name, len(v))
				}
			default:
				return fmt.Errorf("metric %q must be a number, is %v", *m.Name, v)
			}
		}
	}
	return nil
}

func lines(c *metrics.Captured) []string {
	return strings.Split(strings.TrimSpace(c.String()), "\n")
}

func TestLinesFollowTheEMFSpecification(t *testing.T) {
	buf := metrics.Capture(t)
	ctx := logging.WithLambdaRequestID(logging.WithRequestID(context.Background(), "req-1"), "lambda-1")
	metrics.Add(ctx, metrics.UplinksRejected, 1, "Network", "ttn", "Reason", "bad_secret")
	metrics.Add(ctx, metrics.UplinksStored, 3)
	metrics.Duration(ctx, metrics.DispatchLag, 1500*time.Millisecond, "Channel", "sms")
	metrics.Request(ctx, "ttn-webhook", 503)
	got := lines(buf)
	if len(got) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(got), buf)
	}
	for _, l := range got {
		if err := validateEMF([]byte(l)); err != nil {
			t.Errorf("%v\n%s", err, l)
		}
	}
	var first map[string]any
	_ = json.Unmarshal([]byte(got[0]), &first)
	aws := first["_aws"].(map[string]any)
	d := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if d["Namespace"] != "FrostGuard" || fmt.Sprint(d["Dimensions"]) != "[[Stage] [Stage Network Reason]]" {
		t.Errorf("directive %v", d)
	}
	if first["UplinksRejected"] != 1.0 || first["Stage"] != "test" || first["Reason"] != "bad_secret" ||
		first["function"] != "test" || first["request_id"] != "req-1" || first["lambda_request_id"] != "lambda-1" {
		t.Errorf("root %v", first)
	}
	var lag map[string]any
	_ = json.Unmarshal([]byte(got[2]), &lag)
	if lag["DispatchLag"] != 1500.0 || !strings.Contains(got[2], `"Unit":"Milliseconds"`) {
		t.Errorf("lag line %s", got[2])
	}
	var req map[string]any
	_ = json.Unmarshal([]byte(got[3]), &req)
	if req["Requests"] != 1.0 || req["ServerErrors"] != 1.0 || req["Function"] != "ttn-webhook" {
		t.Errorf("request line %s", got[3])
	}
}

// Whatever a caller passes, the line stays valid: empty values, reserved or
// repeated keys, odd dimension lists, too many dimensions.
func TestBadInputNeverBreaksALine(t *testing.T) {
	buf := metrics.Capture(t)
	ctx := context.Background()
	metrics.Add(ctx, metrics.Readings, 1, "Network", "")
	metrics.Add(ctx, metrics.Readings, 1, "_aws", "x", "Stage", "y", "Readings", "z", "dangling")
	many := []string{}
	for i := 0; i < 20; i++ {
		many = append(many, fmt.Sprintf("K%d", i), "v")
	}
	metrics.Add(ctx, metrics.Readings, 1, many...)
	metrics.Add(ctx, "", 1)
	for _, l := range lines(buf) {
		if err := validateEMF([]byte(l)); err != nil {
			t.Errorf("%v\n%s", err, l)
		}
	}
	if n := len(lines(buf)); n != 3 {
		t.Errorf("%d lines: a metric without a name must write nothing", n)
	}
}

func TestNothingIsWrittenBeforeSetup(t *testing.T) {
	metrics.Setup("x", "y", io.Discard)
	metrics.Add(context.Background(), metrics.Readings, 1) // no panic, no output anywhere
}

func FuzzEMFLine(f *testing.F) {
	f.Add("Readings", "Network", "ttn", 1)
	f.Add("A\"b", "K\n", "\xff", -3)
	f.Fuzz(func(t *testing.T, name, key, value string, n int) {
		var buf bytes.Buffer
		metrics.Setup("fn", "prod", &buf)
		metrics.Add(context.Background(), name, n, key, value)
		if buf.Len() == 0 {
			return
		}
		if err := validateEMF(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))); err != nil {
			t.Fatalf("%v\n%s", err, buf.String())
		}
	})
}
