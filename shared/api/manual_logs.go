package api

import (
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerManualLogs(mux *http.ServeMux) {
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/units/{unitId}/manual-logs", access.LogTemperatures, s.createManualLog)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/units/{unitId}/manual-logs", access.ReadOrganization, s.listManualLogs)
}

type manualLogRequest struct {
	Temperature      *float64 `json:"temperature"`
	TempUnit         string   `json:"temp_unit"`
	RecordedAt       *string  `json:"recorded_at"`
	Note             *string  `json:"note"`
	CorrectiveAction *string  `json:"corrective_action"`
}

// validate checks the body and returns the stored form (°C, UTC), reporting
// every invalid field at once.
func (req manualLogRequest) validate(now time.Time) (tempC float64, at time.Time, err error) {
	var details []apperr.FieldError
	bad := func(field, msg string) { details = append(details, apperr.FieldError{Field: field, Message: msg}) }
	unit := domain.TempUnit(req.TempUnit)
	if !unit.Valid() {
		bad("temp_unit", "must be C or F")
	}
	switch {
	case req.Temperature == nil:
		bad("temperature", "is required")
	case math.IsNaN(*req.Temperature) || math.IsInf(*req.Temperature, 0):
		bad("temperature", "must be a number")
	case unit.Valid():
		tempC = domain.ToCelsius(*req.Temperature, unit)
		if tempC < domain.ManualLogMinC || tempC > domain.ManualLogMaxC {
			bad("temperature", "must be between "+domain.Format(domain.ManualLogMinC, unit)+" and "+domain.Format(domain.ManualLogMaxC, unit))
		}
	}
	at = now.UTC().Truncate(time.Microsecond)
	if req.RecordedAt != nil {
		t, perr := time.Parse(time.RFC3339Nano, *req.RecordedAt)
		switch {
		case perr != nil:
			bad("recorded_at", "must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z")
		case t.After(now.Add(domain.ManualLogMaxSkew)):
			bad("recorded_at", "must not be in the future")
		case t.Before(now.Add(-domain.ManualLogMaxAge)):
			bad("recorded_at", "must be within the last 7 days")
		default:
			// Microseconds: what timestamptz keeps, so the answer equals
			// what a later read returns.
			at = t.UTC().Truncate(time.Microsecond)
		}
	}
	for field, v := range map[string]*string{"note": req.Note, "corrective_action": req.CorrectiveAction} {
		if v != nil && utf8.RuneCountInString(*v) > domain.ManualLogMaxNote {
			bad(field, "must be at most 2000 characters")
		}
	}
	if len(details) > 0 {
		return 0, at, apperr.Validation(details...)
	}
	return tempC, at, nil
}

func (s *Server) createManualLog(w http.ResponseWriter, r *http.Request, m Member) error {
	unitID, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	var req manualLogRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	tempC, at, err := req.validate(s.Now())
	if err != nil {
		return err
	}
	in := store.ManualLogInput{OrgID: m.OrgID, UnitID: unitID, UserID: m.UserID, TemperatureC: tempC, RecordedAt: at,
		Note: strings.TrimSpace(manualLogText(req.Note)), CorrectiveAction: strings.TrimSpace(manualLogText(req.CorrectiveAction))}
	var res domain.ManualLogResult
	log, err := s.DB.CreateManualLog(r.Context(), in, func(u store.UnitAlerting, open []store.OpenAlertRef, logID string) store.ManualLogWrites {
		author := m.Name
		if author == "" {
			author = m.Email
		}
		w, d := judgeManualLog(u, open, tempC, at, author)
		res.UnitStatus, res.UnitStatusSince, res.Late = d.State.Status, d.State.StatusSince.UTC(), d.Late
		res.AlertsOpened, res.AlertsResolved = []string{}, []string{}
		for _, o := range w.Opens {
			res.AlertsOpened = append(res.AlertsOpened, o.Type)
		}
		for _, x := range w.Resolves {
			res.AlertsResolved = append(res.AlertsResolved, x.Type)
		}
		return w
	})
	if err != nil {
		return err
	}
	res.Log = log
	web.JSON(w, http.StatusCreated, res)
	return nil
}

