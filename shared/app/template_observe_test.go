package app_test

// The alarms, their topic and the dashboard in template.yaml, checked
// against the catalog of functions and shared/metrics' metric names: an
// alarm on a metric nobody emits never fires, and a function without an
// errors alarm fails silently.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/offboard"
)

type tplAlarm struct {
	id    string
	props map[string]any
}

func tplAlarms(p tplParsed) []tplAlarm {
	var out []tplAlarm
	for id, r := range p.raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == "AWS::CloudWatch::Alarm" {
			out = append(out, tplAlarm{id, p.rawProperties(id)})
		}
	}
	slices.SortFunc(out, func(a, b tplAlarm) int { return strings.Compare(a.id, b.id) })
	return out
}

// tplAlarmMetrics lists (namespace, metric, dimensions) of an alarm, plain or
// metric math.
func tplAlarmMetrics(props map[string]any) [][3]any {
	if name, ok := props["MetricName"].(string); ok {
		return [][3]any{{props["Namespace"], name, props["Dimensions"]}}
	}
	var out [][3]any
	list, _ := props["Metrics"].([]any)
	for _, q := range list {
		stat, _ := q.(map[string]any)["MetricStat"].(map[string]any)
		if stat == nil {
			continue
		}
		m := stat["Metric"].(map[string]any)
		out = append(out, [3]any{m["Namespace"], m["MetricName"], m["Dimensions"]})
	}
	return out
}

func tplDimension(dims any, name string) any {
	list, _ := dims.([]any)
	for _, d := range list {
		if d.(map[string]any)["Name"] == name {
			return d.(map[string]any)["Value"]
		}
	}
	return nil
}

func TestTemplateAlarms(t *testing.T) {
	p := tplLoad(t)
	alarms := tplAlarms(p)
	topic := map[string]any{"Ref": "AlarmTopic"}
	if res, _ := p.raw["Resources"].(map[string]any)["AlarmTopic"].(map[string]any); res["Type"] != "AWS::SNS::Topic" {
		t.Fatal("no AlarmTopic (AWS::SNS::Topic)")
	}
	sub := p.rawProperties("AlarmTopicEmail")
	if sub["Protocol"] != "email" || fmt.Sprint(sub["Endpoint"]) != "map[Ref:AlarmEmail]" {
		t.Errorf("AlarmTopicEmail must subscribe the AlarmEmail parameter by e-mail: %v", sub)
	}

	byMetric := map[string][]tplAlarm{} // "namespace/metric/function" -> alarms
	for _, a := range alarms {
		for _, action := range []string{"AlarmActions", "OKActions"} {
			if list, _ := a.props[action].([]any); !slices.ContainsFunc(list, func(v any) bool { return fmt.Sprint(v) == fmt.Sprint(topic) }) {
				t.Errorf("%s: %s does not notify the AlarmTopic", a.id, action)
			}
		}
		if d, _ := a.props["AlarmDescription"].(string); !strings.Contains(d, "docs/OPERATIONS.md#") {
			t.Errorf("%s: the description must point at its runbook entry", a.id)
		}
		if a.props["TreatMissingData"] == nil {
			t.Errorf("%s: TreatMissingData must be explicit", a.id)
		}
		for _, m := range tplAlarmMetrics(a.props) {
			ns, name := m[0], m[1].(string)
			switch ns {
			case metrics.Namespace:
				if !slices.Contains(metrics.All, name) {
					t.Errorf("%s: FrostGuard metric %q is not one shared/metrics emits", a.id, name)
				}
				if fmt.Sprint(tplDimension(m[2], "Stage")) != "map[Ref:Stage]" {
					t.Errorf("%s: %s must be read at dimension Stage = !Ref Stage", a.id, name)
				}
				fn, _ := tplDimension(m[2], "Function").(string)
				byMetric["FrostGuard/"+name+"/"+fn] = append(byMetric["FrostGuard/"+name+"/"+fn], a)
			case "AWS/Lambda":
				fn := fmt.Sprint(tplDimension(m[2], "FunctionName"))
				byMetric["AWS/Lambda/"+name+"/"+fn] = append(byMetric["AWS/Lambda/"+name+"/"+fn], a)
			default:
				t.Errorf("%s: unexpected namespace %v", a.id, ns)
			}
		}
	}
	for _, fn := range app.Functions {
		for _, metric := range []string{"Errors", "Throttles"} {
			if len(byMetric["AWS/Lambda/"+metric+"/map[Ref:"+fn.LogicalID+"]"]) == 0 {
				t.Errorf("no %s alarm for %s", metric, fn.Name)
			}
		}
		if fn.FunctionURL {
			as := byMetric["FrostGuard/ServerErrors/"+fn.Name]
			if len(as) == 0 || len(byMetric["FrostGuard/Requests/"+fn.Name]) == 0 {
				t.Errorf("no 5xx-rate alarm (ServerErrors / Requests) for webhook %s", fn.Name)
				continue
			}
			if expr := fmt.Sprint(as[0].props["Metrics"]); !strings.Contains(expr, "errors / requests") {
				t.Errorf("%s: the 5xx alarm must be a rate: %s", as[0].id, expr)
			}
		}
	}
	for _, want := range []struct {
		metric, stat, op string
		threshold        float64
		periods          float64
	}{
		{metrics.SweepSucceeded, "Sum", "LessThanThreshold", 1, 3},          // no success for 3 minutes
		{metrics.DispatchLag, "Maximum", "GreaterThanThreshold", 120000, 1}, // over 2 minutes
		{metrics.NotificationsFailed, "Sum", "GreaterThanOrEqualToThreshold", 1, 1},
	} {
		as := byMetric["FrostGuard/"+want.metric+"/"]
		if len(as) != 1 {
			t.Errorf("want one alarm on %s, have %d", want.metric, len(as))
			continue
		}
		a := as[0].props
		if a["Statistic"] != want.stat || a["ComparisonOperator"] != want.op || a["Threshold"] != want.threshold || a["EvaluationPeriods"] != want.periods {
			t.Errorf("%s: %v %v %v x%v, want %s %s %v x%v", as[0].id, a["Statistic"], a["ComparisonOperator"], a["Threshold"], a["EvaluationPeriods"],
				want.stat, want.op, want.threshold, want.periods)
		}
		if want.metric == metrics.SweepSucceeded && (a["Period"] != 60.0 || a["TreatMissingData"] != "breaching") {
			t.Errorf("%s: a sweeper that does not run at all must alarm (60 s periods, missing data breaching)", as[0].id)
		}
	}
}

