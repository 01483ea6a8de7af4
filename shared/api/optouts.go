package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// The opt-out list is read-only: opting back in must come from the phone's
// owner (texting START), never from an admin, or the organisation could
// override a person's STOP — which carriers forbid.
func (s *Server) registerOptOuts(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/sms-opt-outs", access.ManageContacts, s.listOptOuts)
}

// listOptOuts answers every opted-out number of the organisation's
// contacts at once (bounded by the contacts, so next_cursor is always "").
func (s *Server) listOptOuts(w http.ResponseWriter, r *http.Request, m Member) error {
	items, err := s.DB.ListSMSOptOuts(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	if items == nil {
		items = []store.SMSOptOut{}
	}
	web.JSON(w, http.StatusOK, List[store.SMSOptOut]{Items: items})
	return nil
}
