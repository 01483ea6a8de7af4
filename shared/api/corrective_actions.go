package api

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// correctiveActionRequest is one action of a resolve or corrective-actions
// body: what was done about the food.
type correctiveActionRequest struct {
	Action *string `json:"action"`
	// CoreTemperature (with TempUnit, C or F) is required for
	// core_temperature_checked and refused otherwise.
	CoreTemperature *float64 `json:"core_temperature"`
	TempUnit        *string  `json:"temp_unit"`
	MovedToUnitID   *string  `json:"moved_to_unit_id"`
	Note            *string  `json:"note"`
}

// resolveRequest is the body of POST .../resolve (optional: an empty POST
// resolves without a note when the condition has cleared).
type resolveRequest struct {
	Note              *string                   `json:"note"`
	CorrectiveActions []correctiveActionRequest `json:"corrective_actions"`
}

type resolveInput struct {
	note    string
	actions []store.CorrectiveActionInput
}

// decodeResolve reads the optional resolve body, reporting every invalid
// field at once.
func decodeResolve(r *http.Request) (resolveInput, error) {
	var in resolveInput
	body, err := web.ReadBody(r)
	if err != nil {
		return in, err
	}
	var req resolveRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if err := web.Unmarshal(body, &req); err != nil {
			return in, err
		}
	}
	var fe []apperr.FieldError
	if req.Note != nil {
		in.note = strings.TrimSpace(*req.Note)
		if err := domain.CheckAlertNote(in.note); err != nil {
			fe = append(fe, apperr.From(err).Details...)
		}
	}
	in.actions, fe = validateCorrectiveActions(req.CorrectiveActions, false, fe)
	if len(fe) > 0 {
		return in, apperr.Validation(fe...)
	}
	return in, nil
}

// validateCorrectiveActions checks the actions of a body (required: at
// least one), appending field errors to fe.
func validateCorrectiveActions(reqs []correctiveActionRequest, required bool, fe []apperr.FieldError) ([]store.CorrectiveActionInput, []apperr.FieldError) {
	switch {
	case required && len(reqs) == 0:
		return nil, append(fe, apperr.FieldError{Field: "corrective_actions", Message: "must name at least one action"})
	case len(reqs) > domain.MaxCorrectiveActions:
		return nil, append(fe, apperr.FieldError{Field: "corrective_actions", Message: fmt.Sprintf("at most %d actions at once", domain.MaxCorrectiveActions)})
	}
	out := make([]store.CorrectiveActionInput, 0, len(reqs))
	for i, c := range reqs {
		field := func(name string) string { return fmt.Sprintf("corrective_actions[%d].%s", i, name) }
		bad := func(name, msg string) { fe = append(fe, apperr.FieldError{Field: field(name), Message: msg}) }
		var in store.CorrectiveActionInput
		if c.Action == nil || !domain.ValidCorrectiveAction(*c.Action) {
			bad("action", "must be one of "+strings.Join(domain.CorrectiveActionKinds, ", "))
		} else {
			in.Action = *c.Action
		}
		if c.Note != nil {
			in.Note = strings.TrimSpace(*c.Note)
			if utf8.RuneCountInString(in.Note) > domain.AlertNoteMaxLen {
				bad("note", "must be at most 2000 characters")
			}
		}
		if in.Action == domain.CorrectiveOther && in.Note == "" {
			bad("note", "is required for other: say what was done")
		}
		switch {
		case in.Action == domain.CorrectiveCoreTempChecked && c.CoreTemperature == nil:
			bad("core_temperature", "is required for core_temperature_checked")
		case in.Action != domain.CorrectiveCoreTempChecked && c.CoreTemperature != nil:
			bad("core_temperature", "is only for core_temperature_checked")
		case c.CoreTemperature != nil:
			unit := domain.Celsius
			if c.TempUnit != nil {
				unit = domain.TempUnit(*c.TempUnit)
			}
			v := *c.CoreTemperature
			switch {
			case !unit.Valid():
				bad("temp_unit", "must be C or F")
			case math.IsNaN(v) || math.IsInf(v, 0):
				bad("core_temperature", "must be a number")
			default:
				tc := math.Round(domain.ToCelsius(v, unit)*100) / 100
				if tc < domain.ManualLogMinC || tc > domain.ManualLogMaxC {
					bad("core_temperature", "must be between "+domain.Format(domain.ManualLogMinC, unit)+" and "+domain.Format(domain.ManualLogMaxC, unit))
				}
				in.CoreTemperatureC = &tc
			}
		}
		if c.MovedToUnitID != nil {
			switch {
			case in.Action != domain.CorrectiveMoved:
				bad("moved_to_unit_id", "is only for moved")
			case !domain.IsUUID(*c.MovedToUnitID):
				bad("moved_to_unit_id", "must be a UUID")
			default:
				in.MovedToUnitID = strings.ToLower(*c.MovedToUnitID)
			}
		}
		out = append(out, in)
	}
	return out, fe
}

// addCorrectiveActions records actions taken about an alert, open or
// resolved (a core temperature checked after the alert closed, food
// discarded the next morning), and answers all of the alert's actions.
func (s *Server) addCorrectiveActions(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "alertId")
	if err != nil {
		return err
	}
	var req struct {
		CorrectiveActions []correctiveActionRequest `json:"corrective_actions"`
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	actions, fe := validateCorrectiveActions(req.CorrectiveActions, true, nil)
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	out, err := s.DB.AddCorrectiveActions(r.Context(), m.OrgID, id, m.UserID, actions)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusCreated, map[string]any{"items": out})
	return nil
}
