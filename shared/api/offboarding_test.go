package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

func TestOffboardingRoutes(t *testing.T) {
	h := newHarness(t)
	owner, admin := h.user("owner"), h.user("admin")
	org := h.org("Bistro Alpha", owner)
	h.member(org, admin, access.Admin)
	base := "/api/v1/orgs/" + org

	// Owners only: an admin may not take everything away, nor delete.
	h.do(admin, http.MethodPost, base+"/exports", nil).must(t, http.StatusForbidden)
	h.do(admin, http.MethodPost, base+"/deletion", map[string]string{"confirm_name": "Bistro Alpha"}).must(t, http.StatusForbidden)

	var e struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	h.do(owner, http.MethodPost, base+"/exports", nil).must(t, http.StatusAccepted).JSON(t, &e)
	if e.ID == "" || e.Status != "pending" {
		t.Fatalf("export %+v", e)
	}
	var again struct{ ID string }
	h.do(owner, http.MethodPost, base+"/exports", nil).must(t, http.StatusAccepted).JSON(t, &again)
	if again.ID != e.ID {
		t.Errorf("a second request while one is pending made another")
	}
	h.do(owner, http.MethodGet, base+"/exports/"+e.ID, nil).must(t, http.StatusOK)

	h.do(owner, http.MethodPost, base+"/deletion", map[string]string{"confirm_name": "bistro alpha"}).must(t, http.StatusBadRequest)
	var d struct {
		RequestedAt time.Time `json:"requested_at"`
		DueAt       time.Time `json:"deletion_due_at"`
	}
	h.do(owner, http.MethodPost, base+"/deletion", map[string]string{"confirm_name": "Bistro Alpha"}).must(t, http.StatusAccepted).JSON(t, &d)
	if got := d.DueAt.Sub(d.RequestedAt); got != domain.OrganizationDeletionGrace {
		t.Errorf("grace %v, want %v", got, domain.OrganizationDeletionGrace)
	}
	h.do(owner, http.MethodDelete, base+"/deletion", nil).must(t, http.StatusNoContent)
	h.do(owner, http.MethodDelete, base+"/deletion", nil).must(t, http.StatusNotFound)
}
