package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/web"
)

// The "effective policy" view of a unit (issue 20): for every alert type,
// which notification policy pages it and why (the unit's, its site's or the
// organisation's; one naming the type before an any-type one), with the
// policy's warnings, so the SPA can show who would be paged before an alert
// opens.
func (s *Server) registerEffectivePolicies(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/units/{unitId}/notification-policies/effective", access.ReadOrganization,
		s.effectivePolicies)
}

func (s *Server) effectivePolicies(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	eff, err := s.DB.EffectivePolicies(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	for i := range eff {
		if eff[i].Policy != nil {
			if err := s.annotatePolicy(r.Context(), m.OrgID, eff[i].Policy); err != nil {
				return err
			}
		}
	}
	web.JSON(w, http.StatusOK, map[string]any{"unit_id": id, "items": eff})
	return nil
}
