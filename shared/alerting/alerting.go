// Package alerting is FrostGuard's alert state machine (docs/ALERTING.md). It is
// pure: no I/O, no database, no clock. Time comes in the inputs and is always
// READING time (TTN received_at), never the time of the request, so a late
// delivery is judged at the time it was measured.
//
// One call to Evaluate judges one reading of one unit and returns what to
// persist in that reading's transaction: the unit's new state, alerts to
// open and to resolve, door transitions and audit-trail lines.
//
// # Temperature state machine
//
// A reading's temperature t (°C) falls in one of three zones, compared at
// 0.01 °C like the database stores it (numeric(6,2)):
//
//   - OUT:    t > MaxC or t < MinC
//   - BAND:   MinC+h <= t <= MaxC-h (h = HysteresisC, clamped to [0, (MaxC-MinC)/2])
//   - MARGIN: inside [MinC, MaxC] but outside the band (the hysteresis zone)
//
// Transitions (StatusSince is set to the reading's time on every status change):
//
//	status        OUT                                   MARGIN                    BAND
//	ok            -> excursion                          ok (hold)                 ok
//	excursion     alarm_active once confirmed(*),       excursion (hold; the      -> restoring, InBandCount=1
//	              else hold                             confirm timer keeps
//	                                                    running)
//	alarm_active  alarm_active (hold)                   alarm_active (hold)       -> restoring, InBandCount=1
//	restoring     -> excursion (re-excursion)           restoring, InBandCount=0  InBandCount+1; at 2 -> ok and
//	                                                    (streak broken)           resolve temp_excursion
//	other(**)     -> excursion                          -> restoring, count 0     -> restoring, InBandCount=1
//
// (*) confirmed: the reading is OUT and reading time - StatusSince >=
// ConfirmSeconds (DoorConfirmSeconds while the door is open, door state
// after this reading). Only an OUT reading confirms; a MARGIN reading never
// does. When confirmation is immediate (confirm time 0) the excursion is
// confirmed at the same reading that starts it. On confirmation a
// temp_excursion alert (critical) opens unless one is already open; if one is
// open (a re-excursion from restoring) nothing new opens and a "reconfirmed"
// event is written on it. Alerts only open on that transition: a unit that
// stays alarm_active after a person resolved its alert does not re-open one
// until it goes through a new excursion.
//
// (**) offline, monitoring_interrupted, manual_required (set by the
// sweeper, or by an implausible reading) or an unknown status: a
// temperature reading re-enters the machine as above, and resolves an open
// monitoring_interrupted alert (readings resumed). Recovery still needs two
// in-band readings to reach ok.
//
// Every rule of this package, with the test that proves it, is stated in
// docs/ALERTING.md (plausibility, the cooling trend, defrost windows and
// manual readings are in plausible.go, trend.go, defrost.go).
//
// A hovering fridge (OUT, MARGIN, OUT, MARGIN...) therefore pages after the
// confirm time: the margin holds the excursion, it does not reset it.
//
// # Late and duplicate readings
//
// A reading whose time is not after State.LastReadingAt (older, or the same
// instant: a duplicate) is Late: the unit state is returned unchanged (no
// status, count, door or last-reading change), nothing is resolved and no
// temperature alert opens. Only sensor_fault may still open from it (a
// decoder error or an implausible value is a fact about the device whenever
// it was measured). LastReadingAt is per unit: any reading (temperature,
// door-only) advances it.
//
// # Sensor-scoped alerts
//
//   - low_battery (warning): volts > 0 and < LowBatteryVolts, or percent <=
//     LowBatteryPercent. Resolves when every battery figure present has
//     recovered: volts >= LowBatteryVolts+0.1 and percent > LowBatteryPercent+10.
//     In between nothing changes (hysteresis).
//   - sensor_fault: decoder errors (Observation.Faults) open it as a warning;
//     an implausible temperature (not finite, or outside Config.Plausible,
//     see PlausibleRange), or the device's own report that the probe
//     measuring the unit is disconnected or failed (Observation.ProbeFailed),
//     opens it as critical: that probe no longer monitors the unit, which
//     shows monitoring_interrupted (unless an excursion or alarm is in
//     progress). An implausible temperature never drives the
//     temperature state machine. A reading without faults and with a
//     plausible temperature resolves it. An open warning is not upgraded in
//     place.
//
// A temperature that comes with decoder faults is still judged when it is
// plausible: the caller must leave TemperatureC nil when the temperature
// itself failed to decode.
//
// # What this package never does
//
// It never resolves an alert because escalation ran out of steps (the old
// system "expired" live alarms): resolving is only ever the condition
// clearing, or a person. Door-open-too-long and missed check-ins belong to
// the sweeper (see DoorOpenTooLong and Escalation for its pure helpers).
package alerting

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// Alert types, as alerts.type spells them.
const (
	TypeTempExcursion         = domain.AlertTempExcursion
	TypeMonitoringInterrupted = domain.AlertMonitoringInterrupted
	TypeMissedManualEntry     = domain.AlertMissedManualEntry
	TypeLowBattery            = domain.AlertLowBattery
	TypeSensorFault           = domain.AlertSensorFault
	TypeDoorOpen              = domain.AlertDoorOpen
	TypeSuspectedCooling      = domain.AlertSuspectedCoolingFailure
)

