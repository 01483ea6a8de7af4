package api

import (
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerAuditLog(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/audit-log", access.ReadAuditLog, s.listAuditLog)
}

var entityTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

const maxAuditActionLen = 300

// listAuditLog is the organisation's audit trail, newest first: the api's
// writes (audit middleware) and the system's own lines (alert engine
// status changes, billing provider events).
func (s *Server) listAuditLog(w http.ResponseWriter, r *http.Request, m Member) error {
	var f store.AuditFilter
	var details []apperr.FieldError
	collect := func(err error) {
		if err != nil {
			details = append(details, apperr.From(err).Details...)
		}
	}
	q := r.URL.Query()
	f.EntityType = q.Get("entity_type")
	if f.EntityType != "" && !entityTypePattern.MatchString(f.EntityType) {
		details = append(details, apperr.FieldError{Field: "entity_type", Message: "must be an entity type such as unit or alert"})
	}
	f.Action = q.Get("action")
	if len(f.Action) > maxAuditActionLen {
		details = append(details, apperr.FieldError{Field: "action", Message: "must be at most 300 characters"})
	}
	var err error
	f.EntityID, err = QueryUUID(r, "entity_id")
	collect(err)
	f.ActorUserID, err = QueryUUID(r, "actor_user_id")
	collect(err)
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
	if err := s.checkFilters(r.Context(), m.OrgID, idFilter{"entity_id", f.EntityID, []string{store.EntityAudit}},
		idFilter{"actor_user_id", f.ActorUserID, []string{store.EntityUser}}); err != nil {
		return err
	}
	f.Limit, f.AfterTime, f.AfterID = page.Limit+1, page.After.Time, page.After.ID
	items, err := s.DB.ListAudit(r.Context(), m.OrgID, f)
	if err != nil {
		return err
	}
	// Phone numbers are shown whole only to who sees them whole on
	// contacts (maskContact): an inspector reads the trail, not the numbers.
	if !m.Can(access.ManageContacts) {
		for i := range items {
			items[i].Before, items[i].After = maskPhones(items[i].Before), maskPhones(items[i].After)
		}
	}
	web.JSON(w, http.StatusOK, NewList(items, page.Limit, func(e store.AuditEntry) Cursor {
		return Cursor{Time: e.At, ID: e.ID}
	}))
	return nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// maskPhones masks every E.164 number in a JSON document, whatever its
// field (phone, recipient, from...), at any depth.
func maskPhones(doc json.RawMessage) json.RawMessage {
	if len(doc) == 0 {
		return doc
	}
	var v any
	if decodeJSONNumbers(doc, &v) != nil {
		return nil
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			if e164.MatchString(x) {
				return domain.MaskPhone(x)
			}
		case map[string]any:
			for k, val := range x {
				x[k] = walk(val)
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		}
		return v
	}
	out, _ := json.Marshal(walk(v))
	return out
}