var tplDashboardMetricName = regexp.MustCompile(`MetricName="([A-Za-z]+)"`)

func TestTemplateDashboardShowsEveryMetric(t *testing.T) {
	p := tplLoad(t)
	sub, _ := p.rawProperties("Dashboard")["DashboardBody"].(map[string]any)["Fn::Sub"].(string)
	if sub == "" {
		t.Fatal("Dashboard.DashboardBody must be a !Sub of the dashboard JSON")
	}
	body := strings.NewReplacer("${Stage}", "dev", "${AWS::Region}", "eu-west-1").Replace(sub)
	if strings.Contains(body, "${") {
		t.Fatalf("an unknown substitution in the dashboard: %s", body[strings.Index(body, "${"):][:40])
	}
	var dash struct {
		Widgets []struct {
			Properties struct {
				Title   string  `json:"title"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("the dashboard body is not JSON: %v", err)
	}
	shown := map[string]bool{}
	lambdaFns := map[string]bool{}
	for _, w := range dash.Widgets {
		for _, m := range w.Properties.Metrics {
			if expr, ok := m[0].(map[string]any); ok {
				e, _ := expr["expression"].(string)
				for _, match := range tplDashboardMetricName.FindAllStringSubmatch(e, -1) {
					if !slices.Contains(metrics.All, match[1]) {
						t.Errorf("%q searches for %s, which nobody emits", w.Properties.Title, match[1])
					}
					shown[match[1]] = true
				}
				continue
			}
			switch m[0] {
			case metrics.Namespace:
				name := m[1].(string)
				if !slices.Contains(metrics.All, name) {
					t.Errorf("%q shows %s, which nobody emits", w.Properties.Title, name)
				}
				if len(m) < 4 || m[2] != "Stage" || m[3] != "dev" {
					t.Errorf("%q: %s must be read at Stage", w.Properties.Title, name)
				}
				shown[name] = true
			case "AWS/Lambda":
				lambdaFns[fmt.Sprint(m[3])] = true
			}
		}
	}
	for _, name := range metrics.All {
		if !shown[name] {
			t.Errorf("the dashboard does not show %s", name)
		}
	}
	for _, fn := range app.Functions {
		if !lambdaFns["frostguard-dev-"+fn.Name] {
			t.Errorf("the dashboard shows no Lambda metric of %s", fn.Name)
		}
	}
}

// Rendered reports and organisation exports expire by the bucket's
// lifecycle, on the prefixes the code writes them under; the readings
// archives never do.
func TestTemplateBucketLifecycleExpiresGeneratedFiles(t *testing.T) {
	p := tplLoad(t)
	lc, _ := p.rawProperties("AssetsBucket")["LifecycleConfiguration"].(map[string]any)
	rules, _ := lc["Rules"].([]any)
	expires := map[string]float64{}
	for _, r := range rules {
		rule := r.(map[string]any)
		if rule["Status"] != "Enabled" {
			continue
		}
		prefix, _ := rule["Prefix"].(string)
		if days, ok := rule["ExpirationInDays"].(float64); ok {
			expires[prefix] = days
		}
	}
	if d := expires[objects.ReportsPrefix]; d < 1 || d > 7 {
		t.Errorf("rendered reports (%s) expire after %v days, want 1..7", objects.ReportsPrefix, d)
	}
	if d, want := expires[objects.ExportsPrefix], offboard.ExportRetention.Hours()/24; d != want {
		t.Errorf("exports (%s) expire after %v days, want the %v the e-mail promises", objects.ExportsPrefix, d, want)
	}
	for prefix := range expires {
		if prefix == "" || strings.HasPrefix(objects.ArchivePrefix, prefix) {
			t.Errorf("a lifecycle rule on %q would expire the readings archives", prefix)
		}
	}
}