// Severities, as alerts.severity spells them.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Event kinds written to alert_events (all match ^[a-z][a-z0-9_]*$).
const (
	// KindTriggered accompanies every OpenAlert.
	KindTriggered = "triggered"
	// KindResolved accompanies every ResolveAlert.
	KindResolved = "resolved"
	// KindRestoring: the unit is back in the band, the open temp_excursion
	// alert waits for the second in-band reading.
	KindRestoring = "restoring"
	// KindExcursionResumed: a restoring unit left the range again while its
	// temp_excursion alert is still open (no second alert).
	KindExcursionResumed = "excursion_resumed"
	// KindReconfirmed: the resumed excursion lasted the confirm time again;
	// the open alert stands (no second alert, no new page).
	KindReconfirmed = "reconfirmed"
)

// Notification channels and kinds, as notifications.channel/kind spell them.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
	ChannelVoice = "voice" // a phone call (Telnyx Call Control)

	NotificationAlert    = "alert"
	NotificationResolved = "resolved"
	NotificationTest     = "test"
)

// Defaults and limits.
const (
	DefaultLowBatteryVolts   = domain.DefaultLowBatteryVolts
	DefaultLowBatteryPercent = domain.DefaultLowBatteryPercent
	// BatteryVoltsHysteresis and BatteryPercentHysteresis: a low battery
	// resolves only this far above its threshold.
	BatteryVoltsHysteresis   = 0.1
	BatteryPercentHysteresis = 10
	// InBandReadingsToRecover consecutive in-band readings take a restoring unit to ok.
	InBandReadingsToRecover = 2
)

// DefaultPlausible is the plausible range of a Config that does not set one
// (PlausibleRange of an "other" unit, no sensor model).
var DefaultPlausible = Range{-100, 150}

// Config is a unit's alerting configuration (°C, seconds).
type Config struct {
	MinC, MaxC, HysteresisC            float64
	ConfirmSeconds, DoorConfirmSeconds int
	LowBatteryVolts                    float64 // default 2.5 when 0
	LowBatteryPercent                  int     // default 10 when 0
	// Plausible is the range a reading of this unit can truly have
	// (PlausibleRange: unit type and sensor model); DefaultPlausible when
	// empty.
	Plausible Range
	// Cooling is the suspected-cooling-failure rule (trend.go); off when
	// its slope is 0.
	Cooling CoolingRule
	// Defrost is the unit's recurring defrost schedule, in Location's wall
	// clock (nil: UTC): a warm excursion that starts inside a window is not
	// confirmed before the window ends, and the cooling trend is not judged
	// across one.
	Defrost  []DefrostWindow
	Location *time.Location
}