// judgeManualLog runs the alert engine on a hand reading exactly as the
// ttn-webhook runs it on a sensor reading (range checks, confirm timer,
// hysteresis, recovery), with two differences: a hand reading says nothing
// about the sensors, so it never resolves monitoring_interrupted (a person
// with a thermometer is not the sensor coming back), and nobody is paged.
func judgeManualLog(u store.UnitAlerting, open []store.OpenAlertRef, tempC float64, at time.Time, author string) (store.ManualLogWrites, alerting.Decision) {
	st := alerting.State{Status: domain.UnitStatus(u.Status), StatusSince: u.StatusSince, InBandCount: u.InBandCount, DoorOpen: u.DoorOpen}
	if u.LastReadingAt != nil {
		st.LastReadingAt = *u.LastReadingAt
	}
	if u.DoorChangedAt != nil {
		st.DoorChangedAt = *u.DoorChangedAt
	}
	o := alerting.Open{Unit: map[string]bool{}, Sensor: map[string]map[string]bool{}}
	for _, a := range open {
		if a.SensorID == "" {
			o.Unit[a.Type] = true
		}
	}
	t := tempC
	d := alerting.Evaluate(alerting.Config{MinC: u.MinC, MaxC: u.MaxC, HysteresisC: u.HysteresisC,
		ConfirmSeconds: u.ConfirmSeconds, DoorConfirmSeconds: u.DoorConfirmSeconds}, st, o,
		alerting.Observation{At: at, TemperatureC: &t})
	var w store.ManualLogWrites
	if d.Late {
		return w, d
	}
	if d.State.Status != st.Status || d.State.InBandCount != st.InBandCount || !d.State.StatusSince.Equal(st.StatusSince) {
		w.UnitState = &store.UnitStateRow{Status: string(d.State.Status), StatusSince: d.State.StatusSince, InBandCount: d.State.InBandCount}
	}
	if d.State.Status != st.Status {
		w.StatusChange = &store.StatusChangeRow{From: u.Status, To: string(d.State.Status), At: at, TemperatureC: &t}
	}
	triggered := map[string]map[string]any{}
	for _, e := range d.Events {
		switch {
		case e.AlertType == alerting.TypeMonitoringInterrupted:
		case e.Kind == alerting.KindTriggered:
			triggered[e.AlertType] = e.Data
		case e.Kind == alerting.KindResolved: // recorded with the resolve itself
		default:
			w.Events = append(w.Events, store.AlertEventRow{AlertType: e.AlertType, Kind: e.Kind, Note: e.Note, At: e.At, Data: e.Data})
		}
	}
	for _, op := range d.Opens {
		data := triggered[op.Type]
		if data == nil {
			data = map[string]any{}
		}
		data["source"] = "manual_log"
		w.Opens = append(w.Opens, store.AlertOpenRow{Type: op.Type, Severity: op.Severity, Title: op.Title, Message: op.Message,
			TemperatureC: op.TemperatureC, LimitC: op.LimitC, At: op.At, AckCode: store.NewAckCode(),
			EventNote: "confirmed by manual temperature logs (" + author + "); manual logs do not page anyone", EventData: data})
	}
	for _, r := range d.Resolves {
		if r.Type == alerting.TypeMonitoringInterrupted {
			continue
		}
		w.Resolves = append(w.Resolves, store.AlertResolveRow{Type: r.Type, SensorID: r.SensorID, At: r.At,
			Reason: r.Reason + " (manual temperature log)"})
	}
	return w, d
}

func manualLogText(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) listManualLogs(w http.ResponseWriter, r *http.Request, m Member) error {
	unitID, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	f := store.ManualLogFilter{OrgID: m.OrgID, UnitID: unitID}
	var details []apperr.FieldError
	collect := func(err error) {
		if err != nil {
			details = append(details, apperr.From(err).Details...)
		}
	}
	f.From, err = QueryTime(r, "from")
	collect(err)
	f.To, err = QueryTime(r, "to")
	collect(err)
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		details = append(details, apperr.FieldError{Field: "to", Message: "must be after from"})
	}
	page, err := PageFrom(r)
	collect(err)
	if len(details) > 0 {
		return apperr.Validation(details...)
	}
	f.Limit, f.AfterTime, f.AfterID = page.Limit+1, page.After.Time, page.After.ID
	items, err := s.DB.ManualLogs(r.Context(), f)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(items, page.Limit, func(l domain.ManualLog) Cursor {
		return Cursor{Time: l.RecordedAt, ID: l.ID}
	}))
	return nil
}
