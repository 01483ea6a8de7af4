package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// A unit's detail screen beyond its readings: the newest reading with
// every field, the door's transitions with their durations, and the notes
// people put on the chart.
func (s *Server) registerUnitHistory(mux *http.ServeMux) {
	const unit = "/api/v1/orgs/{orgId}/units/{unitId}"
	s.handleOrg(mux, "GET "+unit+"/readings/latest", access.ReadOrganization, s.latestUnitReading)
	s.handleOrg(mux, "GET "+unit+"/door-events", access.ReadOrganization, s.listDoorEvents)
	s.handleOrg(mux, "GET "+unit+"/annotations", access.ReadOrganization, s.listAnnotations)
	s.handleOrg(mux, "POST "+unit+"/annotations", access.Annotate, s.createAnnotation)
	s.handleOrg(mux, "PATCH "+unit+"/annotations/{annotationId}", access.Annotate, s.editAnnotation(false))
	s.handleOrg(mux, "DELETE "+unit+"/annotations/{annotationId}", access.Annotate, s.editAnnotation(true))
}

// latestReadingWindow is how far back the newest reading is looked for (a
// unit silent for longer has none: its screen says offline anyway).
const latestReadingWindow = 31 * 24 * time.Hour

// latestUnitReading is GET .../units/{unitId}/readings/latest.
type latestUnitReading struct {
	UnitID  string          `json:"unit_id"`
	Reading *domain.Reading `json:"reading"`
}

func (s *Server) latestUnitReading(w http.ResponseWriter, r *http.Request, m Member) error {
	unitID, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	if _, err := s.DB.ReadingUnit(r.Context(), m.OrgID, unitID); err != nil {
		return err
	}
	now := s.Now().UTC()
	// The upper bound is a little ahead: a reading dated by the network's
	// clock may be a few seconds in our future.
	x, err := s.DB.LatestUnitReading(r.Context(), m.OrgID, unitID, now.Add(-latestReadingWindow), now.Add(time.Hour))
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, latestUnitReading{UnitID: unitID, Reading: x})
	return nil
}

// historyPage reads the optional `from`/`to` range and the page of a
// newest-first history list.
func historyPage(r *http.Request) (store.HistoryPage, Page, error) {
	var hp store.HistoryPage
	p, err := PageFrom(r)
	if err != nil {
		return hp, p, err
	}
	if hp.From, err = QueryTime(r, "from"); err != nil {
		return hp, p, err
	}
	if hp.To, err = QueryTime(r, "to"); err != nil {
		return hp, p, err
	}
	if !hp.From.IsZero() && !hp.To.IsZero() && !hp.To.After(hp.From) {
		return hp, p, apperr.Validation(apperr.FieldError{Field: "to", Message: "must be after from"})
	}
	hp.BeforeTime, hp.BeforeID, hp.Limit = p.After.Time, p.After.ID, p.Limit+1
	return hp, p, nil
}

func (s *Server) listDoorEvents(w http.ResponseWriter, r *http.Request, m Member) error {
	return listHistory(w, r, m, s.DB.DoorEvents, func(e domain.DoorEvent) Cursor { return Cursor{Time: e.At, ID: e.ID} })
}

func (s *Server) listAnnotations(w http.ResponseWriter, r *http.Request, m Member) error {
	return listHistory(w, r, m, s.DB.Annotations, func(a domain.Annotation) Cursor { return Cursor{Time: a.At, ID: a.ID} })
}

// listHistory answers one newest-first page of a unit's history list.
func listHistory[T any](w http.ResponseWriter, r *http.Request, m Member,
	load func(ctx context.Context, orgID, unitID string, p store.HistoryPage) ([]T, error), cursorOf func(T) Cursor) error {
	unitID, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	hp, p, err := historyPage(r)
	if err != nil {
		return err
	}
	items, err := load(r.Context(), m.OrgID, unitID, hp)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(items, p.Limit, cursorOf))
	return nil
}

// annotationInput is the body of POST (body required, at defaults to now)
// and PATCH (either).
type annotationInput struct {
	At   hierOpt[time.Time] `json:"at"`
	Body hierOpt[string]    `json:"body"`
}

// check validates the input; create requires a body.
func (in annotationInput) check(create bool, now time.Time) (at *time.Time, body *string, err error) {
	var fe []apperr.FieldError
	if in.Body.value(&fe, "body") {
		b := strings.TrimSpace(in.Body.V)
		if msg := domain.CheckAnnotationBody(b); msg != "" {
			fe = append(fe, apperr.FieldError{Field: "body", Message: msg})
		}
		body = &b
	} else if create && !in.Body.Set {
		fe = append(fe, apperr.FieldError{Field: "body", Message: "is required"})
	}
	if in.At.value(&fe, "at") {
		t := in.At.V.UTC()
		if t.After(now.Add(24 * time.Hour)) {
			fe = append(fe, apperr.FieldError{Field: "at", Message: "must not be more than a day in the future"})
		}
		at = &t
	}
	if len(fe) > 0 {
		return nil, nil, apperr.Validation(fe...)
	}
	return at, body, nil
}

func (s *Server) createAnnotation(w http.ResponseWriter, r *http.Request, m Member) error {
	unitID, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	var in annotationInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	now := s.Now().UTC()
	at, body, err := in.check(true, now)
	if err != nil {
		return err
	}
	if at == nil {
		at = &now
	}
	a, err := s.DB.CreateAnnotation(r.Context(), m.OrgID, unitID, m.UserID, *at, *body)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusCreated, a)
	return nil
}

// editAnnotation is PATCH or (remove) DELETE of a note: its author may, and
// so may a member who manages units (store.EditAnnotation decides).
func (s *Server) editAnnotation(remove bool) OrgHandler {
	return func(w http.ResponseWriter, r *http.Request, m Member) error {
		unitID, err := PathID(r, "unitId")
		if err != nil {
			return err
		}
		id, err := PathID(r, "annotationId")
		if err != nil {
			return err
		}
		var c store.AnnotationChange
		if !remove {
			var in annotationInput
			if err := web.DecodeJSON(r, &in); err != nil {
				return err
			}
			if c.At, c.Body, err = in.check(false, s.Now().UTC()); err != nil {
				return err
			}
		}
		a, err := s.DB.EditAnnotation(r.Context(), m.OrgID, unitID, id, m.UserID, m.Can(access.ManageUnits), remove, c)
		if err != nil {
			return err
		}
		if remove {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		web.JSON(w, http.StatusOK, a)
		return nil
	}
}