// State is the unit's persisted alerting state (units columns).
type State struct {
	Status        domain.UnitStatus // ok, excursion, alarm_active, restoring (offline/monitoring_interrupted come from the sweeper)
	StatusSince   time.Time         // READING time of the last status change: confirm timers count from here
	InBandCount   int               // consecutive in-band readings while restoring
	LastReadingAt time.Time         // newest reading time processed (zero if none)
	DoorOpen      bool
	DoorChangedAt time.Time // time of the real open/close transition
	// LastTemperatureAt is the reading time of the newest plausible sensor
	// temperature: the unit's check-ins (a door-only or battery-only uplink
	// moves LastReadingAt, not this).
	LastTemperatureAt time.Time
	// Recent is an input only, never persisted by the engine: the unit's
	// sensor temperatures before this reading (oldest first, plausible
	// ones), for the cooling trend. The caller reads them from the stored
	// readings; Decision.State carries them unchanged.
	Recent []Sample
}

// Sample is one past temperature of a unit.
type Sample struct {
	At time.Time
	C  float64
}

// Open lists the unit's currently open alerts by type (and sensor-scoped
// ones by sensor id for low_battery/sensor_fault). Nil maps are fine.
type Open struct {
	Unit   map[string]bool            // alert type -> open
	Sensor map[string]map[string]bool // sensor id -> alert type -> open
}

// Observation is one reading (an uplink already decoded to °C), or a hand
// reading (Manual).
type Observation struct {
	At             time.Time // reading time (TTN received_at; a manual log's recorded_at)
	SensorID       string
	TemperatureC   *float64
	DoorOpen       *bool
	BatteryVolts   *float64
	BatteryPercent *int
	Faults         []string // decoder errors
	// ProbeFailed is the device's own report that the probe measuring the
	// unit is disconnected or failed (Dragino's 0x7FFF, a sensor error flag),
	// "" if none: the unit is not being measured, as with an implausible
	// temperature. TemperatureC is then nil.
	ProbeFailed string
	// Manual: a person's thermometer reading (a manual log). It is judged
	// by the temperature machine like a sensor reading, but it says nothing
	// about the sensors: it never resolves monitoring_interrupted or a
	// sensor fault, never counts as a check-in, never joins the cooling
	// trend; and it always resolves missed_manual_entry, late or not (a log
	// was taken).
	Manual bool
}

// Decision is what to persist, in the reading's transaction.
type Decision struct {
	State   State // the new state (equal to the input when nothing changed)
	Changed bool  // State differs from the input (status, in-band count, door, last reading)
	// Late: the observation is not newer than State.LastReadingAt (older, or
	// the same instant: a duplicate). Stored, judged for sensor faults, but
	// it never moves state (State is returned unchanged).
	Late bool
	// DoorTransition is set when the door changed open<->closed at this
	// reading (the store writes door_events only then).
	DoorTransition *DoorTransition
	Opens          []OpenAlert
	Resolves       []ResolveAlert
	// Events are audit trail lines (alert_events): what happened and why.
	// Each one is about the alert of AlertType (sensor-scoped ones carry
	// Data["sensor_id"]) that is open, or opened by this decision. Every
	// OpenAlert has one KindTriggered event and every ResolveAlert one
	// KindResolved event.
	Events []Event
}

// OpenAlert asks the store to open an alert (INSERT ... ON CONFLICT DO NOTHING
// on the one-open-per-(unit|sensor, type) index). At is the reading time
// that raised it (alerts.triggered_at; escalation counts from it).
type OpenAlert struct {
	Type, Severity, Title, Message string
	SensorID                       string // set only for low_battery and sensor_fault
	TemperatureC, LimitC           *float64
	At                             time.Time
}

