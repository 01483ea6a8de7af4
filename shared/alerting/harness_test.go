package alerting

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/domain"
)

var t0 = time.Date(2026, 1, 15, 14, 0, 0, 0, time.UTC)

const (
	OK   = domain.UnitOK
	EXC  = domain.UnitExcursion
	ALRM = domain.UnitAlarmActive
	REST = domain.UnitRestoring
	MI   = domain.UnitMonitoringInterrupted
)

func f(v float64) *float64 { return &v }
func b(v bool) *bool       { return &v }
func pct(v int) *int       { return &v }

// fridge is the default fridge configuration: 0..5 °C, h 0.5, 600 s / 1200 s.
func fridge() Config {
	c := domain.DefaultUnitConfig(domain.Fridge)
	return Config{MinC: c.TempMinC, MaxC: c.TempMaxC, HysteresisC: c.HysteresisC,
		ConfirmSeconds: c.ConfirmSeconds, DoorConfirmSeconds: c.DoorConfirmSeconds}
}

func freezer() Config {
	c := domain.DefaultUnitConfig(domain.Freezer)
	return Config{MinC: c.TempMinC, MaxC: c.TempMaxC, HysteresisC: c.HysteresisC,
		ConfirmSeconds: c.ConfirmSeconds, DoorConfirmSeconds: c.DoorConfirmSeconds}
}

// step is one reading of a trace and what must come out of it.
type step struct {
	at     int // seconds after t0 (reading time)
	sensor string
	temp   *float64
	door   *bool
	volts  *float64
	pct    *int
	faults []string
	failed string // Observation.ProbeFailed
	manual bool

	want     domain.UnitStatus // status after the step ("" = do not check)
	opens    []string          // "type:severity", exactly (nil = none)
	resolves []string          // "type", exactly (nil = none)
	late     bool              // Decision.Late expected
	check    func(t *testing.T, d Decision)
}

type scenario struct {
	name  string
	cfg   Config
	init  State
	open  []string // initially open alerts: "type" or "type@sensor"
	steps []step
	after func(t *testing.T, st State, open Open)
}

// world is what the store would hold between readings: the unit's state,
// its open alerts, and its stored sensor temperatures (what the store reads
// back as State.Recent).
type world struct {
	st     State
	open   Open
	recent []Sample
}

func newWorld(init State, open []string) *world {
	w := &world{st: init, open: Open{Unit: map[string]bool{}, Sensor: map[string]map[string]bool{}}}
	for _, o := range open {
		typ, sensor, _ := strings.Cut(o, "@")
		w.setOpen(typ, sensor, true)
	}
	return w
}

func (w *world) isOpen(typ, sensor string) bool {
	if sensor == "" {
		return w.open.Unit[typ]
	}
	return w.open.Sensor[sensor][typ]
}

func (w *world) setOpen(typ, sensor string, v bool) {
	if sensor == "" {
		w.open.Unit[typ] = v
		return
	}
	if w.open.Sensor[sensor] == nil {
		w.open.Sensor[sensor] = map[string]bool{}
	}
	w.open.Sensor[sensor][typ] = v
}

// apply persists a decision as the store does: the state unless late, then
// opens (ON CONFLICT DO NOTHING) and resolves. It returns the invariant
// violations found (a second open alert of a type, resolving a closed one).
func (w *world) apply(d Decision) []string {
	var bad []string
	if !d.Late {
		w.st = d.State
	}
	w.st.Recent = nil
	for _, o := range d.Opens {
		if w.isOpen(o.Type, o.SensorID) {
			bad = append(bad, fmt.Sprintf("second open %s alert (sensor %q)", o.Type, o.SensorID))
		}
		w.setOpen(o.Type, o.SensorID, true)
	}
	for _, r := range d.Resolves {
		if !w.isOpen(r.Type, r.SensorID) {
			bad = append(bad, fmt.Sprintf("resolving %s (sensor %q) that is not open", r.Type, r.SensorID))
		}
		w.setOpen(r.Type, r.SensorID, false)
	}
	return bad
}

// input is the state the store reads before judging obs: the persisted
// state and the stored sensor temperatures older than obs (at most
// MaxCoolingReadings, oldest first), as the store's query returns them.
func (w *world) input(obs Observation) State {
	st := w.st
	var before []Sample
	for _, r := range w.recent {
		if r.At.Before(obs.At) {
			before = append(before, r)
		}
	}
	if len(before) > MaxCoolingReadings {
		before = before[len(before)-MaxCoolingReadings:]
	}
	st.Recent = before
	return st
}

