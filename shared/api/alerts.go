package api

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerAlerts(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/alerts", access.ReadOrganization, s.listAlerts)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/alerts/{alertId}", access.ReadOrganization, s.getAlert)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/alerts/{alertId}/acknowledge", access.AcknowledgeAlerts, s.acknowledgeAlert)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/alerts/{alertId}/resolve", access.ResolveAlerts, s.resolveAlert)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/alerts/{alertId}/corrective-actions", access.ResolveAlerts, s.addCorrectiveActions)
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request, m Member) error {
	f, err := alertFilterFrom(r)
	if err != nil {
		return err
	}
	page, err := PageFrom(r)
	if err != nil {
		return err
	}
	if err := s.checkFilters(r.Context(), m.OrgID, idFilter{"unit_id", f.UnitID, []string{store.EntityUnit}},
		idFilter{"site_id", f.SiteID, []string{store.EntitySite}}, idFilter{"area_id", f.AreaID, []string{store.EntityArea}}); err != nil {
		return err
	}
	f.Limit, f.AfterTime, f.AfterID = page.Limit+1, page.After.Time, page.After.ID
	items, err := s.DB.ListAlerts(r.Context(), m.OrgID, f)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(items, page.Limit, func(a domain.Alert) Cursor {
		return Cursor{Time: a.TriggeredAt, ID: a.ID}
	}))
	return nil
}

// alertFilterFrom reads the list's query parameters, reporting every invalid
// one at once.
func alertFilterFrom(r *http.Request) (store.AlertFilter, error) {
	var f store.AlertFilter
	var details []apperr.FieldError
	collect := func(err error) {
		if err != nil {
			details = append(details, apperr.From(err).Details...)
		}
	}
	var err error
	f.UnitID, err = QueryUUID(r, "unit_id")
	collect(err)
	f.SiteID, err = QueryUUID(r, "site_id")
	collect(err)
	f.AreaID, err = QueryUUID(r, "area_id")
	collect(err)
	f.Statuses, err = QueryEnums(r, "status", append([]string{"open"}, domain.AlertStatuses...)...)
	collect(err)
	f.Type, err = QueryEnum(r, "type", domain.AlertTypes...)
	collect(err)
	f.Severities, err = QueryEnums(r, "severity", domain.AlertSeverities...)
	collect(err)
	f.From, err = QueryTime(r, "from")
	collect(err)
	f.To, err = QueryTime(r, "to")
	collect(err)
	f.UpdatedSince, err = QueryTime(r, "updated_since")
	collect(err)
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		details = append(details, apperr.FieldError{Field: "to", Message: "must be after from"})
	}
	if len(details) > 0 {
		return f, apperr.Validation(details...)
	}
	return f, nil
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "alertId")
	if err != nil {
		return err
	}
	a, err := s.DB.Alert(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	events, err := s.DB.AlertEvents(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	actions, err := s.DB.CorrectiveActions(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, domain.AlertDetail{Alert: a, Events: events, CorrectiveActions: actions})
	return nil
}

// alertNoteRequest is the body of acknowledge and resolve. The body itself
// is optional: an empty POST means no note.
type alertNoteRequest struct {
	Note *string `json:"note"`
}

// decodeAlertNote reads the optional body and returns the trimmed note.
func decodeAlertNote(r *http.Request) (string, error) {
	body, err := web.ReadBody(r)
	if err != nil {
		return "", err
	}
	var req alertNoteRequest
	if len(bytes.TrimSpace(body)) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := web.DecodeJSON(r, &req); err != nil {
			return "", err
		}
	}
	if req.Note == nil {
		return "", nil
	}
	note := strings.TrimSpace(*req.Note)
	return note, domain.CheckAlertNote(note)
}

func (s *Server) acknowledgeAlert(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "alertId")
	if err != nil {
		return err
	}
	note, err := decodeAlertNote(r)
	if err != nil {
		return err
	}
	a, err := s.DB.AcknowledgeAlert(r.Context(), m.OrgID, id, m.UserID, note)
	if err != nil {
		return err
	}
	realtime.PublishAlertChange(r.Context(), s.Live, m.OrgID, a)
	web.JSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) resolveAlert(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "alertId")
	if err != nil {
		return err
	}
	req, err := decodeResolve(r)
	if err != nil {
		return err
	}
	a, err := s.DB.ResolveAlert(r.Context(), m.OrgID, id, m.UserID, req.note, req.actions,
		func(alertType string, u domain.UnitCondition) error {
			return domain.CheckResolve(alertType, u, req.note, len(req.actions))
		})
	if err != nil {
		return err
	}
	metrics.Add(r.Context(), metrics.AlertsResolved, 1, "Type", a.Type, "Severity", a.Severity)
	realtime.PublishAlertChange(r.Context(), s.Live, m.OrgID, a)
	web.JSON(w, http.StatusOK, a)
	return nil
}