// ResolveAlert asks the store to resolve the open alert of Type (and
// SensorID for sensor-scoped types) with resolution = auto.
type ResolveAlert struct {
	Type     string
	SensorID string
	At       time.Time
	Reason   string
}

// Event is one alert_events line.
type Event struct {
	AlertType, Kind, Note string
	At                    time.Time
	Data                  map[string]any
}

// DoorTransition is a real open/close change of the door.
type DoorTransition struct {
	Open bool
	At   time.Time
}

// zone of a temperature relative to the configured range.
type zone int

const (
	zoneBand zone = iota
	zoneMargin
	zoneOut
)

type evaluator struct {
	cfg  Config
	open Open
	obs  Observation
	d    *Decision
}

// Evaluate judges one observation of a unit. It never panics and never
// mutates its inputs.
func Evaluate(cfg Config, st State, open Open, obs Observation) Decision {
	cfg = cfg.normalized()
	d := Decision{State: st}
	e := evaluator{cfg: cfg, open: open, obs: obs, d: &d}

	temp, plausibleTemp, implausibleTemp := e.temperature()
	d.Late = !obs.At.After(st.LastReadingAt)

	if obs.Manual {
		// A log was taken, whenever it was measured.
		e.resolveUnit(TypeMissedManualEntry, "manual temperature log recorded", tempData(temp))
	} else {
		// A fault is a fact about the device, late or not.
		e.sensorFaultOpen(implausibleTemp, obs.ProbeFailed)
	}
	if d.Late {
		return d
	}

	d.State.LastReadingAt = obs.At
	e.door()
	if plausibleTemp {
		e.temperatureMachine(temp)
		if !obs.Manual {
			d.State.LastTemperatureAt = obs.At
			e.resolveUnit(TypeMonitoringInterrupted, "readings resumed", tempData(temp))
			e.coolingTrend(temp)
		}
	}
	if (implausibleTemp || obs.ProbeFailed != "") && !obs.Manual {
		e.implausibleStatus()
	}
	if !obs.Manual {
		e.battery()
		if plausibleTemp && len(obs.Faults) == 0 {
			e.resolveSensor(TypeSensorFault, "clean reading received", tempData(temp))
		}
	}
	d.Changed = !sameState(st, d.State)
	return d
}

// implausibleStatus: the unit's temperature is not being measured (its probe
// reads what cannot be true): an ok or recovering unit shows
// monitoring_interrupted. An excursion or alarm in progress is kept as it is
// (its confirm timer must not be reset by a broken second probe); readings
// re-enter the machine like after any interruption.
func (e *evaluator) implausibleStatus() {
	switch e.d.State.Status {
	case domain.UnitExcursion, domain.UnitAlarmActive, domain.UnitMonitoringInterrupted:
		return
	}
	e.setStatus(domain.UnitMonitoringInterrupted, 0)
}

func (c Config) normalized() Config {
	if c.LowBatteryVolts == 0 {
		c.LowBatteryVolts = DefaultLowBatteryVolts
	}
	if c.LowBatteryPercent == 0 {
		c.LowBatteryPercent = DefaultLowBatteryPercent
	}
	c.ConfirmSeconds = max(c.ConfirmSeconds, 0)
	c.DoorConfirmSeconds = max(c.DoorConfirmSeconds, 0)
	if !(c.Plausible.MinC < c.Plausible.MaxC) {
		c.Plausible = DefaultPlausible
	}
	return c
}

// temperature returns the reading's temperature and whether it is usable
// (present and plausible) or implausible (present but not believable).
func (e *evaluator) temperature() (t float64, plausible, implausible bool) {
	if e.obs.TemperatureC == nil {
		return 0, false, false
	}
	t = *e.obs.TemperatureC
	if !e.cfg.Plausible.Contains(t) {
		return t, false, true
	}
	return t, true, false
}

