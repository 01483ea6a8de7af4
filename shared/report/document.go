package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// Document is a report laid out for people: what the PDF and the printable
// HTML render, each variant building its own. Text is plain (renderers
// escape it); times are already local.
type Document struct {
	Title string
	// Meta is the line under the title on every page: period, timezone,
	// temperature unit, generation time.
	Meta string
	// GeneratedAt dates the file (the same report renders the same bytes).
	GeneratedAt time.Time
	Sections    []Section
	// Empty is printed when there are no sections.
	Empty string
}

// Section is usually one unit: on a page of its own in the PDF.
type Section struct {
	Heading    string
	Paragraphs []Paragraph
	Table      *Table
	// ListHeading titles List (printed even when List is empty, then
	// followed by ListEmpty).
	ListHeading string
	List        []string
	ListEmpty   string
}

// Paragraph is a block of text.
type Paragraph struct {
	Text string
	Bold bool
}

// Table is a table with a header row; Empty replaces an empty body.
type Table struct {
	Columns []Column
	Rows    []Row
	Empty   string
}

// Column is a table column: Width in millimetres on A4 landscape (the HTML
// uses it as a proportion).
type Column struct {
	Title string
	Width float64
	Right bool
}

// Row is a table row; Flag marks a row needing attention (shaded).
type Row struct {
	Cells []string
	Flag  bool
}

const (
	dateTime = "2006-01-02 15:04"
	hourMin  = "15:04"
)

// meta is the document's line under the title.
func (h Header) meta(loc *time.Location) string {
	return fmt.Sprintf("%s - period %s to %s (%s) - temperatures in °%s - generated %s", h.Organization.Name,
		h.From.In(loc).Format(dateTime), h.To.In(loc).Format(dateTime), loc, UnitOrCelsius(h.TempUnit),
		h.GeneratedAt.In(loc).Format("2006-01-02 15:04 MST"))
}

func unitHeading(u UnitInfo) string {
	var parts []string
	for _, s := range []string{u.SiteName, u.AreaName, u.Name} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " / ")
}

// unitRange is the unit's period, limits and check-in interval in words.
func unitRange(u UnitInfo, from, to time.Time, tu domain.TempUnit) string {
	loc := domain.Location(u.TimeZone)
	interval := time.Duration(u.CheckinIntervalSeconds) * time.Second
	s := fmt.Sprintf("%s to %s (%s). Range %s to %s. Check-in every %s; a silence over %s is a gap.",
		from.In(loc).Format(dateTime), to.In(loc).Format(dateTime), u.TimeZone, formatTemp(u.TempMinC, tu),
		formatTemp(u.TempMaxC, tu), interval, 2*interval)
	if u.ManualLogIntervalSeconds != nil {
		s += fmt.Sprintf(" Manual log required every %s.", time.Duration(*u.ManualLogIntervalSeconds)*time.Second)
	}
	return s
}

// numOr prints a figure, "-" for none.
func numOr(v *float64) string {
	if v == nil {
		return "-"
	}
	return FormatNumber(*v)
}

