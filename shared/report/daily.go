package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// half is a morning (00:00-12:00) or afternoon (12:00-24:00) of a unit's
// local day: its sensor readings' extremes and the reading nearest to the
// half's check time.
type half struct {
	start, end, checkAt time.Time
	count               int
	min, max            float64
	nearest             Reading
	distance            time.Duration
}

func (h *half) add(r Reading) {
	d := r.At.Sub(h.checkAt).Abs()
	if h.count == 0 || r.TempC < h.min {
		h.min = r.TempC
	}
	if h.count == 0 || r.TempC > h.max {
		h.max = r.TempC
	}
	// the earlier of two readings equally near: readings come oldest first
	if h.count == 0 || d < h.distance {
		h.nearest, h.distance = r, d
	}
	h.count++
}

// halfOf is 0 for the morning, 1 for the afternoon.
func (d *Day) halfOf(t time.Time) int {
	if t.Before(d.halves[1].start) {
		return 0
	}
	return 1
}

// Check sources: a hand reading (a person checked, with their name) or the
// sensor reading nearest to the check time.
const (
	CheckManual = "manual"
	CheckSensor = "sensor"
)

// Check is a morning or afternoon entry of the daily log.
type Check struct {
	At           time.Time `json:"at"`
	TemperatureC float64   `json:"temperature_c"`
	Temperature  float64   `json:"temperature"`
	InRange      bool      `json:"in_range"`
	Source       string    `json:"source"`
	// By is who logged a manual check (null for a sensor reading).
	By   *string `json:"by"`
	Note *string `json:"note"`
}

// ActionEntry is a corrective action as the daily log and the exceptions
// list it: a recorded action of an alert, or a manual log's own note.
type ActionEntry struct {
	At          time.Time `json:"at"`
	By          *string   `json:"by"`
	Text        string    `json:"text"`
	AlertID     *string   `json:"alert_id"`
	ManualLogID *string   `json:"manual_log_id"`
}

// Daily log day statuses.
const (
	DayOK        = "ok"
	DayException = "exception" // out of range, a gap or an alert
	DayNoData    = "no_data"
)

// DailyLogDay is one line of the daily temperature log.
type DailyLogDay struct {
	Date string `json:"date"`
	// AM and PM are the morning and afternoon checks (null: no reading in
	// that half of the day).
	AM             *Check        `json:"am"`
	PM             *Check        `json:"pm"`
	MinC           *float64      `json:"min_c"`
	MaxC           *float64      `json:"max_c"`
	Min            *float64      `json:"min"`
	Max            *float64      `json:"max"`
	InRangePercent *float64      `json:"in_range_percent"`
	ExcursionCount int           `json:"excursion_count"`
	GapCount       int           `json:"gap_count"`
	AlertCount     int           `json:"alert_count"`
	Actions        []ActionEntry `json:"corrective_actions"`
	Status         string        `json:"status"`
}

// DailyLogUnit is one unit's daily log.
type DailyLogUnit struct {
	Unit UnitInfo      `json:"unit"`
	Days []DailyLogDay `json:"days"`
}

// DailyLog is the daily temperature log health inspectors ask for: per
// unit and local day, a morning and an afternoon check (a person's manual
// log of that half of the day when there is one, else the sensor reading
// nearest to the check time), the day's extremes and what was done about
// any problem.
type DailyLog struct {
	Header
	AMCheck string         `json:"am_check"` // HH:MM, local
	PMCheck string         `json:"pm_check"`
	Units   []DailyLogUnit `json:"units"`
}

// Header is what every report variant starts with.
type Header struct {
	Kind         Kind            `json:"kind"`
	Organization Organization    `json:"organization"`
	TempUnit     domain.TempUnit `json:"temp_unit"`
	From         time.Time       `json:"from"`
	To           time.Time       `json:"to"`
	GeneratedAt  time.Time       `json:"generated_at"`
}

func (rep Report) header(k Kind) Header {
	return Header{Kind: k, Organization: rep.Organization, TempUnit: UnitOrCelsius(rep.TempUnit), From: rep.From, To: rep.To,
		GeneratedAt: rep.GeneratedAt}
}

