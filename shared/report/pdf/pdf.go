// Package pdf renders a HACCP report as PDF. It is its own package so that
// only the binary that serves reports links the PDF library: shared/store
// imports the report types, and with them every function would carry it.
package pdf

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/report"
)

// Options tune the rendering (tests turn compression off to read the
// page content as text).
type Options struct {
	NoCompression bool
}

// dayColumns is the daily table: header and width (mm, A4 landscape).
var dayColumns = []struct {
	title string
	width float64
}{
	{"Date", 24}, {"Readings", 18}, {"Min", 18}, {"Max", 18}, {"Avg", 18}, {"In range %", 22},
	{"No data min", 22}, {"Excursions", 20}, {"Exc. min", 20}, {"Gaps", 14}, {"Gap min", 18},
	{"Alerts", 16}, {"Manual logs", 21},
}

// Render renders the report: a page per unit with its summary, the
// daily table and the day's events (excursions, gaps, alerts with their
// notes, manual logs). Times are local to each unit's timezone,
// temperatures in the report's unit. The core fonts cover Windows-1252:
// other characters print as "?".
func Render(rep report.Report, o Options) ([]byte, error) {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCompression(!o.NoCompression)
	// resources in a fixed order: the same report renders the same bytes
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(rep.GeneratedAt)
	pdf.SetModificationDate(rep.GeneratedAt)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	tu := string(report.UnitOrCelsius(rep.TempUnit))
	deg := " °" + tu
	title := "HACCP temperature compliance report - " + rep.Organization.Name
	pdf.SetTitle(tr(title), false)
	pdf.SetAuthor("FrostGuard", false)
	pdf.SetAutoPageBreak(true, 15)
	pdf.AliasNbPages("")
	orgLoc := domain.Location(rep.Organization.TimeZone)
	pdf.SetHeaderFunc(func() {
		pdf.SetFont("Helvetica", "B", 9)
		pdf.CellFormat(0, 5, tr(title), "", 1, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 8)
		pdf.CellFormat(0, 4, tr(fmt.Sprintf("Period %s to %s (%s) - temperatures in%s - generated %s",
			rep.From.In(orgLoc).Format("2006-01-02 15:04"), rep.To.In(orgLoc).Format("2006-01-02 15:04"),
			orgLoc, deg, rep.GeneratedAt.In(orgLoc).Format("2006-01-02 15:04 MST"))), "B", 1, "L", false, 0, "")
		pdf.Ln(2)
	})
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "I", 8)
		pdf.CellFormat(0, 5, fmt.Sprintf("Page %d/{nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
	})

	if len(rep.Units) == 0 {
		pdf.AddPage()
		pdf.SetFont("Helvetica", "", 10)
		pdf.CellFormat(0, 6, "No units in this report.", "", 1, "L", false, 0, "")
	}
	for _, ur := range rep.Units {
		pdfUnit(pdf, tr, ur, deg)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func pdfUnit(pdf *fpdf.Fpdf, tr func(string) string, ur report.UnitReport, deg string) {
	loc := domain.Location(ur.Unit.TimeZone)
	local := func(t time.Time, layout string) string { return t.In(loc).Format(layout) }
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 13)
	pdf.CellFormat(0, 7, tr(strings.Join(nonEmpty(ur.Unit.SiteName, ur.Unit.AreaName, ur.Unit.Name), " / ")), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	pdf.MultiCell(0, 5, tr(fmt.Sprintf("%s to %s (%s). Range %s to %s%s. Check-in every %s; a silence over %s is a gap.",
		local(ur.From, "2006-01-02 15:04"), local(ur.To, "2006-01-02 15:04"), ur.Unit.TimeZone,
		report.FormatNumber(ur.Unit.TempMin), report.FormatNumber(ur.Unit.TempMax), deg,
		time.Duration(ur.Unit.CheckinIntervalSeconds)*time.Second, 2*time.Duration(ur.Unit.CheckinIntervalSeconds)*time.Second)), "", "L", false)
	s := ur.Summary
	pdf.SetFont("Helvetica", "B", 9)
	pdf.MultiCell(0, 5, tr(fmt.Sprintf("Summary: %d readings, min %s, max %s, avg %s%s; %s%% of the time in range; "+
		"%d excursions (%s min); %d gaps (%s min); %s min without data; %d alerts; %d manual logs.",
		s.Readings, numOr(s.Min), numOr(s.Max), numOr(s.Avg), deg, numOr(s.InRangePercent),
		s.ExcursionCount, report.FormatMinutes(s.ExcursionSeconds), s.GapCount, report.FormatMinutes(s.GapSeconds), report.FormatMinutes(s.NoDataSeconds),
		s.AlertCount, s.ManualLogCount)), "", "L", false)
	pdf.Ln(2)

	tableHeader := func() {
		pdf.SetFont("Helvetica", "B", 8)
		pdf.SetFillColor(225, 232, 240)
		for _, c := range dayColumns {
			pdf.CellFormat(c.width, 6, c.title, "1", 0, "C", true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont("Helvetica", "", 8)
	}
	tableHeader()
	_, pageH := pdf.GetPageSize()
	for _, d := range ur.Days {
		if pdf.GetY()+5 > pageH-15 {
			pdf.AddPage()
			tableHeader()
		}
		st := d.Stats
		cells := []string{d.Date, strconv.Itoa(st.Readings), numOr(st.Min), numOr(st.Max), numOr(st.Avg), numOr(st.InRangePercent),
			report.FormatMinutes(st.NoDataSeconds), strconv.Itoa(st.ExcursionCount), report.FormatMinutes(st.ExcursionSeconds), strconv.Itoa(st.GapCount),
			report.FormatMinutes(st.GapSeconds), strconv.Itoa(st.AlertCount), strconv.Itoa(st.ManualLogCount)}
		flag := st.ExcursionCount > 0 || st.OutOfRangeSeconds > 0 || st.GapCount > 0
		if flag {
			pdf.SetFillColor(253, 236, 234)
		}
		for i, c := range dayColumns {
			align := "R"
			if i == 0 {
				align = "L"
			}
			pdf.CellFormat(c.width, 5, cells[i], "1", 0, align, flag, 0, "")
		}
		pdf.Ln(-1)
	}

	var events []string
	for _, d := range ur.Days {
		for _, x := range d.Excursions {
			events = append(events, fmt.Sprintf("%s  Excursion %s the range from %s to %s (%s min), peak %s%s",
				d.Date, x.Direction, local(x.Start, "15:04"), local(x.End, "2006-01-02 15:04"), report.FormatMinutes(x.DurationSeconds), report.FormatNumber(x.Peak), deg))
		}
		for _, g := range d.Gaps {
			events = append(events, fmt.Sprintf("%s  Monitoring gap from %s to %s (%s min) without readings",
				d.Date, local(g.Start, "15:04"), local(g.End, "2006-01-02 15:04"), report.FormatMinutes(g.DurationSeconds)))
		}
		for _, a := range d.Alerts {
			line := fmt.Sprintf("%s  Alert %s [%s, %s]: %s, triggered %s", d.Date, a.Type, a.Severity, a.Status, a.Title, local(a.TriggeredAt, "15:04"))
			if a.Temperature != nil {
				line += fmt.Sprintf(" at %s%s", report.FormatNumber(*a.Temperature), deg)
			}
			if a.AcknowledgedAt != nil {
				line += fmt.Sprintf("; acknowledged %s by %s", local(*a.AcknowledgedAt, "2006-01-02 15:04"), nameOr(a.AcknowledgedBy))
				if a.AcknowledgedNote != nil && *a.AcknowledgedNote != "" {
					line += fmt.Sprintf(": %q", *a.AcknowledgedNote)
				}
			}
			if a.ResolvedAt != nil && a.ResolvedBy == nil && a.Resolution != nil && *a.Resolution == "auto" {
				line += fmt.Sprintf("; resolved automatically %s", local(*a.ResolvedAt, "2006-01-02 15:04"))
			} else if a.ResolvedAt != nil {
				line += fmt.Sprintf("; resolved %s by %s", local(*a.ResolvedAt, "2006-01-02 15:04"), nameOr(a.ResolvedBy))
				if a.ResolvedNote != nil && *a.ResolvedNote != "" {
					line += fmt.Sprintf(" (corrective action: %q)", *a.ResolvedNote)
				}
			}
			events = append(events, line)
		}
		for _, l := range d.ManualLogs {
			line := fmt.Sprintf("%s  Manual log %s: %s%s by %s", d.Date, local(l.RecordedAt, "15:04"), report.FormatNumber(l.Temperature), deg, nameOr(l.By))
			if l.Notes != nil && *l.Notes != "" {
				line += fmt.Sprintf(", note %q", *l.Notes)
			}
			if l.CorrectiveAction != nil && *l.CorrectiveAction != "" {
				line += fmt.Sprintf(", corrective action %q", *l.CorrectiveAction)
			}
			events = append(events, line)
		}
	}
	pdf.Ln(3)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(0, 6, "Events", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 8)
	if len(events) == 0 {
		pdf.CellFormat(0, 5, "No excursions, gaps, alerts or manual logs in this period.", "", 1, "L", false, 0, "")
	}
	for _, e := range events {
		pdf.MultiCell(0, 4.5, tr(e), "", "L", false)
	}
}

func numOr(v *float64) string {
	if v == nil {
		return "-"
	}
	return report.FormatNumber(*v)
}

func nameOr(s *string) string {
	if s == nil || *s == "" {
		return "unknown"
	}
	return *s
}

func nonEmpty(ss ...string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
