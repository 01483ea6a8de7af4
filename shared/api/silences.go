package api

import (
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

// Snooze and maintenance windows (issue 14): a manager silences a unit's
// paging for a bounded time with a reason. Readings are still stored and
// judged, alerts still open and show "silenced until"; paging resumes,
// saying what it held, when the window ends (or is ended early). Every
// change is audited (the audit trail middleware), and the silences stay as
// the unit's history.
func (s *Server) registerSilences(mux *http.ServeMux) {
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/units/{unitId}/silence", access.SilenceAlarms, s.silenceUnit)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/units/{unitId}/silence", access.SilenceAlarms, s.endUnitSilence)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/units/{unitId}/silences", access.ReadOrganization, s.listUnitSilences)
}

type silenceRequest struct {
	Minutes *int    `json:"minutes"`
	Reason  *string `json:"reason"`
	Note    *string `json:"note"`
}

func (req silenceRequest) validate() (minutes int, reason, note string, err error) {
	var fe []apperr.FieldError
	bad := func(field, msg string) { fe = append(fe, apperr.FieldError{Field: field, Message: msg}) }
	switch {
	case req.Minutes == nil:
		bad("minutes", "is required")
	case *req.Minutes < domain.MinSilenceMinutes || *req.Minutes > domain.MaxSilenceMinutes:
		bad("minutes", "must be between 5 and 720 (12 hours)")
	default:
		minutes = *req.Minutes
	}
	switch {
	case req.Reason == nil:
		bad("reason", "is required")
	case !slices.Contains(domain.SilenceReasons, *req.Reason):
		bad("reason", "must be one of "+strings.Join(domain.SilenceReasons, ", "))
	default:
		reason = *req.Reason
	}
	if req.Note != nil {
		note = strings.TrimSpace(*req.Note)
		if utf8.RuneCountInString(note) > domain.MaxSilenceNote {
			bad("note", "must be at most 500 characters")
		}
	}
	if len(fe) > 0 {
		return 0, "", "", apperr.Validation(fe...)
	}
	return minutes, reason, note, nil
}

func (s *Server) silenceUnit(w http.ResponseWriter, r *http.Request, m Member) error {
	unitID, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	var req silenceRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	minutes, reason, note, err := req.validate()
	if err != nil {
		return err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	out, err := s.DB.SilenceUnit(r.Context(), m.OrgID, unitID, m.UserID, reason, note, now, now.Add(time.Duration(minutes)*time.Minute))
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) endUnitSilence(w http.ResponseWriter, r *http.Request, m Member) error {
	unitID, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	out, err := s.DB.EndUnitSilence(r.Context(), m.OrgID, unitID, m.UserID, s.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listUnitSilences(w http.ResponseWriter, r *http.Request, m Member) error {
	unitID, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	items, err := s.DB.UnitSilences(r.Context(), m.OrgID, unitID, s.Now())
	if err != nil {
		return err
	}
	if items == nil {
		items = []domain.UnitSilence{}
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}
