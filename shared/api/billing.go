package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerBilling(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/billing", access.ReadOrganization, s.getBilling)
}

func (s *Server) getBilling(w http.ResponseWriter, r *http.Request, m Member) error {
	b, err := s.DB.BillingStatus(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	b.CanManage = m.Can(access.ManageBilling)
	b.InGoodStanding, b.Flag = domain.Entitlement(b.Status, b.TrialEndsAt, b.CurrentPeriodEnd, s.Now())
	web.JSON(w, http.StatusOK, b)
	return nil
}
