package api

import (
	"net/http"
	"slices"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

// testPageRequest is POST .../contacts/{contactId}/test.
type testPageRequest struct {
	Channel string `json:"channel"`
}

// sendTestPage queues a clearly marked test page to the contact on one
// channel (the dispatcher sends it within a minute: the api holds no
// provider keys) and answers 202 with its log entry; what became of it
// (sent, delivered, failed with the provider's reason, a test call's key 1)
// is in the notification log (?contact_id=...&kind=test). One a minute and
// five an hour per contact; audited like every write.
func (s *Server) sendTestPage(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "contactId")
	if err != nil {
		return err
	}
	var req testPageRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	if !slices.Contains(domain.NotificationChannels, req.Channel) {
		return apperr.Validation(apperr.FieldError{Field: "channel", Message: "must be sms, email or voice"})
	}
	n, err := s.DB.QueueTestPage(r.Context(), m.OrgID, id, req.Channel, func(orgName, contactName string) (string, string) {
		return alerting.TestPage(req.Channel, orgName, contactName)
	}, s.Now())
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusAccepted, n)
	return nil
}
