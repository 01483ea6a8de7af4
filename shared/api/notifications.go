package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerNotifications(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/notifications", access.ReadOrganization, s.listNotifications)
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, m Member) error {
	var f store.NotificationFilter
	var details []apperr.FieldError
	collect := func(err error) {
		if err != nil {
			details = append(details, apperr.From(err).Details...)
		}
	}
	var err error
	f.AlertID, err = QueryUUID(r, "alert_id")
	collect(err)
	f.ContactID, err = QueryUUID(r, "contact_id")
	collect(err)
	f.Kind, err = QueryEnum(r, "kind", domain.NotificationKinds...)
	collect(err)
	f.Status, err = QueryEnum(r, "status", domain.NotificationStatuses...)
	collect(err)
	f.Channel, err = QueryEnum(r, "channel", domain.NotificationChannels...)
	collect(err)
	f.UpdatedSince, err = QueryTime(r, "updated_since")
	collect(err)
	if len(details) > 0 {
		return apperr.Validation(details...)
	}
	page, err := PageFrom(r)
	if err != nil {
		return err
	}
	if err := s.checkFilters(r.Context(), m.OrgID, idFilter{"alert_id", f.AlertID, []string{store.EntityAlert}},
		idFilter{"contact_id", f.ContactID, []string{store.EntityContact}}); err != nil {
		return err
	}
	f.Limit, f.AfterTime, f.AfterID = page.Limit+1, page.After.Time, page.After.ID
	items, err := s.DB.ListNotifications(r.Context(), m.OrgID, f)
	if err != nil {
		return err
	}
	// Phone numbers are personal data of colleagues and contacts: only those
	// who manage the organisation (manager and up; inspectors rank below) see
	// them whole.
	if !m.Role.AtLeast(access.Manager) {
		for i := range items {
			if domain.PhoneChannel(items[i].Channel) {
				items[i].Recipient = domain.MaskPhone(items[i].Recipient)
			}
		}
	}
	web.JSON(w, http.StatusOK, NewList(items, page.Limit, func(n domain.Notification) Cursor {
		return Cursor{Time: n.CreatedAt, ID: n.ID}
	}))
	return nil
}
