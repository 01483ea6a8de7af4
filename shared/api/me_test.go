package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/testenv"
)

func TestMeListsMemberships(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.user("alice"), h.user("bob")
	a := h.org("Alpha", alice)
	b := h.org("Beta", bob)
	h.member(b, alice, access.Viewer)

	var me meResponse
	h.do(alice, http.MethodGet, "/api/v1/me", nil).must(t, 200).JSON(t, &me)
	if me.ID != alice.ID || me.Email != alice.Email || len(me.Memberships) != 2 {
		t.Fatalf("me = %+v", me)
	}
	roles := map[string]access.Role{}
	for _, m := range me.Memberships {
		roles[m.OrganizationID] = m.Role
	}
	if roles[a] != access.Owner || roles[b] != access.Viewer {
		t.Errorf("roles = %v", roles)
	}
}

// The first request of a new person creates their user and claims nothing
// (invitations are accepted explicitly: TestInvitationAcceptAndDecline).
func TestFirstSightCreatesTheUser(t *testing.T) {
	h := newHarness(t)
	tok, err := h.signer.Mint(identity("7b0e3c1a-2d4f-4a6b-8c9d-0e1f2a3b4c5d", "Newcomer@Example.test", "New"), 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	newcomer := &testUser{Token: tok}
	var me meResponse
	h.do(newcomer, http.MethodGet, "/api/v1/me", nil).must(t, 200).JSON(t, &me)
	if me.ID == "" || len(me.Memberships) != 0 || !me.EmailVerified || me.Invitations == nil {
		t.Fatalf("me = %+v", me)
	}
	// A second request finds the same user.
	var again meResponse
	h.do(newcomer, http.MethodGet, "/api/v1/me", nil).must(t, 200).JSON(t, &again)
	if again.ID != me.ID {
		t.Error("a second request created another user")
	}
}

func TestNoTokenIs401(t *testing.T) {
	h := newHarness(t)
	r := h.do(nil, http.MethodGet, "/api/v1/me", nil).must(t, 401)
	if r.ErrorCode() != "UNAUTHENTICATED" {
		t.Errorf("code %q", r.ErrorCode())
	}
}

// The verifier's attack matrix (shared/auth) seen through a route: forged
// or stale tokens never reach a handler.
func TestForgedTokensAreRefusedByTheAPI(t *testing.T) {
	h := newHarness(t)
	real := h.user("real")
	parts := strings.Split(real.Token, ".")
	expired, err := h.signer.Mint(identity(real.Subject, real.Email, "x"), -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"alg none":     "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".",
		"no signature": parts[0] + "." + parts[1] + ".",
		"expired":      expired,
		"garbage":      "garbage",
	} {
		r := h.do(&testUser{Token: tok}, http.MethodGet, "/api/v1/me", nil)
		if r.Status != http.StatusUnauthorized {
			t.Errorf("%s: status %d", name, r.Status)
		}
	}
}

// A token whose subject is missing, empty or not a UUID names no user: 401,
// and two such tokens never become one shared account.
func TestTokensWithoutAUsableSubjectAre401(t *testing.T) {
	h := newHarness(t)
	for name, sub := range map[string]string{"empty": "", "blank": " ", "not a uuid": "admin", "sql-ish": "x' OR '1'='1"} {
		tok, err := h.signer.Mint(identity(sub, "someone@example.test", "Someone"), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if r := h.do(&testUser{Token: tok}, http.MethodGet, "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("%s subject: %d %s", name, r.Status, r.Body)
		}
	}
	var users int
	if err := testenv.Pool(h.db).QueryRow(t.Context(), `SELECT count(*) FROM users`).Scan(&users); err != nil || users != 0 {
		t.Errorf("%d users created (%v)", users, err)
	}
}