// NewDailyLog derives the daily log from a computed report (its Options'
// check times are the log's).
func NewDailyLog(rep Report, o Options) DailyLog {
	checks := o.checkTimes()
	out := DailyLog{Header: rep.header(KindDailyLog), AMCheck: clock(checks[0]), PMCheck: clock(checks[1]),
		Units: make([]DailyLogUnit, 0, len(rep.Units))}
	tu := out.TempUnit
	for _, ur := range rep.Units {
		u := DailyLogUnit{Unit: ur.Unit, Days: make([]DailyLogDay, 0, len(ur.Days))}
		for _, d := range ur.Days {
			line := DailyLogDay{Date: d.Date, MinC: d.MinC, MaxC: d.MaxC, Min: d.Min, Max: d.Max, InRangePercent: d.InRangePercent,
				ExcursionCount: d.ExcursionCount, GapCount: d.GapCount, AlertCount: d.AlertCount, Actions: dayActions(d)}
			line.AM, line.PM = d.check(0, ur.Unit, tu), d.check(1, ur.Unit, tu)
			switch {
			case d.Readings == 0 && d.ManualLogCount == 0:
				line.Status = DayNoData
			case d.OutOfRangeSeconds > 0 || d.ExcursionCount > 0 || d.GapCount > 0 || d.AlertCount > 0 ||
				(line.AM != nil && !line.AM.InRange) || (line.PM != nil && !line.PM.InRange):
				line.Status = DayException
			default:
				line.Status = DayOK
			}
			u.Days = append(u.Days, line)
		}
		out.Units = append(out.Units, u)
	}
	return out
}

// check is the day's entry for half h: the manual log of that half nearest
// to its check time (a person checked), else the sensor reading nearest to
// it.
func (d Day) check(h int, u UnitInfo, tu domain.TempUnit) *Check {
	hf := d.halves[h]
	var manual *ManualLog
	var best time.Duration
	for i, l := range d.ManualLogs {
		if l.RecordedAt.Before(hf.start) || !l.RecordedAt.Before(hf.end) {
			continue
		}
		dist := l.RecordedAt.Sub(hf.checkAt).Abs()
		if manual == nil || dist < best {
			manual, best = &d.ManualLogs[i], dist
		}
	}
	if manual != nil {
		return &Check{At: manual.RecordedAt, TemperatureC: manual.TemperatureC, Temperature: domain.FromCelsius(manual.TemperatureC, tu),
			InRange: withinLimits(manual.TemperatureC, u), Source: CheckManual, By: manual.By, Note: manual.Notes}
	}
	if hf.count == 0 {
		return nil
	}
	r := hf.nearest
	return &Check{At: r.At.UTC(), TemperatureC: r.TempC, Temperature: domain.FromCelsius(r.TempC, tu), InRange: withinLimits(r.TempC, u),
		Source: CheckSensor}
}

func withinLimits(c float64, u UnitInfo) bool { return c >= u.TempMinC && c <= u.TempMaxC }

// dayActions are the corrective actions of the day's alerts and manual
// logs, oldest first.
func dayActions(d Day) []ActionEntry {
	out := []ActionEntry{}
	for _, a := range d.Alerts {
		out = append(out, alertActions(a)...)
	}
	for _, l := range d.ManualLogs {
		if l.CorrectiveAction != nil && *l.CorrectiveAction != "" {
			id := l.ID
			out = append(out, ActionEntry{At: l.RecordedAt, By: l.By, Text: *l.CorrectiveAction, ManualLogID: &id})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// alertActions are an alert's recorded corrective actions, or else the
// note it was resolved with by a person (the corrective action written
// before actions were recorded one by one).
func alertActions(a Alert) []ActionEntry {
	id := a.ID
	var out []ActionEntry
	for _, c := range a.CorrectiveActions {
		out = append(out, ActionEntry{At: c.RecordedAt, By: c.RecordedBy, Text: c.Describe(), AlertID: &id})
	}
	if len(out) == 0 && a.ResolvedAt != nil && a.ResolvedBy != nil && a.ResolvedNote != nil && *a.ResolvedNote != "" {
		out = append(out, ActionEntry{At: *a.ResolvedAt, By: a.ResolvedBy, Text: *a.ResolvedNote, AlertID: &id})
	}
	return out
}

// clock prints an offset after midnight as HH:MM.
func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// ParseClock reads HH:MM (00:00 to 23:59) as an offset after midnight.
func ParseClock(s string) (time.Duration, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true
}