// cents rounds a °C value to hundredths, as numeric(6,2) stores it, so zone
// boundaries are exact (4.5 is in a 0..5 / 0.5 band, 5.00 is in range).
func cents(v float64) float64 { return math.Round(v * 100) }

func (e *evaluator) zoneOf(t float64) (z zone, limit float64, above bool) {
	c, lo, hi := cents(t), cents(e.cfg.MinC), cents(e.cfg.MaxC)
	switch {
	case c > hi:
		return zoneOut, e.cfg.MaxC, true
	case c < lo:
		return zoneOut, e.cfg.MinC, false
	}
	h := cents(e.cfg.HysteresisC)
	if h < 0 || math.IsNaN(h) {
		h = 0
	}
	if half := math.Floor((hi - lo) / 2); h > half {
		h = half
	}
	if c >= lo+h && c <= hi-h {
		return zoneBand, 0, false
	}
	return zoneMargin, 0, false
}

func (e *evaluator) setStatus(s domain.UnitStatus, inBand int) {
	e.d.State.Status = s
	e.d.State.StatusSince = e.obs.At
	e.d.State.InBandCount = inBand
}

func (e *evaluator) temperatureMachine(t float64) {
	z, limit, above := e.zoneOf(t)
	st := &e.d.State
	switch st.Status {
	case domain.UnitOK:
		if z == zoneOut {
			e.enterExcursion(t, limit, above)
		} else if z == zoneBand && e.open.Unit[TypeTempExcursion] {
			// Self-healing: an ok unit with an open excursion alert (the
			// alert outlived its excursion, e.g. thresholds were widened).
			e.resolveUnit(TypeTempExcursion, "temperature within range", tempData(t))
		}
	case domain.UnitExcursion:
		switch z {
		case zoneOut:
			e.maybeConfirm(t, limit, above)
		case zoneBand:
			e.enterRestoring(t)
		}
		// MARGIN: hold; StatusSince is kept, so the timer keeps running.
	case domain.UnitAlarmActive:
		if z == zoneBand {
			e.enterRestoring(t)
		}
	case domain.UnitRestoring:
		switch z {
		case zoneOut:
			if e.open.Unit[TypeTempExcursion] {
				e.event(TypeTempExcursion, KindExcursionResumed, "left the range again while restoring", map[string]any{
					"temperature_c": t, "limit_c": limit, "limit": limitName(above)})
			}
			e.enterExcursion(t, limit, above)
		case zoneMargin:
			st.InBandCount = 0
		case zoneBand:
			st.InBandCount++
			if st.InBandCount >= InBandReadingsToRecover {
				e.setStatus(domain.UnitOK, 0)
				e.resolveUnit(TypeTempExcursion, fmt.Sprintf("back in range: %d consecutive readings within %s to %s",
					InBandReadingsToRecover, domain.Format(e.bandLow(), domain.Celsius), domain.Format(e.bandHigh(), domain.Celsius)),
					tempData(t))
			}
		}
	default: // offline, monitoring_interrupted, manual_required, unknown
		switch z {
		case zoneOut:
			e.enterExcursion(t, limit, above)
		case zoneMargin:
			e.setStatus(domain.UnitRestoring, 0)
		case zoneBand:
			e.setStatus(domain.UnitRestoring, 1)
		}
	}
}

func (e *evaluator) bandLow() float64 {
	lo, hi := cents(e.cfg.MinC), cents(e.cfg.MaxC)
	h := min(max(cents(e.cfg.HysteresisC), 0), math.Floor((hi-lo)/2))
	return (lo + h) / 100
}

func (e *evaluator) bandHigh() float64 {
	lo, hi := cents(e.cfg.MinC), cents(e.cfg.MaxC)
	h := min(max(cents(e.cfg.HysteresisC), 0), math.Floor((hi-lo)/2))
	return (hi - h) / 100
}

