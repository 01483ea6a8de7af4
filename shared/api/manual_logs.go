package api

import (
	"context"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/judge"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/realtime"
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
	in := store.ManualLogInput{OrgID: m.OrgID, UnitID: unitID, UserID: m.UserID, TemperatureC: tempC, RecordedAt: at, Now: s.Now(),
		Note: strings.TrimSpace(manualLogText(req.Note)), CorrectiveAction: strings.TrimSpace(manualLogText(req.CorrectiveAction))}
	var res domain.ManualLogResult
	var opened []store.AlertOpenRow
	var judged store.Judgement
	author := m.Name
	if author == "" {
		author = m.Email
	}
	log, err := s.DB.CreateManualLog(r.Context(), in, func(ctx context.Context, u store.UnitAlerting, open []store.OpenAlertRef,
		plans store.PlanReader, logID string) (store.Judgement, error) {
		t := tempC
		v, err := judge.Judge(ctx, u, open, judge.Reading{Obs: alerting.Observation{At: at, TemperatureC: &t, Manual: true}, Author: author, Now: s.Now()},
			plans, s.FrontendURL)
		if err != nil {
			return store.Judgement{}, err
		}
		d := v.Decision
		if len(v.Writes.Resolves) > 0 && !m.Can(access.ResolveAlerts) {
			keepOpenBackInRange(&v.Writes, author)
		}
		res.UnitStatus, res.UnitStatusSince, res.Late = d.State.Status, d.State.StatusSince.UTC(), d.Late
		res.AlertsOpened, res.AlertsResolved = []string{}, []string{}
		opened = v.Writes.Opens
		for _, o := range v.Writes.Opens {
			res.AlertsOpened = append(res.AlertsOpened, o.Type)
		}
		for _, x := range v.Writes.Resolves {
			res.AlertsResolved = append(res.AlertsResolved, x.Type)
		}
		judged = v.Writes
		return v.Writes, nil
	})
	if err != nil {
		return err
	}
	// Counted like the alerts a sensor reading opens (shared/ingest).
	for _, o := range opened {
		metrics.Add(r.Context(), metrics.AlertsOpened, 1, "Type", o.Type, "Severity", o.Severity)
	}
	for _, typ := range res.AlertsResolved {
		metrics.Add(r.Context(), metrics.AlertsResolved, 1, "Type", typ)
	}
	// After the commit: the unit's watchers see the reading's effect (the
	// hand reading itself is no sensor batch).
	realtime.Or(s.Live).Publish(r.Context(), realtime.JudgementEvents(m.OrgID, unitID, judged)...)
	res.Log = log
	web.JSON(w, http.StatusCreated, res)
	return nil
}

// keepOpenBackInRange turns the resolutions a manual log caused into a
// "back_in_range" line on each alert, which stays open: a hand reading may
// feed the engine, but closing an alert needs the resolve permission (and
// the resolve route's note), which the author does not have.
func keepOpenBackInRange(w *store.Judgement, author string) {
	for _, x := range w.Resolves {
		w.Events = append(w.Events, store.AlertEventRow{AlertType: x.Type, Kind: "back_in_range", At: x.At,
			Note: "back in range by manual temperature logs (" + author + "); resolving it needs the resolve permission",
			Data: map[string]any{"source": "manual_log"}})
	}
	w.Resolves = nil
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