// Document lays out the HACCP report: per unit its summary, the daily
// table and the period's events.
func (rep Report) Document() Document {
	h := rep.header(KindHACCP)
	doc := Document{Title: KindHACCP.Title() + " - " + rep.Organization.Name, Meta: h.meta(domain.Location(rep.Organization.TimeZone)),
		GeneratedAt: rep.GeneratedAt, Empty: "No units in this report."}
	tu := h.TempUnit
	for _, ur := range rep.Units {
		loc := domain.Location(ur.Unit.TimeZone)
		s := ur.Summary
		sec := Section{Heading: unitHeading(ur.Unit), ListHeading: "Events",
			ListEmpty: "No excursions, gaps, alerts or manual logs in this period."}
		sec.Paragraphs = []Paragraph{{Text: unitRange(ur.Unit, ur.From, ur.To, tu)}, {Bold: true, Text: fmt.Sprintf(
			"Summary: %d readings, min %s, max %s, avg %s °%s; %s%% of the time in range; %d excursions (%s min); %d gaps (%s min); "+
				"%s min without data; %d alerts; %d manual logs.",
			s.Readings, numOr(s.Min), numOr(s.Max), numOr(s.Avg), tu, numOr(s.InRangePercent), s.ExcursionCount,
			FormatMinutes(s.ExcursionSeconds), s.GapCount, FormatMinutes(s.GapSeconds), FormatMinutes(s.NoDataSeconds),
			s.AlertCount, s.ManualLogCount)}}
		t := &Table{Columns: []Column{{"Date", 24, false}, {"Readings", 18, true}, {"Min", 18, true}, {"Max", 18, true},
			{"Avg", 18, true}, {"In range %", 22, true}, {"No data min", 22, true}, {"Excursions", 20, true}, {"Exc. min", 20, true},
			{"Gaps", 14, true}, {"Gap min", 18, true}, {"Alerts", 16, true}, {"Manual logs", 21, true}}}
		for _, d := range ur.Days {
			st := d.Stats
			t.Rows = append(t.Rows, Row{Flag: st.ExcursionCount > 0 || st.OutOfRangeSeconds > 0 || st.GapCount > 0, Cells: []string{
				d.Date, strconv.Itoa(st.Readings), numOr(st.Min), numOr(st.Max), numOr(st.Avg), numOr(st.InRangePercent),
				FormatMinutes(st.NoDataSeconds), strconv.Itoa(st.ExcursionCount), FormatMinutes(st.ExcursionSeconds),
				strconv.Itoa(st.GapCount), FormatMinutes(st.GapSeconds), strconv.Itoa(st.AlertCount), strconv.Itoa(st.ManualLogCount)}})
		}
		sec.Table = t
		for _, d := range ur.Days {
			for _, x := range d.Excursions {
				sec.List = append(sec.List, fmt.Sprintf("%s  Excursion %s the range from %s to %s (%s min), peak %s",
					d.Date, x.Direction, x.Start.In(loc).Format(hourMin), x.End.In(loc).Format(dateTime),
					FormatMinutes(x.DurationSeconds), formatTemp(x.PeakC, tu)))
			}
			for _, g := range d.Gaps {
				sec.List = append(sec.List, fmt.Sprintf("%s  Monitoring gap from %s to %s (%s min) without readings",
					d.Date, g.Start.In(loc).Format(hourMin), g.End.In(loc).Format(dateTime), FormatMinutes(g.DurationSeconds)))
			}
			for _, a := range d.Alerts {
				sec.List = append(sec.List, d.Date+"  "+alertLine(a, tu, loc)+alertNotes(a))
			}
			for _, l := range d.ManualLogs {
				line := fmt.Sprintf("%s  Manual log %s: %s by %s", d.Date, l.RecordedAt.In(loc).Format(hourMin),
					formatTemp(l.TemperatureC, tu), nameOr(l.By))
				if l.Notes != nil && *l.Notes != "" {
					line += fmt.Sprintf(", note %q", *l.Notes)
				}
				if l.CorrectiveAction != nil && *l.CorrectiveAction != "" {
					line += fmt.Sprintf(", corrective action %q", *l.CorrectiveAction)
				}
				sec.List = append(sec.List, line)
			}
		}
		doc.Sections = append(doc.Sections, sec)
	}
	return doc
}

// alertNotes are an alert's notes and corrective actions, appended to its
// line.
func alertNotes(a Alert) string {
	var s string
	if a.AcknowledgedNote != nil && *a.AcknowledgedNote != "" {
		s += fmt.Sprintf("; acknowledgement note %q", *a.AcknowledgedNote)
	}
	if a.ResolvedNote != nil && *a.ResolvedNote != "" {
		s += fmt.Sprintf("; resolution note %q", *a.ResolvedNote)
	}
	for _, c := range a.CorrectiveActions {
		s += fmt.Sprintf("; corrective action %s by %s", c.Describe(), nameOr(c.RecordedBy))
	}
	return s
}