func (e *evaluator) enterExcursion(t, limit float64, above bool) {
	e.setStatus(domain.UnitExcursion, 0)
	// A zero confirm time confirms at the reading that starts the excursion.
	e.maybeConfirm(t, limit, above)
}

func (e *evaluator) enterRestoring(t float64) {
	e.setStatus(domain.UnitRestoring, 1)
	if e.open.Unit[TypeTempExcursion] {
		e.event(TypeTempExcursion, KindRestoring, "back inside the band; waiting for a second in-band reading",
			map[string]any{"temperature_c": t})
	}
}

func (e *evaluator) confirmSeconds() int {
	if e.d.State.DoorOpen {
		return e.cfg.DoorConfirmSeconds
	}
	return e.cfg.ConfirmSeconds
}

func (e *evaluator) maybeConfirm(t, limit float64, above bool) {
	st := &e.d.State
	need := e.confirmSeconds()
	lasted := e.obs.At.Sub(st.StatusSince)
	due := st.StatusSince.Add(time.Duration(need) * time.Second)
	var defrostEnd time.Time
	if above {
		// A warm excursion that started inside a defrost window is part of
		// the defrost until the window ends.
		if end, ok := e.cfg.defrostWindowAt(st.StatusSince); ok {
			defrostEnd = end
			if end.After(due) {
				due = end
			}
		}
	}
	if e.obs.At.Before(due) {
		return
	}
	since := st.StatusSince
	e.setStatus(domain.UnitAlarmActive, 0)
	data := map[string]any{
		"temperature_c": t, "limit_c": limit, "limit": limitName(above),
		"excursion_since": since.UTC().Format(time.RFC3339Nano), "confirm_seconds": need, "door_open": st.DoorOpen,
		"status_from": string(domain.UnitExcursion), "status_to": string(domain.UnitAlarmActive),
	}
	if !defrostEnd.IsZero() {
		data["defrost_until"] = defrostEnd.UTC().Format(time.RFC3339)
	}
	if e.open.Unit[TypeTempExcursion] || e.opening(TypeTempExcursion, "") {
		e.event(TypeTempExcursion, KindReconfirmed, "excursion confirmed again; the alert is already open", data)
		return
	}
	word, side := "maximum", "above"
	if !above {
		word, side = "minimum", "below"
	}
	lim := domain.Format(limit, domain.Celsius)
	tc, lc := t, limit
	msg := fmt.Sprintf("%s is %s the %s of %s; out of range for %s (since %s).",
		domain.Format(t, domain.Celsius), side, word, lim, humanDuration(lasted), since.UTC().Format(time.RFC3339))
	if !defrostEnd.IsZero() {
		msg += fmt.Sprintf(" It began during a defrost window and outlasted it (the window ended %s).", defrostEnd.UTC().Format(time.RFC3339))
	}
	e.openAlert(OpenAlert{
		Type:         TypeTempExcursion,
		Severity:     SeverityCritical,
		Title:        fmt.Sprintf("Temperature %s the %s of %s", side, word, lim),
		Message:      msg,
		TemperatureC: &tc, LimitC: &lc, At: e.obs.At,
	}, data)
}

func limitName(above bool) string {
	if above {
		return "max"
	}
	return "min"
}

func humanDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d/time.Second))
	}
	return fmt.Sprintf("%d min", int(d/time.Minute))
}

func (e *evaluator) door() {
	if e.obs.DoorOpen == nil {
		return
	}
	st := &e.d.State
	if *e.obs.DoorOpen == st.DoorOpen {
		return // the same state again: the duration keeps counting from the real transition
	}
	st.DoorOpen = *e.obs.DoorOpen
	st.DoorChangedAt = e.obs.At
	e.d.DoorTransition = &DoorTransition{Open: st.DoorOpen, At: e.obs.At}
}

