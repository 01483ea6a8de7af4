package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// Kind names a report variant (the last segment of its route).
type Kind string

// The report variants.
const (
	KindHACCP         Kind = "haccp"
	KindDailyLog      Kind = "daily-log"
	KindExceptions    Kind = "exceptions"
	KindManualEntries Kind = "manual-entries"
)

// Kinds lists every variant.
var Kinds = []Kind{KindHACCP, KindDailyLog, KindExceptions, KindManualEntries}

// Title is the variant's name on paper.
func (k Kind) Title() string {
	switch k {
	case KindDailyLog:
		return "Daily temperature log"
	case KindExceptions:
		return "Exceptions report"
	case KindManualEntries:
		return "Manual temperature entries"
	}
	return "HACCP temperature compliance report"
}

// Exception kinds.
const (
	ExceptionExcursion        = "excursion"
	ExceptionGap              = "gap"
	ExceptionAlert            = "alert"
	ExceptionManualOutOfRange = "manual_log_out_of_range"
)

// Exception is one thing that went wrong: an excursion, a monitoring gap,
// an alert (with its handling and corrective actions) or a hand reading out
// of range.
type Exception struct {
	Kind            string     `json:"kind"`
	Date            string     `json:"date"`
	Start           time.Time  `json:"start"`
	End             *time.Time `json:"end"`
	DurationSeconds *int64     `json:"duration_seconds"`
	Direction       string     `json:"direction,omitempty"`
	PeakC           *float64   `json:"peak_c,omitempty"`
	Peak            *float64   `json:"peak,omitempty"`
	Alert           *Alert     `json:"alert,omitempty"`
	ManualLog       *ManualLog `json:"manual_log,omitempty"`
	// Description is the exception in one line, in the display unit.
	Description string        `json:"description"`
	Actions     []ActionEntry `json:"corrective_actions"`
}

// ExceptionsUnit is one unit's exceptions, oldest first (empty: none).
type ExceptionsUnit struct {
	Unit       UnitInfo    `json:"unit"`
	Exceptions []Exception `json:"exceptions"`
}

// ExceptionTotals count the report's exceptions by kind.
type ExceptionTotals struct {
	Excursions              int `json:"excursions"`
	Gaps                    int `json:"gaps"`
	Alerts                  int `json:"alerts"`
	ManualLogsOutOfRange    int `json:"manual_logs_out_of_range"`
	CorrectiveActions       int `json:"corrective_actions"`
	AlertsWithoutCorrective int `json:"alerts_without_corrective_action"`
}

// Exceptions is the exceptions-only report: what went wrong and what was
// done about it, every unit listed (a unit without exceptions says so).
type Exceptions struct {
	Header
	Totals ExceptionTotals  `json:"totals"`
	Units  []ExceptionsUnit `json:"units"`
}

// NewExceptions derives the exceptions report from a computed report.
func NewExceptions(rep Report) Exceptions {
	out := Exceptions{Header: rep.header(KindExceptions), Units: make([]ExceptionsUnit, 0, len(rep.Units))}
	tu := out.TempUnit
	for _, ur := range rep.Units {
		loc := domain.Location(ur.Unit.TimeZone)
		u := ExceptionsUnit{Unit: ur.Unit, Exceptions: []Exception{}}
		for _, d := range ur.Days {
			for _, x := range d.Excursions {
				end, dur, peakC, peak := x.End, x.DurationSeconds, x.PeakC, x.Peak
				u.Exceptions = append(u.Exceptions, Exception{Kind: ExceptionExcursion, Date: d.Date, Start: x.Start, End: &end,
					DurationSeconds: &dur, Direction: x.Direction, PeakC: &peakC, Peak: &peak, Actions: []ActionEntry{},
					Description: fmt.Sprintf("Temperature %s the range for %s min, peak %s", x.Direction,
						FormatMinutes(x.DurationSeconds), formatTemp(x.PeakC, tu))})
				out.Totals.Excursions++
			}
			for _, g := range d.Gaps {
				end, dur := g.End, g.DurationSeconds
				u.Exceptions = append(u.Exceptions, Exception{Kind: ExceptionGap, Date: d.Date, Start: g.Start, End: &end,
					DurationSeconds: &dur, Actions: []ActionEntry{},
					Description: fmt.Sprintf("No readings for %s min", FormatMinutes(g.DurationSeconds))})
				out.Totals.Gaps++
			}
			for i := range d.Alerts {
				a := d.Alerts[i]
				e := Exception{Kind: ExceptionAlert, Date: d.Date, Start: a.TriggeredAt, End: a.ResolvedAt, Alert: &a,
					Actions: nonNil(alertActions(a)), Description: alertLine(a, tu, loc)}
				if a.ResolvedAt != nil {
					dur := seconds(a.ResolvedAt.Sub(a.TriggeredAt))
					e.DurationSeconds = &dur
				}
				u.Exceptions = append(u.Exceptions, e)
				out.Totals.Alerts++
				out.Totals.CorrectiveActions += len(a.CorrectiveActions)
				if len(e.Actions) == 0 {
					out.Totals.AlertsWithoutCorrective++
				}
			}
			for i := range d.ManualLogs {
				l := d.ManualLogs[i]
				if withinLimits(l.TemperatureC, ur.Unit) {
					continue
				}
				e := Exception{Kind: ExceptionManualOutOfRange, Date: d.Date, Start: l.RecordedAt, ManualLog: &l, Actions: []ActionEntry{},
					Description: fmt.Sprintf("Manual reading %s out of range, logged by %s", formatTemp(l.TemperatureC, tu), nameOr(l.By))}
				if l.CorrectiveAction != nil && *l.CorrectiveAction != "" {
					id := l.ID
					e.Actions = append(e.Actions, ActionEntry{At: l.RecordedAt, By: l.By, Text: *l.CorrectiveAction, ManualLogID: &id})
				}
				u.Exceptions = append(u.Exceptions, e)
				out.Totals.ManualLogsOutOfRange++
			}
		}
		sort.SliceStable(u.Exceptions, func(i, j int) bool { return u.Exceptions[i].Start.Before(u.Exceptions[j].Start) })
		out.Units = append(out.Units, u)
	}
	return out
}

// alertLine describes an alert and its handling in one line.
func alertLine(a Alert, tu domain.TempUnit, loc *time.Location) string {
	line := fmt.Sprintf("Alert %s [%s]: %s", a.Type, a.Severity, a.Title)
	if a.TemperatureC != nil {
		line += " at " + formatTemp(*a.TemperatureC, tu)
	}
	if a.AcknowledgedAt != nil {
		line += fmt.Sprintf("; acknowledged %s by %s", a.AcknowledgedAt.In(loc).Format("2006-01-02 15:04"), nameOr(a.AcknowledgedBy))
	}
	switch {
	case a.ResolvedAt != nil && a.ResolvedBy == nil && a.Resolution != nil && *a.Resolution == "auto":
		line += fmt.Sprintf("; resolved automatically %s", a.ResolvedAt.In(loc).Format("2006-01-02 15:04"))
	case a.ResolvedAt != nil:
		line += fmt.Sprintf("; resolved %s by %s", a.ResolvedAt.In(loc).Format("2006-01-02 15:04"), nameOr(a.ResolvedBy))
	default:
		line += "; still open"
	}
	return line
}

func nameOr(s *string) string {
	if s == nil || *s == "" {
		return "unknown"
	}
	return *s
}