// store keeps a sensor reading's plausible temperature, in time order (the
// store stores late readings too).
func (w *world) store(cfg Config, obs Observation) {
	if obs.Manual || obs.TemperatureC == nil || !cfg.normalized().Plausible.Contains(*obs.TemperatureC) {
		return
	}
	s := Sample{At: obs.At, C: *obs.TemperatureC}
	i := len(w.recent)
	for i > 0 && w.recent[i-1].At.After(s.At) {
		i--
	}
	if i > 0 && w.recent[i-1].At.Equal(s.At) {
		return // the same reading again (sensor_id, recorded_at is unique)
	}
	w.recent = slices.Insert(w.recent, i, s)
}

func (s step) obs() Observation {
	sensor := s.sensor
	if sensor == "" {
		sensor = "probe-1"
	}
	if s.manual {
		sensor = ""
	}
	return Observation{At: t0.Add(time.Duration(s.at) * time.Second), SensorID: sensor, TemperatureC: s.temp,
		DoorOpen: s.door, BatteryVolts: s.volts, BatteryPercent: s.pct, Faults: s.faults, ProbeFailed: s.failed, Manual: s.manual}
}

func opensOf(d Decision) []string {
	var out []string
	for _, o := range d.Opens {
		out = append(out, o.Type+":"+o.Severity)
	}
	return out
}

func resolvesOf(d Decision) []string {
	var out []string
	for _, r := range d.Resolves {
		out = append(out, r.Type)
	}
	return out
}

func runScenario(t *testing.T, sc scenario) {
	t.Helper()
	init := sc.init
	if init.Status == "" {
		init.Status = OK
	}
	w := newWorld(init, sc.open)
	for i, s := range sc.steps {
		in := w.input(s.obs())
		d := Evaluate(sc.cfg, in, w.open, s.obs())
		label := fmt.Sprintf("step %d (t=%ds)", i, s.at)
		for _, msg := range checkDecision(sc.cfg, in, w.open, s.obs(), d) {
			t.Errorf("%s: invariant: %s", label, msg)
		}
		if got := opensOf(d); !slices.Equal(got, s.opens) {
			t.Errorf("%s: opens = %v, want %v", label, got, s.opens)
		}
		if got := resolvesOf(d); !slices.Equal(got, s.resolves) {
			t.Errorf("%s: resolves = %v, want %v", label, got, s.resolves)
		}
		if d.Late != s.late {
			t.Errorf("%s: late = %v, want %v", label, d.Late, s.late)
		}
		for _, msg := range w.apply(d) {
			t.Errorf("%s: %s", label, msg)
		}
		w.store(sc.cfg, s.obs())
		if s.want != "" && w.st.Status != s.want {
			t.Errorf("%s: status = %s, want %s", label, w.st.Status, s.want)
		}
		if s.check != nil {
			s.check(t, d)
		}
	}
	if sc.after != nil {
		sc.after(t, w.st, w.open)
	}
}