func (e *evaluator) battery() {
	v, p := e.obs.BatteryVolts, e.obs.BatteryPercent
	hasV := v != nil && *v > 0 && !math.IsNaN(*v) && !math.IsInf(*v, 0) // 0 V: not reported
	hasP := p != nil && *p >= 0
	if !hasV && !hasP {
		return
	}
	low, recovered := false, true
	if hasV {
		low = low || *v < e.cfg.LowBatteryVolts
		recovered = recovered && *v >= e.cfg.LowBatteryVolts+BatteryVoltsHysteresis-1e-9
	}
	if hasP {
		low = low || *p <= e.cfg.LowBatteryPercent
		recovered = recovered && *p > e.cfg.LowBatteryPercent+BatteryPercentHysteresis
	}
	data := func() map[string]any {
		m := map[string]any{}
		if hasV {
			m["battery_volts"], m["threshold_volts"] = *v, e.cfg.LowBatteryVolts
		}
		if hasP {
			m["battery_percent"], m["threshold_percent"] = *p, e.cfg.LowBatteryPercent
		}
		return m
	}
	switch {
	case low:
		if e.sensorOpen(TypeLowBattery) {
			return
		}
		var parts []string
		if hasV {
			parts = append(parts, fmt.Sprintf("%.2f V (threshold %.2f V)", *v, e.cfg.LowBatteryVolts))
		}
		if hasP {
			parts = append(parts, fmt.Sprintf("%d %% (threshold %d %%)", *p, e.cfg.LowBatteryPercent))
		}
		e.openAlert(OpenAlert{Type: TypeLowBattery, Severity: SeverityWarning, SensorID: e.obs.SensorID,
			Title: "Low sensor battery", Message: "Sensor battery at " + strings.Join(parts, ", ") + ". Replace the battery soon.",
			At: e.obs.At}, data())
	case recovered:
		e.resolveSensor(TypeLowBattery, "battery recovered", data)
	}
}

func (e *evaluator) sensorFaultOpen(implausible bool, probeFailed string) {
	if len(e.obs.Faults) == 0 && !implausible && probeFailed == "" {
		return
	}
	if e.sensorOpen(TypeSensorFault) {
		return
	}
	data := map[string]any{}
	var msgs []string
	var temp *float64
	sev, title := SeverityWarning, "Sensor fault: decoder error"
	if implausible {
		sev, title = SeverityCritical, "Sensor fault: implausible temperature"
		t := *e.obs.TemperatureC
		raw := fmt.Sprintf("%g", t)
		data["temperature_raw"] = raw    // a string: NaN/Inf are not JSON
		if t > -9999.99 && t < 9999.99 { // fits numeric(6,2)
			temp = &t
		}
		msgs = append(msgs, fmt.Sprintf("Temperature %s °C is outside the plausible range %s to %s for this unit and sensor",
			raw, domain.Format(e.cfg.Plausible.MinC, domain.Celsius), domain.Format(e.cfg.Plausible.MaxC, domain.Celsius)))
		data["plausible_min_c"], data["plausible_max_c"] = e.cfg.Plausible.MinC, e.cfg.Plausible.MaxC
	}
	if probeFailed != "" && !implausible {
		sev, title = SeverityCritical, "Sensor fault: probe failed"
		failed := cleanText(probeFailed, 200)
		data["probe_failed"] = failed
		msgs = append(msgs, "The probe measuring this unit reports: "+failed)
	}
	if len(e.obs.Faults) > 0 {
		faults := make([]string, 0, len(e.obs.Faults))
		for i, f := range e.obs.Faults {
			if i == 10 {
				faults = append(faults, fmt.Sprintf("... %d more", len(e.obs.Faults)-10))
				break
			}
			f = cleanText(f, 200)
			if f == "" {
				f = "unspecified decoder error"
			}
			faults = append(faults, f)
		}
		data["faults"] = faults
		msgs = append(msgs, "Decoder error: "+strings.Join(faults, "; "))
	}
	e.openAlert(OpenAlert{Type: TypeSensorFault, Severity: sev, SensorID: e.obs.SensorID, Title: title,
		Message: cleanText(strings.Join(msgs, ". ")+".", 1000), TemperatureC: temp, At: e.obs.At}, data)
}

