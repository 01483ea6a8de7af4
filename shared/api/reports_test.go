package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/report"
	"github.com/frostguard/functions/shared/testenv"
)

func TestHACCPReportMatchesAGeneratedMonth(t *testing.T) {
	f := newReportFixture(t)
	var rep report.Report
	f.h.do(f.owner, "GET", f.path+"?"+f.rangeQ, nil).must(t, 200).JSON(t, &rep)
	if len(rep.Units) != 2 || rep.TempUnit != "C" {
		t.Fatalf("%d units, unit %s", len(rep.Units), rep.TempUnit)
	}
	byID := map[string]report.UnitReport{}
	for _, u := range rep.Units {
		byID[u.Unit.ID] = u
	}
	for _, u := range []rptUnit{f.ny, f.utc} {
		got := byID[u.id]
		want := expectedDays(u, 1, 30)
		if got.Unit.TimeZone != u.loc.String() || len(got.Days) != len(want) {
			t.Fatalf("%s: timezone %s, %d days, want %d", u.name, got.Unit.TimeZone, len(got.Days), len(want))
		}
		var totalExc, totalGaps int
		var totalOut int64
		for i, w := range want {
			d := got.Days[i]
			g := rptExpectedDay{date: d.Date, readings: d.Readings, minC: *d.MinC, maxC: *d.MaxC, avgC: *d.AvgC, inSec: d.InRangeSeconds,
				outSec: d.OutOfRangeSeconds, noSec: d.NoDataSeconds, excursions: d.ExcursionCount, gaps: d.GapCount, gapSec: d.GapSeconds}
			if g != w {
				t.Errorf("%s %s:\n got %+v\nwant %+v", u.name, w.date, g, w)
			}
			if wantPct := math.Round(float64(w.inSec)/float64(w.inSec+w.outSec+w.noSec)*10000) / 100; *d.InRangePercent != wantPct {
				t.Errorf("%s %s: %v%% in range, want %v", u.name, w.date, *d.InRangePercent, wantPct)
			}
			totalExc += w.excursions
			totalGaps += w.gaps
			totalOut += w.outSec
		}
		if s := got.Summary; s.ExcursionCount != totalExc || s.GapCount != totalGaps || s.ExcursionSeconds != totalOut {
			t.Errorf("%s summary %+v, want %d excursions, %d gaps, %d s out", u.name, s, totalExc, totalGaps, totalOut)
		}
	}
	// the scripted events, spelled out
	ny := byID[f.ny.id]
	d3 := ny.Days[2]
	if d3.ExcursionCount != 1 || d3.OutOfRangeSeconds != 45*60 || d3.Excursions[0].PeakC != 8 || d3.Excursions[0].Direction != "above" {
		t.Errorf("day 3 excursion: %+v %+v", d3.Stats, d3.Excursions)
	}
	if d10 := ny.Days[9]; d10.GapCount != 1 || d10.Gaps[0].DurationSeconds != 3*3600+5*60 {
		t.Errorf("day 10 gap: %+v", d10.Gaps)
	}
	if d20, d21 := ny.Days[19], ny.Days[20]; d20.ExcursionCount != 1 || d20.Excursions[0].DurationSeconds != 30*60 || d21.ExcursionCount != 0 || d21.OutOfRangeSeconds != 20*60 {
		t.Errorf("excursion across midnight: %+v / %+v", d20.Stats, d21.Stats)
	}
	if len(d3.Alerts) != 1 {
		t.Fatalf("day 3 alerts: %+v", d3.Alerts)
	}
	a := d3.Alerts[0]
	if *a.AcknowledgedBy != "Alice Martin" || *a.AcknowledgedNote != "checking the door" || *a.ResolvedBy != "Bob Stone" ||
		*a.ResolvedNote != "door seal replaced, stock moved" || a.ID != f.alertID {
		t.Errorf("alert %+v", a)
	}
	// 23:30 in New York on the 4th is the 5th in UTC: it stays on the 4th
	if logs := ny.Days[3].ManualLogs; len(logs) != 2 || *logs[0].By != "Alice Martin" || *logs[0].Notes != "probe check" || logs[1].TemperatureC != 2.9 {
		t.Errorf("day 4 manual logs: %+v", logs)
	}
	if !ny.From.Equal(time.Date(2026, 1, 1, 5, 0, 0, 0, time.UTC)) || !ny.To.Equal(time.Date(2026, 1, 31, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("New York range %s .. %s", ny.From, ny.To)
	}
}

// TestHACCPReportDayBoundaryInNewYork: a reading at 23:59 local on the 5th
// (04:59 UTC on the 6th) belongs to the 5th; 00:00 local to the 6th.
func TestHACCPReportDayBoundaryInNewYork(t *testing.T) {
	f := newReportFixture(t)
	f.h.exec(`DELETE FROM sensor_readings WHERE unit_id = $1`, f.ny.id)
	f.h.exec(`INSERT INTO sensor_readings (organization_id, unit_id, recorded_at, temperature_c) VALUES
		($1, $2, '2026-01-06T04:59:00Z', 4.5), ($1, $2, '2026-01-06T05:00:00Z', 1.5)`, f.org, f.ny.id)
	var rep report.Report
	f.h.do(f.alice, "GET", f.path+"?from=2026-01-05&to=2026-01-06&unit_id="+f.ny.id, nil).must(t, 200).JSON(t, &rep)
	days := rep.Units[0].Days
	if len(rep.Units) != 1 || len(days) != 2 || days[0].Date != "2026-01-05" || days[0].Readings != 1 || *days[0].MaxC != 4.5 ||
		days[1].Readings != 1 || *days[1].MinC != 1.5 {
		t.Fatalf("days %+v", days)
	}
	// the 23:59 reading holds one minute into the 5th and nine into the 6th
	if days[0].InRangeSeconds != 60 || days[1].InRangeSeconds != 10*60 {
		t.Errorf("in range %d / %d", days[0].InRangeSeconds, days[1].InRangeSeconds)
	}
	// an RFC 3339 range is taken as given
	f.h.do(f.alice, "GET", f.path+"?from=2026-01-06T04:00:00Z&to=2026-01-06T06:00:00Z&unit_id="+f.ny.id, nil).must(t, 200).JSON(t, &rep)
	if d := rep.Units[0].Days; len(d) != 2 || d[0].DurationSeconds != 3600 || d[1].DurationSeconds != 3600 {
		t.Errorf("instant range days %+v", d)
	}
}

func TestHACCPReportCSVAndPDF(t *testing.T) {
	f := newReportFixture(t)
	r := f.h.do(f.owner, "GET", f.path+"?"+f.rangeQ+"&format=csv&site_id="+f.nySite, nil).must(t, 200)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || !strings.Contains(r.Header.Get("Content-Disposition"), `attachment; filename="haccp-report-20260101-to-20260130.csv"`) {
		t.Errorf("headers %v", r.Header)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	if strings.Join(rows[0], ",") != strings.Join(report.CSVHeader("C"), ",") {
		t.Fatalf("header %v", rows[0])
	}
	want := expectedDays(f.ny, 1, 30)
	var dayRows int
	for _, row := range rows[1:] {
		if row[3] != "Dairy Cooler" {
			t.Fatalf("a unit outside the site: %v", row)
		}
		if row[0] != report.RecordDay {
			continue
		}
		w := want[dayRows]
		dayRows++
		exp := []string{w.date, fmt.Sprint(w.readings), fmt.Sprintf("%.2f", w.minC), fmt.Sprintf("%.2f", w.maxC), fmt.Sprintf("%.2f", w.avgC),
			fmt.Sprint(w.excursions), fmt.Sprintf("%.1f", float64(w.outSec)/60), fmt.Sprint(w.gaps), fmt.Sprintf("%.1f", float64(w.gapSec)/60)}
		got := []string{row[6], row[9], row[10], row[11], row[12], row[15], row[16], row[17], row[18]}
		if strings.Join(got, "|") != strings.Join(exp, "|") {
			t.Errorf("CSV day:\n got %v\nwant %v", got, exp)
		}
	}
	if dayRows != 30 {
		t.Errorf("%d day rows", dayRows)
	}

	// in Fahrenheit: the organisation's unit
	f.h.exec(`UPDATE organizations SET temp_unit = 'F' WHERE id = $1`, f.org)
	r = f.h.do(f.owner, "GET", f.path+"?from=2026-01-03&to=2026-01-03&format=pdf&unit_id="+f.ny.id, nil).must(t, 200)
	if r.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.Body, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %v %q", r.Header, r.Body[:min(20, len(r.Body))])
	}
	pages, text := rptPDFText(t, r.Body)
	if pages < 1 {
		t.Errorf("%d pages", pages)
	}
	// 8 °C = 46.40 °F, the excursion's peak
	for _, s := range []string{"Dairy Cooler", "46.40", "Alice Martin", "door seal replaced", "°F"} {
		if !strings.Contains(text, s) {
			t.Errorf("the PDF's text lacks %q:\n%s", s, text)
		}
	}
}

func rptPDFText(t *testing.T, b []byte) (int, string) {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the PDF does not open: %v", err)
	}
	var sb strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		rows, err := r.Page(i).GetTextByRow()
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		for _, row := range rows {
			for _, w := range row.Content {
				sb.WriteString(w.S)
			}
		}
	}
	return r.NumPage(), sb.String()
}

