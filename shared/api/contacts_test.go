package api

import (
	"net/http"
	"testing"

	"github.com/frostguard/functions/shared/store"
)

func (e *hierEnv) createContact(t *testing.T, body any) store.EscalationContact {
	t.Helper()
	var c store.EscalationContact
	e.h.do(e.manager, http.MethodPost, e.path("/contacts"), body).must(t, http.StatusCreated).JSON(t, &c)
	return c
}

func TestContactsCRUD(t *testing.T) {
	e := newHierEnv(t)
	c := e.createContact(t, map[string]any{"name": " Alice ", "phone": "+1 (555) 555-0101", "email": "alice@example.test", "priority": 2})
	if c.Name != "Alice" || c.Phone == nil || *c.Phone != "+15555550101" || !c.IsActive || c.Priority != 2 {
		t.Fatalf("created %+v", c)
	}
	// "00" international prefix, email only, a linked member.
	d := e.createContact(t, map[string]any{"name": "Dana", "phone": "0044 20 7946 0000", "user_id": e.staff.ID})
	if *d.Phone != "+442079460000" || d.UserID == nil || *d.UserID != e.staff.ID {
		t.Fatalf("created %+v", d)
	}

	var got store.EscalationContact
	e.h.do(e.viewer, http.MethodGet, e.path("/contacts/%s", c.ID), nil).must(t, http.StatusOK).JSON(t, &got)
	if *got.Phone != "+*******0101" {
		t.Fatalf("a viewer sees phone %q, want it masked", *got.Phone)
	}
	e.h.do(e.manager, http.MethodGet, e.path("/contacts/%s", c.ID), nil).must(t, http.StatusOK).JSON(t, &got)
	if *got.Phone != "+15555550101" {
		t.Fatalf("a manager sees %q", *got.Phone)
	}

	var patched store.EscalationContact
	e.h.do(e.manager, http.MethodPatch, e.path("/contacts/%s", c.ID), map[string]any{"phone": nil, "priority": 5}).
		must(t, http.StatusOK).JSON(t, &patched)
	if patched.Phone != nil || patched.Priority != 5 || patched.Email == nil {
		t.Fatalf("patched %+v", patched)
	}
	// Clearing the last way to reach someone is refused.
	mustFieldError(t, e.h.do(e.manager, http.MethodPatch, e.path("/contacts/%s", c.ID), map[string]any{"email": nil}), "phone")

	e.h.do(e.manager, http.MethodDelete, e.path("/contacts/%s", c.ID), nil).must(t, http.StatusNoContent)
	e.h.do(e.manager, http.MethodGet, e.path("/contacts/%s", c.ID), nil).must(t, http.StatusOK).JSON(t, &got)
	if got.IsActive {
		t.Fatal("DELETE must deactivate")
	}

	var list List[store.EscalationContact]
	e.h.do(e.viewer, http.MethodGet, e.path("/contacts?active=true"), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != d.ID {
		t.Fatalf("active contacts %+v", list.Items)
	}
	e.h.do(e.viewer, http.MethodGet, e.path("/contacts?limit=1"), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.NextCursor == "" {
		t.Fatalf("page 1: %+v", list)
	}
	e.h.do(e.viewer, http.MethodGet, e.path("/contacts?limit=1&cursor=%s", list.NextCursor), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != d.ID || list.NextCursor != "" {
		t.Fatalf("page 2: %+v", list)
	}
}

func TestContactsValidation(t *testing.T) {
	e := newHierEnv(t)
	outsider := e.h.user("outsider")
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"no name", map[string]any{"phone": "+15555550100"}, "name"},
		{"blank name", map[string]any{"name": " ", "phone": "+15555550100"}, "name"},
		{"unreachable", map[string]any{"name": "X"}, "phone"},
		{"national number", map[string]any{"name": "X", "phone": "555-0100"}, "phone"},
		{"too long", map[string]any{"name": "X", "phone": "+1234567890123456"}, "phone"},
		{"letters", map[string]any{"name": "X", "phone": "+1555CALLNOW"}, "phone"},
		{"bad email", map[string]any{"name": "X", "email": "nobody"}, "email"},
		{"priority range", map[string]any{"name": "X", "email": "x@example.test", "priority": -1}, "priority"},
		{"priority null", map[string]any{"name": "X", "email": "x@example.test", "priority": nil}, "priority"},
		{"user id not a uuid", map[string]any{"name": "X", "email": "x@example.test", "user_id": "42"}, "user_id"},
		{"user not a member", map[string]any{"name": "X", "email": "x@example.test", "user_id": outsider.ID}, "user_id"},
		{"other tenant's user", map[string]any{"name": "X", "email": "x@example.test", "user_id": e.other.ID}, "user_id"},
		{"unknown field", map[string]any{"name": "X", "email": "x@example.test", "role": "boss"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustFieldError(t, e.h.do(e.manager, http.MethodPost, e.path("/contacts"), c.body), c.field)
		})
	}
	if n := rowCount(e.h, `SELECT count(*) FROM escalation_contacts`); n != 0 {
		t.Fatalf("%d contacts written by invalid requests", n)
	}
}

func TestContactsAccess(t *testing.T) {
	e := newHierEnv(t)
	c := e.createContact(t, map[string]any{"name": "Alice", "email": "a@example.test"})
	body := map[string]any{"name": "Bob", "email": "b@example.test"}
	for _, u := range []*testUser{e.staff, e.viewer, e.inspector} {
		e.h.do(u, http.MethodPost, e.path("/contacts"), body).must(t, http.StatusForbidden)
		e.h.do(u, http.MethodPatch, e.path("/contacts/%s", c.ID), body).must(t, http.StatusForbidden)
		e.h.do(u, http.MethodDelete, e.path("/contacts/%s", c.ID), nil).must(t, http.StatusForbidden)
		e.h.do(u, http.MethodGet, e.path("/contacts/%s", c.ID), nil).must(t, http.StatusOK)
	}
	e.h.do(nil, http.MethodGet, e.path("/contacts"), nil).must(t, http.StatusUnauthorized)
	// The other tenant: its own org path with our id, and our org path.
	e.h.do(e.other, http.MethodGet, e.otherPath("/contacts/%s", c.ID), nil).must(t, http.StatusNotFound)
	e.h.do(e.other, http.MethodPatch, e.otherPath("/contacts/%s", c.ID), body).must(t, http.StatusNotFound)
	e.h.do(e.other, http.MethodDelete, e.otherPath("/contacts/%s", c.ID), nil).must(t, http.StatusNotFound)
	e.h.do(e.other, http.MethodGet, e.path("/contacts"), nil).must(t, http.StatusNotFound)
	e.h.do(e.manager, http.MethodGet, e.path("/contacts/not-a-uuid"), nil).must(t, http.StatusNotFound)
	var list List[store.EscalationContact]
	e.h.do(e.other, http.MethodGet, e.otherPath("/contacts"), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 0 {
		t.Fatal("the other tenant sees our contacts")
	}
}

func rowCount(h *harness, sql string, args ...any) int {
	h.t.Helper()
	var n int
	h.queryRow([]any{&n}, sql, args...)
	return n
}
