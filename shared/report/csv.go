package report

import (
	"bytes"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// CSV record kinds (the first column): a table a spreadsheet can filter.
const (
	RecordSummary   = "summary"
	RecordDay       = "day"
	RecordExcursion = "excursion"
	RecordGap       = "gap"
	RecordAlert     = "alert"
	RecordManualLog = "manual_log"
)

// CSVHeader is the CSV's header row for temperatures in unit u ("C"/"F").
func CSVHeader(u string) []string {
	return []string{"record", "site", "area", "unit", "unit_id", "timezone", "date", "start", "end",
		"readings", "min_" + u, "max_" + u, "avg_" + u, "in_range_percent", "no_data_minutes",
		"excursions", "excursion_minutes", "gaps", "gap_minutes", "alerts", "manual_logs",
		"temperature_" + u, "type", "severity", "status", "title", "by", "note", "corrective_action",
		"acknowledged_at", "acknowledged_by", "acknowledged_note", "resolved_at", "resolved_by", "resolved_note"}
}

// WriteCSV renders the report as one table: per unit its summary row,
// then per day a day row followed by the day's excursions, gaps, alerts
// and manual logs. Times are local to the unit's timezone (with offset);
// temperatures in the report's unit.
func WriteCSV(w io.Writer, rep Report) error {
	cw := csv.NewWriter(w)
	header := CSVHeader(string(UnitOrCelsius(rep.TempUnit)))
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, ur := range rep.Units {
		loc := domain.Location(ur.Unit.TimeZone)
		ts := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
		row := func(kind, date string, start, end time.Time) []string {
			r := make([]string, len(header))
			r[0], r[1], r[2], r[3], r[4], r[5], r[6] = kind, safe(ur.Unit.SiteName), safe(ur.Unit.AreaName), safe(ur.Unit.Name), ur.Unit.ID, ur.Unit.TimeZone, date
			if !start.IsZero() {
				r[7] = ts(start)
			}
			if !end.IsZero() {
				r[8] = ts(end)
			}
			return r
		}
		stats := func(r []string, s Stats) []string {
			r[9], r[10], r[11], r[12] = strconv.Itoa(s.Readings), num(s.Min), num(s.Max), num(s.Avg)
			r[13], r[14] = num(s.InRangePercent), FormatMinutes(s.NoDataSeconds)
			r[15], r[16] = strconv.Itoa(s.ExcursionCount), FormatMinutes(s.ExcursionSeconds)
			r[17], r[18] = strconv.Itoa(s.GapCount), FormatMinutes(s.GapSeconds)
			r[19], r[20] = strconv.Itoa(s.AlertCount), strconv.Itoa(s.ManualLogCount)
			return r
		}
		rows := [][]string{stats(row(RecordSummary, "", ur.From, ur.To), ur.Summary)}
		for _, d := range ur.Days {
			rows = append(rows, stats(row(RecordDay, d.Date, d.Start, d.End), d.Stats))
			for _, x := range d.Excursions {
				r := row(RecordExcursion, d.Date, x.Start, x.End)
				r[16], r[21], r[22] = FormatMinutes(x.DurationSeconds), FormatNumber(x.Peak), x.Direction
				rows = append(rows, r)
			}
			for _, g := range d.Gaps {
				r := row(RecordGap, d.Date, g.Start, g.End)
				r[18] = FormatMinutes(g.DurationSeconds)
				rows = append(rows, r)
			}
			for _, a := range d.Alerts {
				r := row(RecordAlert, d.Date, a.TriggeredAt, time.Time{})
				if a.ResolvedAt != nil {
					r[8] = ts(*a.ResolvedAt)
				}
				r[21], r[22], r[23], r[24], r[25] = num(a.Temperature), a.Type, a.Severity, a.Status, safe(a.Title)
				if a.AcknowledgedAt != nil {
					r[29] = ts(*a.AcknowledgedAt)
				}
				r[30], r[31] = str(a.AcknowledgedBy), str(a.AcknowledgedNote)
				if a.ResolvedAt != nil {
					r[32] = ts(*a.ResolvedAt)
				}
				r[33], r[34] = str(a.ResolvedBy), str(a.ResolvedNote)
				var actions []string
				for _, c := range a.CorrectiveActions {
					actions = append(actions, c.Describe())
				}
				r[28] = safe(strings.Join(actions, "; "))
				rows = append(rows, r)
			}
			for _, l := range d.ManualLogs {
				r := row(RecordManualLog, d.Date, l.RecordedAt, time.Time{})
				r[21], r[26], r[27], r[28] = FormatNumber(l.Temperature), str(l.By), str(l.Notes), str(l.CorrectiveAction)
				rows = append(rows, r)
			}
		}
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// RenderCSV returns the CSV bytes.
func RenderCSV(rep Report) ([]byte, error) {
	var buf bytes.Buffer
	err := WriteCSV(&buf, rep)
	return buf.Bytes(), err
}

func num(v *float64) string {
	if v == nil {
		return ""
	}
	return FormatNumber(*v)
}

// FormatNumber prints a temperature or percentage as the report does.
func FormatNumber(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// FormatMinutes prints a duration in seconds as minutes with one decimal.
func FormatMinutes(s int64) string { return strconv.FormatFloat(float64(s)/60, 'f', 1, 64) }

// str renders free text (nil as empty), made safe for spreadsheets.
func str(s *string) string {
	if s == nil {
		return ""
	}
	return safe(*s)
}

// safe keeps a spreadsheet from evaluating user-written text as a formula
// (CSV injection): such a cell gets a leading apostrophe.
func safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
