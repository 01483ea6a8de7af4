package alerting

import (
	"fmt"
	"math"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// CoolingRule is the suspected-cooling-failure rule of a unit: a unit whose
// temperature rises steadily while still in range warns before the
// excursion (a compressor that stopped, a door left ajar).
//
// It judges the last Readings sensor temperatures (this one included):
// the unit is ok (in range, no excursion), the readings span at least
// CoolingMinSpan, none lies in a defrost window, and a least-squares line
// through them rises at least SlopeCPerHour (°C per hour) with a fit of
// R² >= CoolingMinFit (a steady rise, not the sawtooth of a compressor
// cycling) and a rise of at least CoolingMinRiseC across the window. Then a
// suspected_cooling_failure warning opens (once). It resolves when the same
// fit over the last readings (at least MinCoolingReadings) no longer rises
// (slope <= 0): the cooling is working again.
type CoolingRule struct {
	SlopeCPerHour float64 // 0: the rule is off
	Readings      int     // N; clamped to [MinCoolingReadings, MaxCoolingReadings]
}

// Defaults and limits of the cooling rule.
const (
	DefaultCoolingSlopeCPerHour = 1.5
	DefaultCoolingReadings      = 15
	MinCoolingReadings          = 4
	MaxCoolingReadings          = 30
	MinCoolingSlopeCPerHour     = 0.2
	MaxCoolingSlopeCPerHour     = 50
	// CoolingMinSpan: the readings judged must cover at least this long,
	// longer than a compressor's cycle (off 35 min, on 20 min is common
	// at low load), so the climb of one off-period is never a trend.
	CoolingMinSpan = 60 * time.Minute
	// CoolingMaxAge: readings older than this before the current one are
	// not part of its trend (after a long gap the trend starts over).
	CoolingMaxAge = 6 * time.Hour
	// CoolingMinFit is the R² a rise must reach to count as steady.
	CoolingMinFit = 0.8
	// CoolingMinRiseC: the fitted line must rise at least this much across
	// the window (a tiny slope over a long window is not a failure).
	CoolingMinRiseC = 1.0
)

func (r CoolingRule) readings() int {
	return min(max(r.Readings, MinCoolingReadings), MaxCoolingReadings)
}

// coolingTrend applies the cooling rule after a plausible sensor reading t.
func (e *evaluator) coolingTrend(t float64) {
	rule := e.cfg.Cooling
	isOpen := e.open.Unit[TypeSuspectedCooling]
	if rule.SlopeCPerHour <= 0 && !isOpen {
		return
	}
	window := e.trendWindow(t, rule.readings())
	if len(window) < MinCoolingReadings {
		return
	}
	for _, s := range window {
		if _, in := e.cfg.defrostWindowAt(s.At); in {
			return // a defrost is not a trend
		}
	}
	slope, fit := fitLine(window)
	first, last := window[0], window[len(window)-1]
	span := last.At.Sub(first.At)
	data := func() map[string]any {
		return map[string]any{"slope_c_per_hour": round2(slope), "fit_r2": round2(fit), "readings": len(window),
			"window_minutes": int(span / time.Minute), "temperature_c": t, "threshold_c_per_hour": rule.SlopeCPerHour}
	}
	if isOpen {
		if slope <= 0 {
			e.resolveUnit(TypeSuspectedCooling, fmt.Sprintf("cooling resumed: temperature falling over the last %d readings", len(window)), data)
		}
		return
	}
	if rule.SlopeCPerHour <= 0 || e.d.State.Status != domain.UnitOK || len(window) < rule.readings() || span < CoolingMinSpan {
		return
	}
	rise := slope * span.Hours()
	if slope < rule.SlopeCPerHour || fit < CoolingMinFit || rise < CoolingMinRiseC {
		return
	}
	e.openAlert(OpenAlert{Type: TypeSuspectedCooling, Severity: SeverityWarning, Title: "Suspected cooling failure",
		Message: fmt.Sprintf("Temperature rising %.1f °C/h over the last %d min (%s to %s) while still in range: the cooling may have failed.",
			slope, int(span/time.Minute), domain.Format(first.C, domain.Celsius), domain.Format(t, domain.Celsius)),
		TemperatureC: &t, At: e.obs.At}, data())
}

// trendWindow is the last n sensor temperatures up to this reading: the
// unit's recent ones before it (no older than CoolingMaxAge) and t.
func (e *evaluator) trendWindow(t float64, n int) []Sample {
	at := e.obs.At
	out := make([]Sample, 0, n)
	for _, s := range e.d.State.Recent {
		if s.At.Before(at) && at.Sub(s.At) <= CoolingMaxAge && finite(s.C) {
			out = append(out, s)
		}
	}
	out = append(out, Sample{At: at, C: t})
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// fitLine is the least-squares line through the samples: its slope in °C
// per hour and its R² (1 for a perfect line; 0 when the temperatures do not
// vary or the times do not).
func fitLine(ss []Sample) (slopePerHour, r2 float64) {
	n := float64(len(ss))
	if n < 2 {
		return 0, 0
	}
	t0 := ss[0].At
	var sx, sy float64
	for _, s := range ss {
		sx += s.At.Sub(t0).Hours()
		sy += s.C
	}
	mx, my := sx/n, sy/n
	var sxx, sxy, syy float64
	for _, s := range ss {
		dx, dy := s.At.Sub(t0).Hours()-mx, s.C-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	if sxx == 0 {
		return 0, 0
	}
	slopePerHour = sxy / sxx
	if syy == 0 {
		return slopePerHour, 0
	}
	return slopePerHour, (sxy * sxy) / (sxx * syy)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
