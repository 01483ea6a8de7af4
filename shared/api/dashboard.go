package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerDashboard(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/dashboard", access.ReadOrganization, s.getDashboard)
}

func (s *Server) getDashboard(w http.ResponseWriter, r *http.Request, m Member) error {
	d, err := s.DB.Dashboard(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, d)
	return nil
}