func reportBucket(t *testing.T) *objects.Bucket {
	cfg := config.Storage{Endpoint: testenv.Require(t, "MINIO_ENDPOINT"), AccessKey: testenv.Require(t, "MINIO_ROOT_USER"),
		SecretKey: testenv.Require(t, "MINIO_ROOT_PASSWORD"), Region: "us-east-1"}
	return objects.Open(cfg, testenv.Require(t, "MINIO_BUCKET_ASSETS"))
}

type rptDownload struct {
	Download struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
		Filename  string    `json:"filename"`
	} `json:"download"`
}

func TestHACCPReportLargeRangesGoThroughStorage(t *testing.T) {
	f := newReportFixture(t)
	year := "?from=2025-03-01&to=2026-02-28" // 365 days × 2 units: over a month of 20 units
	f.h.do(f.owner, "GET", f.path+year+"&format=csv", nil).must(t, http.StatusServiceUnavailable)
	f.h.do(f.owner, "GET", f.path+"?"+f.rangeQ+"&delivery=link", nil).must(t, http.StatusServiceUnavailable)
	f.h.do(f.owner, "GET", f.path+"?"+f.rangeQ, nil).must(t, 200) // inline needs no storage

	f.h.srv.Files = reportBucket(t)
	for _, tc := range []struct{ query, format string }{{year + "&format=csv", "csv"}, {"?" + f.rangeQ + "&format=pdf&delivery=link", "pdf"}} {
		var d rptDownload
		f.h.do(f.owner, "GET", f.path+tc.query, nil).must(t, 200).JSON(t, &d)
		if d.Download.URL == "" || !strings.Contains(d.Download.URL, "/reports/"+f.org+"/") || d.Download.ExpiresAt.Sub(f.h.srv.Now()) > time.Hour*24*365 {
			t.Fatalf("download %+v", d)
		}
		if left := time.Until(d.Download.ExpiresAt); left < 14*time.Minute || left > 16*time.Minute {
			t.Errorf("the link lasts %s, want 15 minutes", left)
		}
		resp, err := http.Get(d.Download.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("download: %d %s", resp.StatusCode, body)
		}
		inline := f.h.do(f.owner, "GET", f.path+strings.Replace(tc.query, "&delivery=link", "", 1)+"&delivery=inline", nil).must(t, 200)
		if !bytes.Equal(body, inline.Body) {
			t.Errorf("%s: the stored report (%d bytes) differs from the inline one (%d bytes)", tc.format, len(body), len(inline.Body))
		}
	}
}