// checkDecision returns the violations of the invariants every decision
// must satisfy, whatever the input.
func checkDecision(cfg Config, in State, open Open, obs Observation, d Decision) []string {
	var bad []string
	add := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }

	if d.Changed != !sameState(in, d.State) {
		add("Changed = %v but states differ = %v", d.Changed, !sameState(in, d.State))
	}
	if d.Late {
		if !sameState(in, d.State) {
			add("late reading moved the state: %+v -> %+v", in, d.State)
		}
		for _, r := range d.Resolves {
			if !obs.Manual || r.Type != TypeMissedManualEntry {
				add("late reading resolved %s", r.Type)
			}
		}
		if d.DoorTransition != nil {
			add("late reading moved the door")
		}
		for _, o := range d.Opens {
			if o.Type != TypeSensorFault {
				add("late reading opened %s", o.Type)
			}
		}
	} else {
		if !d.State.LastReadingAt.Equal(obs.At) {
			add("LastReadingAt = %v, want %v", d.State.LastReadingAt, obs.At)
		}
		if d.State.LastReadingAt.Before(in.LastReadingAt) {
			add("LastReadingAt moved backwards")
		}
	}
	if obs.At.After(in.LastReadingAt) == d.Late {
		add("Late = %v for At %v after LastReadingAt %v = %v", d.Late, obs.At, in.LastReadingAt, obs.At.After(in.LastReadingAt))
	}
	known := in.Status == OK || in.Status == EXC || in.Status == ALRM || in.Status == REST
	implausible := obs.TemperatureC != nil && !obs.Manual && !cfg.normalized().Plausible.Contains(*obs.TemperatureC)
	// A probe the device reports failed is a reading that cannot be true too.
	implausible = implausible || (obs.ProbeFailed != "" && !obs.Manual)
	switch {
	case d.State.Status == MI && in.Status != MI:
		// only a reading that cannot be true interrupts monitoring, and
		// never an excursion or alarm in progress
		if !implausible || d.Late || in.Status == EXC || in.Status == ALRM {
			add("%s -> monitoring_interrupted (implausible %v)", in.Status, implausible)
		}
	case known && !(d.State.Status == OK || d.State.Status == EXC || d.State.Status == ALRM || d.State.Status == REST):
		add("status %q out of the machine", d.State.Status)
	}
	if implausible && !d.Late && d.State.Status != in.Status && d.State.Status != MI {
		add("an implausible reading moved the machine to %s", d.State.Status)
	}
	if d.State.Status != in.Status && !d.State.StatusSince.Equal(obs.At) {
		add("status changed but StatusSince = %v, not the reading time", d.State.StatusSince)
	}
	if d.State.Status != REST && d.State.InBandCount != 0 {
		add("InBandCount %d outside restoring", d.State.InBandCount)
	}
	if d.State.InBandCount < 0 || d.State.InBandCount >= InBandReadingsToRecover {
		add("InBandCount %d out of [0,%d)", d.State.InBandCount, InBandReadingsToRecover)
	}
	if obs.TemperatureC == nil && obs.ProbeFailed == "" && d.State.Status != in.Status {
		add("a reading without temperature changed the status")
	}
	if d.DoorTransition != nil {
		if d.DoorTransition.Open == in.DoorOpen || !d.State.DoorChangedAt.Equal(obs.At) {
			add("bad door transition %+v from %v", d.DoorTransition, in.DoorOpen)
		}
	} else if d.State.DoorOpen != in.DoorOpen || !d.State.DoorChangedAt.Equal(in.DoorChangedAt) {
		add("door state changed without a transition")
	}

	seen := map[string]bool{}
	for _, o := range d.Opens {
		key := o.Type + "@" + o.SensorID
		if seen[key] {
			add("opens %s twice in one decision", key)
		}
		seen[key] = true
		openNow := open.Unit[o.Type]
		if o.SensorID != "" {
			openNow = open.Sensor[o.SensorID][o.Type]
		}
		if openNow {
			add("opens %s which is already open", key)
		}
		if !slices.Contains(domain.AlertTypes, o.Type) || !slices.Contains(domain.AlertSeverities, o.Severity) {
			add("open %s/%s outside the schema vocabularies", o.Type, o.Severity)
		}
		if o.SensorID != "" && o.Type != TypeLowBattery && o.Type != TypeSensorFault {
			add("sensor id on unit-level type %s", o.Type)
		}
		if !o.At.Equal(obs.At) {
			add("open At %v is not the reading time", o.At)
		}
		if o.Title == "" || !storable(o.Title) || !storable(o.Message) {
			add("open %s has an unstorable title/message %q / %q", o.Type, o.Title, o.Message)
		}
		for _, p := range []*float64{o.TemperatureC, o.LimitC} {
			if p != nil && !(*p > -10000 && *p < 10000) {
				add("temperature %v does not fit numeric(6,2)", *p)
			}
		}
		if o.Type == TypeTempExcursion {
			if d.State.Status != ALRM || obs.TemperatureC == nil {
				add("temp_excursion opened while status %s", d.State.Status)
			}
			if o.Severity != SeverityCritical || o.LimitC == nil || o.TemperatureC == nil {
				add("temp_excursion open lacks severity/limit/temperature: %+v", o)
			}
		}
	}
	for _, r := range d.Resolves {
		openNow := open.Unit[r.Type]
		if r.SensorID != "" {
			openNow = open.Sensor[r.SensorID][r.Type]
		}
		if !openNow {
			add("resolves %s@%s which is not open", r.Type, r.SensorID)
		}
		if r.Reason == "" || !storable(r.Reason) {
			add("resolve without a storable reason")
		}
	}
	triggered, resolved := 0, 0
	for _, e := range d.Events {
		if !validKind(e.Kind) {
			add("event kind %q fails the CHECK", e.Kind)
		}
		if !slices.Contains(domain.AlertTypes, e.AlertType) {
			add("event alert type %q", e.AlertType)
		}
		if _, err := json.Marshal(e.Data); err != nil {
			add("event data not JSON: %v", err)
		}
		if !storable(e.Note) {
			add("event note not storable")
		}
		switch e.Kind {
		case KindTriggered:
			triggered++
		case KindResolved:
			resolved++
		}
	}
	if triggered != len(d.Opens) || resolved != len(d.Resolves) {
		add("%d triggered / %d resolved events for %d opens / %d resolves", triggered, resolved, len(d.Opens), len(d.Resolves))
	}
	return bad
}

func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// validKind reports whether k fits alert_events.kind's CHECK ^[a-z][a-z0-9_]*$.
func validKind(k string) bool {
	if k == "" || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
