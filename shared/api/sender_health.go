package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerSenderHealth(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/sender-health", access.ManagePolicies, s.getSenderHealth)
}

// getSenderHealth answers the newest sender health report (the sweeper's,
// every 15 minutes: the api holds no provider keys): whether SMS, calls and
// e-mails can go out, and why not ("cannot send SMS: toll-free verification
// pending"). Before the first check, status "unknown" with no channels; a
// report older than three checks is marked stale (the check is not running).
func (s *Server) getSenderHealth(w http.ResponseWriter, r *http.Request, _ Member) error {
	h, err := s.DB.SenderHealth(r.Context())
	if err != nil {
		return err
	}
	if h == nil {
		web.JSON(w, http.StatusOK, map[string]any{"status": "unknown", "checked_at": nil, "channels": []store.SenderChannel{}, "stale": false})
		return nil
	}
	h.Stale = s.Now().Sub(h.CheckedAt) > 3*store.SenderHealthEvery
	web.JSON(w, http.StatusOK, h)
	return nil
}