// Document lays out the daily log: per unit a line per day with the
// morning and afternoon checks.
func (l DailyLog) Document() Document {
	doc := Document{Title: KindDailyLog.Title() + " - " + l.Organization.Name,
		Meta: l.meta(domain.Location(l.Organization.TimeZone)), GeneratedAt: l.GeneratedAt, Empty: "No units in this report."}
	tu := l.TempUnit
	for _, u := range l.Units {
		loc := domain.Location(u.Unit.TimeZone)
		sec := Section{Heading: unitHeading(u.Unit), Paragraphs: []Paragraph{{Text: fmt.Sprintf(
			"Range %s to %s. AM check nearest %s, PM check nearest %s (%s): a person's manual reading of that half-day when "+
				"there is one (with their name), else the sensor's.", formatTemp(u.Unit.TempMinC, tu),
			formatTemp(u.Unit.TempMaxC, tu), l.AMCheck, l.PMCheck, u.Unit.TimeZone)}}}
		t := &Table{Columns: []Column{{"Date", 22, false}, {"AM time", 16, false}, {"AM", 16, true}, {"AM by", 28, false},
			{"PM time", 16, false}, {"PM", 16, true}, {"PM by", 28, false}, {"Min", 15, true}, {"Max", 15, true},
			{"Status", 20, false}, {"Corrective actions", 85, false}}}
		for _, d := range u.Days {
			row := []string{d.Date}
			for _, c := range []*Check{d.AM, d.PM} {
				if c == nil {
					row = append(row, "-", "-", "")
					continue
				}
				by := "sensor"
				if c.Source == CheckManual {
					by = nameOr(c.By)
				}
				v := FormatNumber(c.Temperature)
				if !c.InRange {
					v += " !"
				}
				row = append(row, c.At.In(loc).Format(hourMin), v, by)
			}
			row = append(row, numOr(d.Min), numOr(d.Max), strings.ReplaceAll(d.Status, "_", " "), actionsText(d.Actions, loc))
			t.Rows = append(t.Rows, Row{Cells: row, Flag: d.Status == DayException})
		}
		t.Empty = "No days in this period."
		sec.Table = t
		doc.Sections = append(doc.Sections, sec)
	}
	return doc
}

// actionsText joins actions for a table cell.
func actionsText(as []ActionEntry, loc *time.Location) string {
	parts := make([]string, 0, len(as))
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("%s %s (%s)", a.At.In(loc).Format(hourMin), a.Text, nameOr(a.By)))
	}
	return strings.Join(parts, "; ")
}

// Document lays out the exceptions report: per unit its exceptions, or a
// line saying there were none.
func (x Exceptions) Document() Document {
	doc := Document{Title: KindExceptions.Title() + " - " + x.Organization.Name,
		Meta: x.meta(domain.Location(x.Organization.TimeZone)), GeneratedAt: x.GeneratedAt, Empty: "No units in this report."}
	t := x.Totals
	for i, u := range x.Units {
		loc := domain.Location(u.Unit.TimeZone)
		sec := Section{Heading: unitHeading(u.Unit)}
		if i == 0 {
			sec.Paragraphs = append(sec.Paragraphs, Paragraph{Bold: true, Text: fmt.Sprintf(
				"All units: %d excursions, %d monitoring gaps, %d alerts (%d without a corrective action on record), "+
					"%d manual readings out of range, %d corrective actions recorded.",
				t.Excursions, t.Gaps, t.Alerts, t.AlertsWithoutCorrective, t.ManualLogsOutOfRange, t.CorrectiveActions)})
		}
		sec.Paragraphs = append(sec.Paragraphs, Paragraph{Text: fmt.Sprintf("Range %s to %s (%s).",
			formatTemp(u.Unit.TempMinC, x.TempUnit), formatTemp(u.Unit.TempMaxC, x.TempUnit), u.Unit.TimeZone)})
		tb := &Table{Columns: []Column{{"Date", 22, false}, {"Start", 14, false}, {"End", 28, false}, {"Kind", 30, false},
			{"What happened", 95, false}, {"Corrective actions", 88, false}}, Empty: "No exceptions in this period."}
		for _, e := range u.Exceptions {
			end := ""
			if e.End != nil {
				end = e.End.In(loc).Format(dateTime)
			}
			acts := actionsText(e.Actions, loc)
			if acts == "" && e.Kind != ExceptionGap {
				acts = "none recorded"
			}
			tb.Rows = append(tb.Rows, Row{Cells: []string{e.Date, e.Start.In(loc).Format(hourMin), end,
				strings.ReplaceAll(e.Kind, "_", " "), e.Description, acts}, Flag: acts == "none recorded"})
		}
		sec.Table = tb
		doc.Sections = append(doc.Sections, sec)
	}
	return doc
}

