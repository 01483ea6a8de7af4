package api

import (
	"net/http"
	"testing"

	"github.com/frostguard/functions/shared/store"
)

// The opt-out table is global; an organisation sees only its contacts'
// numbers, and nobody can opt a number back in through the api.
func TestSMSOptOuts(t *testing.T) {
	e := newHierEnv(t)
	alice := e.createContact(t, map[string]any{"name": "Alice", "phone": "+15555550101"})
	e.createContact(t, map[string]any{"name": "Alice (night)", "phone": "+15555550101"})
	e.createContact(t, map[string]any{"name": "Bob", "phone": "+15555550102"})
	e.h.exec(`INSERT INTO escalation_contacts (organization_id, name, phone) VALUES ($1, 'Theirs', '+15555550199')`, e.otherOrg)
	e.h.exec(`INSERT INTO sms_opt_outs (phone, source) VALUES ('+15555550101', 'inbound_sms'), ('+15555550199', 'inbound_sms')`)

	var list List[store.SMSOptOut]
	e.h.do(e.manager, http.MethodGet, e.path("/sms-opt-outs"), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].Phone != "+15555550101" || len(list.Items[0].Contacts) != 2 ||
		list.Items[0].Contacts[0].ID != alice.ID || list.Items[0].Source != "inbound_sms" || list.NextCursor != "" {
		t.Fatalf("opt-outs %+v", list)
	}
	e.h.do(e.other, http.MethodGet, e.otherPath("/sms-opt-outs"), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].Phone != "+15555550199" {
		t.Fatalf("other tenant's opt-outs %+v", list)
	}
	for _, u := range []*testUser{e.staff, e.viewer, e.inspector} {
		e.h.do(u, http.MethodGet, e.path("/sms-opt-outs"), nil).must(t, http.StatusForbidden)
	}
	e.h.do(e.other, http.MethodGet, e.path("/sms-opt-outs"), nil).must(t, http.StatusNotFound)
	e.h.do(e.owner, http.MethodDelete, e.path("/sms-opt-outs/%s", "+15555550101"), nil).must(t, http.StatusNotFound)

	// No opt-outs: an empty list, not null.
	e.h.exec(`DELETE FROM sms_opt_outs`)
	e.h.do(e.manager, http.MethodGet, e.path("/sms-opt-outs"), nil).must(t, http.StatusOK).JSON(t, &list)
	if list.Items == nil || len(list.Items) != 0 {
		t.Fatalf("%+v", list)
	}
}
