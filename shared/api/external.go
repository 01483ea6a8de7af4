package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/access"
)

// HandleOrg registers an org-scoped route on mux exactly like the api's own
// routes: JWT, active membership of {orgId} (404 otherwise) and perm (403
// otherwise). Functions other than `api` that serve org-scoped routes
// (stripe-checkout) use it so they cannot authenticate differently.
func (s *Server) HandleOrg(mux *http.ServeMux, pattern string, perm access.Permission, h OrgHandler) {
	s.handleOrg(mux, pattern, perm, h)
}