// cleanText makes s storable and printable: valid UTF-8, no NUL or other
// control characters, at most n runes.
func cleanText(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	var b strings.Builder
	count := 0
	for _, r := range s {
		if count == n {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
		count++
	}
	return strings.TrimSpace(b.String())
}

func (e *evaluator) sensorOpen(typ string) bool {
	return e.open.Sensor[e.obs.SensorID][typ] || e.opening(typ, e.obs.SensorID)
}

func (e *evaluator) opening(typ, sensor string) bool {
	for _, o := range e.d.Opens {
		if o.Type == typ && o.SensorID == sensor {
			return true
		}
	}
	return false
}

func (e *evaluator) openAlert(o OpenAlert, data map[string]any) {
	if o.SensorID != "" {
		data["sensor_id"] = o.SensorID
	}
	data["severity"] = o.Severity
	e.d.Opens = append(e.d.Opens, o)
	e.event(o.Type, KindTriggered, o.Title, data)
}

// resolveUnit resolves the open unit-level alert of typ, if any. data is
// built only then (the common path allocates nothing).
func (e *evaluator) resolveUnit(typ, reason string, data func() map[string]any) {
	if !e.open.Unit[typ] {
		return
	}
	e.resolve(ResolveAlert{Type: typ, At: e.obs.At, Reason: reason}, data())
}

func (e *evaluator) resolveSensor(typ, reason string, data func() map[string]any) {
	if !e.open.Sensor[e.obs.SensorID][typ] {
		return
	}
	m := data()
	m["sensor_id"] = e.obs.SensorID
	e.resolve(ResolveAlert{Type: typ, SensorID: e.obs.SensorID, At: e.obs.At, Reason: reason}, m)
}

func tempData(t float64) func() map[string]any {
	return func() map[string]any {
		if !finite(t) {
			return map[string]any{} // JSON has no NaN or Inf
		}
		return map[string]any{"temperature_c": t}
	}
}

func (e *evaluator) resolve(r ResolveAlert, data map[string]any) {
	data["resolution"] = "auto"
	e.d.Resolves = append(e.d.Resolves, r)
	e.event(r.Type, KindResolved, r.Reason, data)
}

func (e *evaluator) event(typ, kind, note string, data map[string]any) {
	e.d.Events = append(e.d.Events, Event{AlertType: typ, Kind: kind, Note: note, At: e.obs.At, Data: data})
}

func sameState(a, b State) bool {
	return a.Status == b.Status && a.StatusSince.Equal(b.StatusSince) && a.InBandCount == b.InBandCount &&
		a.LastReadingAt.Equal(b.LastReadingAt) && a.DoorOpen == b.DoorOpen && a.DoorChangedAt.Equal(b.DoorChangedAt) &&
		a.LastTemperatureAt.Equal(b.LastTemperatureAt)
}

// DoorOpenTooLong is the sweeper's door rule: how long the door has been
// open, measured from the real open transition (DoorChangedAt), not from the
// last uplink. It returns "critical" from critAfter, "warning" from
// warnAfter, and ok=false when the door is closed, the transition time is
// unknown, or neither threshold is reached. A threshold <= 0 disables that
// level.
func DoorOpenTooLong(st State, now time.Time, warnAfter, critAfter time.Duration) (severity string, ok bool) {
	if !st.DoorOpen || st.DoorChangedAt.IsZero() {
		return "", false
	}
	open := now.Sub(st.DoorChangedAt)
	switch {
	case critAfter > 0 && open >= critAfter:
		return SeverityCritical, true
	case warnAfter > 0 && open >= warnAfter:
		return SeverityWarning, true
	}
	return "", false
}
