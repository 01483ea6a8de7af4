package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/store"
)

// Permanent deletion of a deleted site, area or unit (the SPA's
// "Recently deleted" page): store.Purge keeps HACCP records for the plan's
// retention. Each needs the permission that deletes it.
func (s *Server) registerPurge(mux *http.ServeMux) {
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/sites/{siteId}/purge", access.ManageSites, s.purge(store.EntitySite, "siteId"))
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/areas/{areaId}/purge", access.ManageSites, s.purge(store.EntityArea, "areaId"))
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/units/{unitId}/purge", access.ManageUnits, s.purge(store.EntityUnit, "unitId"))
}

func (s *Server) purge(entity, param string) OrgHandler {
	return func(w http.ResponseWriter, r *http.Request, m Member) error {
		id, err := PathID(r, param)
		if err != nil {
			return err
		}
		if err := s.DB.Purge(r.Context(), m.OrgID, entity, id, s.Now()); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
