package report

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// The variants' CSV files are one flat table each: a row per unit-day
// (daily log), per exception, or per manual entry, every row naming its
// site, area and unit. Times are local to the unit's timezone (with
// offset), temperatures in the report's unit; text a spreadsheet would
// evaluate is prefixed with "'".

// unitCells are the columns every variant's row starts with.
func unitCells(u UnitInfo) []string {
	return []string{safe(u.SiteName), safe(u.AreaName), safe(u.Name), u.ID, u.TimeZone}
}

var unitColumns = []string{"site", "area", "unit", "unit_id", "timezone"}

// CSV renders the daily log: a row per unit and day.
func (l DailyLog) CSV() ([]byte, error) {
	tu := string(UnitOrCelsius(l.TempUnit))
	header := append(append([]string{}, unitColumns...), "date", "am_time", "am_"+tu, "am_source", "am_by", "am_in_range",
		"pm_time", "pm_"+tu, "pm_source", "pm_by", "pm_in_range", "min_"+tu, "max_"+tu, "in_range_percent",
		"excursions", "gaps", "alerts", "status", "corrective_actions")
	rows := [][]string{header}
	for _, u := range l.Units {
		loc := domain.Location(u.Unit.TimeZone)
		for _, d := range u.Days {
			r := append(unitCells(u.Unit), d.Date)
			for _, c := range []*Check{d.AM, d.PM} {
				if c == nil {
					r = append(r, "", "", "", "", "")
					continue
				}
				r = append(r, c.At.In(loc).Format(time.RFC3339), FormatNumber(c.Temperature), c.Source, str(c.By),
					strconv.FormatBool(c.InRange))
			}
			r = append(r, num(d.Min), num(d.Max), num(d.InRangePercent), strconv.Itoa(d.ExcursionCount),
				strconv.Itoa(d.GapCount), strconv.Itoa(d.AlertCount), d.Status, safe(actionsText(d.Actions, loc)))
			rows = append(rows, r)
		}
	}
	return writeRows(rows)
}

// CSV renders the exceptions: a row per exception.
func (x Exceptions) CSV() ([]byte, error) {
	tu := string(UnitOrCelsius(x.TempUnit))
	header := append(append([]string{}, unitColumns...), "date", "kind", "start", "end", "duration_minutes", "direction",
		"peak_"+tu, "alert_type", "severity", "status", "description", "corrective_actions")
	rows := [][]string{header}
	for _, u := range x.Units {
		loc := domain.Location(u.Unit.TimeZone)
		for _, e := range u.Exceptions {
			r := append(unitCells(u.Unit), e.Date, e.Kind, e.Start.In(loc).Format(time.RFC3339), "", "", e.Direction, num(e.Peak),
				"", "", "", safe(e.Description), safe(actionsText(e.Actions, loc)))
			if e.End != nil {
				r[len(unitColumns)+3] = e.End.In(loc).Format(time.RFC3339)
			}
			if e.DurationSeconds != nil {
				r[len(unitColumns)+4] = FormatMinutes(*e.DurationSeconds)
			}
			if e.Alert != nil {
				r[len(unitColumns)+7], r[len(unitColumns)+8], r[len(unitColumns)+9] = e.Alert.Type, e.Alert.Severity, e.Alert.Status
			}
			rows = append(rows, r)
		}
	}
	return writeRows(rows)
}

// CSV renders the manual entries: a row per entry, then a row per missed
// entry (kind "missed").
func (m ManualEntries) CSV() ([]byte, error) {
	tu := string(UnitOrCelsius(m.TempUnit))
	header := append(append([]string{}, unitColumns...), "kind", "date", "recorded_at", "temperature_"+tu, "in_range", "by",
		"note", "corrective_action")
	rows := [][]string{header}
	for _, u := range m.Units {
		loc := domain.Location(u.Unit.TimeZone)
		for _, e := range u.Entries {
			rows = append(rows, append(unitCells(u.Unit), "entry", e.Date, e.RecordedAt.In(loc).Format(time.RFC3339),
				FormatNumber(domain.FromCelsius(e.TemperatureC, m.TempUnit)), strconv.FormatBool(e.InRange), str(e.By),
				str(e.Notes), str(e.CorrectiveAction)))
		}
		for _, a := range u.Missed {
			t := a.TriggeredAt.In(loc)
			rows = append(rows, append(unitCells(u.Unit), "missed", t.Format(time.DateOnly), t.Format(time.RFC3339), "", "", "",
				safe(a.Title), ""))
		}
	}
	return writeRows(rows)
}

func writeRows(rows [][]string) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CSV renders the HACCP report (RenderCSV), so that every variant renders
// the same way.
func (rep Report) CSV() ([]byte, error) { return RenderCSV(rep) }

// Variant is a computed report variant: its JSON is the value itself.
type Variant interface {
	Document() Document
	CSV() ([]byte, error)
}

// NewVariant derives the variant k from a computed report.
func NewVariant(k Kind, rep Report, o Options) Variant {
	switch k {
	case KindDailyLog:
		return NewDailyLog(rep, o)
	case KindExceptions:
		return NewExceptions(rep)
	case KindManualEntries:
		return NewManualEntries(rep)
	}
	return rep
}

// Filename names a variant's file after its dates in timezone tz (the
// range's end is exclusive: the name gives its last day).
func Filename(k Kind, from, to time.Time, tz, ext string) string {
	loc := domain.Location(tz)
	return strings.Join([]string{string(k), "report", from.In(loc).Format("20060102"), "to",
		to.Add(-time.Nanosecond).In(loc).Format("20060102")}, "-") + "." + ext
}