// Document lays out the manual-entries report: per unit its entries and
// the entries it missed.
func (m ManualEntries) Document() Document {
	doc := Document{Title: KindManualEntries.Title() + " - " + m.Organization.Name,
		Meta: m.meta(domain.Location(m.Organization.TimeZone)), GeneratedAt: m.GeneratedAt, Empty: "No units in this report."}
	tu := m.TempUnit
	for i, u := range m.Units {
		loc := domain.Location(u.Unit.TimeZone)
		sec := Section{Heading: unitHeading(u.Unit), ListHeading: "Missed entries",
			ListEmpty: "No missed entries in this period."}
		if i == 0 {
			sec.Paragraphs = append(sec.Paragraphs, Paragraph{Bold: true, Text: fmt.Sprintf(
				"All units: %d manual entries, %d out of range, %d missed.", m.Totals.Entries, m.Totals.OutOfRange, m.Totals.Missed)})
		}
		required := "Manual logs are not required for this unit."
		if u.Unit.ManualLogIntervalSeconds != nil {
			required = fmt.Sprintf("A manual log is required every %s.", time.Duration(*u.Unit.ManualLogIntervalSeconds)*time.Second)
		}
		sec.Paragraphs = append(sec.Paragraphs, Paragraph{Text: fmt.Sprintf("Range %s to %s (%s). %s",
			formatTemp(u.Unit.TempMinC, tu), formatTemp(u.Unit.TempMaxC, tu), u.Unit.TimeZone, required)})
		t := &Table{Columns: []Column{{"Date", 22, false}, {"Time", 14, false}, {"Temperature", 22, true}, {"In range", 16, false},
			{"By", 40, false}, {"Note", 85, false}, {"Corrective action", 78, false}}, Empty: "No manual entries in this period."}
		for _, e := range u.Entries {
			in := "yes"
			if !e.InRange {
				in = "NO"
			}
			t.Rows = append(t.Rows, Row{Flag: !e.InRange, Cells: []string{e.Date, e.RecordedAt.In(loc).Format(hourMin),
				FormatNumber(domain.FromCelsius(e.TemperatureC, tu)), in, nameOr(e.By), deref(e.Notes), deref(e.CorrectiveAction)}})
		}
		sec.Table = t
		for _, a := range u.Missed {
			sec.List = append(sec.List, fmt.Sprintf("%s  %s", a.TriggeredAt.In(loc).Format(dateTime), alertLine(a, tu, loc)))
		}
		doc.Sections = append(doc.Sections, sec)
	}
	return doc
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// formatTemp prints a °C temperature in the display unit, as the report's
// tables do (two decimals).
func formatTemp(c float64, tu domain.TempUnit) string {
	tu = UnitOrCelsius(tu)
	return FormatNumber(domain.FromCelsius(c, tu)) + " °" + string(tu)
}