func TestHACCPReportAccessAndValidation(t *testing.T) {
	f := newReportFixture(t)
	inspector, viewer := f.h.user("inspector"), f.h.user("viewer")
	f.h.member(f.org, inspector, access.Inspector)
	f.h.member(f.org, viewer, access.Viewer)
	for _, u := range []*testUser{inspector, viewer} {
		f.h.do(u, "GET", f.path+"?"+f.rangeQ+"&format=csv", nil).must(t, 200)
	}
	f.h.do(nil, "GET", f.path+"?"+f.rangeQ, nil).must(t, http.StatusUnauthorized)

	stranger := f.h.user("outsider")
	otherOrg := f.h.org("Elsewhere", stranger)
	other := f.h.unit(otherOrg)
	f.h.do(stranger, "GET", f.path+"?"+f.rangeQ, nil).must(t, http.StatusNotFound)
	otherPath := "/api/v1/orgs/" + otherOrg + "/reports/haccp?" + f.rangeQ
	f.h.do(stranger, "GET", otherPath+"&unit_id="+f.ny.id, nil).must(t, http.StatusNotFound)
	f.h.do(stranger, "GET", otherPath+"&site_id="+f.nySite, nil).must(t, http.StatusNotFound)
	f.h.do(f.owner, "GET", f.path+"?"+f.rangeQ+"&unit_id="+other.UnitID, nil).must(t, http.StatusNotFound)
	f.h.exec(`UPDATE units SET deleted_at = now() WHERE id = $1`, f.utc.id)
	f.h.do(f.owner, "GET", f.path+"?"+f.rangeQ+"&unit_id="+f.utc.id, nil).must(t, http.StatusNotFound)

	for _, tc := range []struct{ query, field string }{
		{"from=2025-01-01&to=2026-01-02", "to"},                     // more than 366 days
		{"from=2026-01-10&to=2026-01-09", "to"},                     // to before from
		{"from=2026-01-10T10:00:00Z&to=2026-01-10T10:00:00Z", "to"}, // empty
		{"from=2026-01-01&to=2026-01-02&format=xlsx", "format"},
		{"from=2026-01-01&to=2026-01-02&delivery=email", "delivery"},
		{"to=2026-01-02", "from"},
		{"from=yesterday&to=2026-01-02", "from"},
		{"from=2026-01-01&to=2026-01-02&unit_id=nope", "unit_id"},
	} {
		r := f.h.do(f.owner, "GET", f.path+"?"+tc.query, nil).must(t, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %s", tc.query, r.Body)
		}
	}
	// exactly 366 days is allowed
	f.h.do(f.owner, "GET", f.path+"?from=2024-01-01&to=2024-12-31&unit_id="+f.ny.id, nil).must(t, 200)
}
