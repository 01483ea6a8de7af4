package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/testenv"
)

// signIn mints a token for a person who has not called the api yet (no
// users row): their first request is the first sight.
func (h *harness) signIn(name, email string, verified bool) *testUser {
	h.t.Helper()
	u := &testUser{Subject: testenv.NewSubject(), Email: email}
	tok, err := h.signer.Mint(auth.Identity{Subject: u.Subject, Email: email, Name: name, EmailUnverified: !verified}, time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	u.Token = tok
	return u
}

// invitationWorld is an organisation whose admin invites people.
type invitationWorld struct {
	h            *harness
	owner, admin *testUser
	manager      *testUser
	org          string
}

func newInvitationWorld(t *testing.T) *invitationWorld {
	h := newHarness(t)
	h.srv.FrontendURL = "https://app.example.test"
	w := &invitationWorld{h: h, owner: h.user("owner"), admin: h.user("admin"), manager: h.user("manager")}
	w.org = h.org("Alpha Bistro", w.owner)
	h.member(w.org, w.admin, access.Admin)
	h.member(w.org, w.manager, access.Manager)
	return w
}

func (w *invitationWorld) invite(t *testing.T, email string, role access.Role) domain.OrgMember {
	t.Helper()
	var m domain.OrgMember
	w.h.do(w.admin, http.MethodPost, "/api/v1/orgs/"+w.org+"/members", map[string]any{"email": email, "role": role}).
		must(t, http.StatusCreated).JSON(t, &m)
	return m
}

func (w *invitationWorld) me(t *testing.T, u *testUser) meResponse {
	t.Helper()
	var me meResponse
	w.h.do(u, http.MethodGet, "/api/v1/me", nil).must(t, http.StatusOK).JSON(t, &me)
	return me
}

// An invitation is always pending, whether or not the address has an
// account: the answer is the same (no user id, no name), and nobody becomes
// a member before accepting.
func TestInvitationIsAlwaysPendingAndRevealsNoAccount(t *testing.T) {
	w := newInvitationWorld(t)
	bob := w.h.user("bob") // has an account
	known := w.invite(t, "BOB@example.test", access.Staff)
	unknown := w.invite(t, "nobody-yet@example.test", access.Staff)
	for _, m := range []domain.OrgMember{known, unknown} {
		if m.Status != "pending" || m.UserID != nil || m.DisplayName != "" || m.AcceptedAt != nil || m.ExpiresAt == nil {
			t.Errorf("invitation %+v", m)
		}
	}
	if known.Email != "bob@example.test" {
		t.Errorf("the address is kept as invited, lower-cased: %q", known.Email)
	}
	w.h.do(bob, http.MethodGet, "/api/v1/orgs/"+w.org, nil).must(t, http.StatusNotFound)
}

// A token whose e-mail is not verified never claims an invitation: not at
// first sign-in, not by accepting, and the invitation is not even listed.
func TestUnverifiedEmailCannotClaimAnInvitation(t *testing.T) {
	w := newInvitationWorld(t)
	inv := w.invite(t, "target@example.test", access.Admin)
	mallory := w.h.signIn("mallory", "target@example.test", false)
	me := w.me(t, mallory) // first sight
	if me.EmailVerified || len(me.Invitations) != 0 || len(me.Memberships) != 0 {
		t.Fatalf("an unverified address sees %+v", me)
	}
	w.h.do(mallory, http.MethodGet, "/api/v1/orgs/"+w.org, nil).must(t, http.StatusNotFound)
	r := w.h.do(mallory, http.MethodPost, "/api/v1/me/invitations/"+inv.ID+"/accept", nil).must(t, http.StatusForbidden)
	if !strings.Contains(string(r.Body), "verif") {
		t.Errorf("the refusal does not say why: %s", r.Body)
	}
	w.h.do(mallory, http.MethodPost, "/api/v1/me/invitations/"+inv.ID+"/decline", nil).must(t, http.StatusForbidden)
	var status string
	w.h.queryRow([]any{&status}, `SELECT status FROM memberships WHERE id = $1`, inv.ID)
	if status != "pending" {
		t.Errorf("the invitation is %s", status)
	}
}

// The invited person (verified address) sees the invitation in GET /me and
// accepts or declines it; someone else cannot, whatever they know.
func TestInvitationAcceptAndDecline(t *testing.T) {
	w := newInvitationWorld(t)
	inv := w.invite(t, "newbie@example.test", access.Staff)
	other := w.invite(t, "newbie+2@example.test", access.Viewer)
	newbie := w.h.signIn("Newbie", "Newbie@Example.test", true)
	me := w.me(t, newbie)
	if !me.EmailVerified || len(me.Memberships) != 0 || len(me.Invitations) != 1 {
		t.Fatalf("me %+v", me)
	}
	got := me.Invitations[0]
	if got.ID != inv.ID || got.OrganizationID != w.org || got.OrganizationName != "Alpha Bistro" || got.Role != access.Staff ||
		got.InvitedBy != "admin" || got.ExpiresAt.Before(time.Now().Add(7*24*time.Hour-time.Minute)) {
		t.Errorf("invitation %+v", got)
	}
	// Someone else, verified, with the id in hand: 404.
	eve := w.h.signIn("Eve", "eve@example.test", true)
	w.h.do(eve, http.MethodPost, "/api/v1/me/invitations/"+inv.ID+"/accept", nil).must(t, http.StatusNotFound)
	w.h.do(newbie, http.MethodPost, "/api/v1/me/invitations/"+other.ID+"/accept", nil).must(t, http.StatusNotFound)

	var m domain.Membership
	w.h.do(newbie, http.MethodPost, "/api/v1/me/invitations/"+inv.ID+"/accept", nil).must(t, http.StatusOK).JSON(t, &m)
	if m.OrganizationID != w.org || m.Role != access.Staff {
		t.Errorf("membership %+v", m)
	}
	me = w.me(t, newbie)
	if len(me.Memberships) != 1 || len(me.Invitations) != 0 {
		t.Errorf("after accepting: %+v", me)
	}
	w.h.do(newbie, http.MethodPost, "/api/v1/me/invitations/"+inv.ID+"/accept", nil).must(t, http.StatusNotFound)

	// Declining removes the invitation; it is never a membership.
	second := w.h.signIn("Second", "newbie+2@example.test", true)
	w.h.do(second, http.MethodPost, "/api/v1/me/invitations/"+other.ID+"/decline", nil).must(t, http.StatusNoContent)
	var left int
	w.h.queryRow([]any{&left}, `SELECT count(*) FROM memberships WHERE id = $1`, other.ID)
	if left != 0 || len(w.me(t, second).Memberships) != 0 {
		t.Errorf("a declined invitation left %d rows", left)
	}
	// Both answers are in the organisation's audit trail, by the invitee.
	var actions []string
	w.h.queryRow([]any{&actions}, `SELECT array_agg(action ORDER BY at) FROM audit_log WHERE organization_id = $1 AND action LIKE 'invitation.%'`, w.org)
	if strings.Join(actions, ",") != "invitation.accepted,invitation.declined" {
		t.Errorf("audit %v", actions)
	}
}

// An invitation expires after 7 days: it is no longer listed or accepted,
// and the admins see it as expired until they resend or revoke it.
func TestInvitationExpiresAfterSevenDays(t *testing.T) {
	w := newInvitationWorld(t)
	inv := w.invite(t, "late@example.test", access.Viewer)
	if inv.ExpiresAt.Sub(time.Now().Add(domain.InvitationTTL)).Abs() > time.Minute {
		t.Errorf("expires at %v", inv.ExpiresAt)
	}
	w.h.exec(`UPDATE memberships SET invite_expires_at = now() - interval '1 second' WHERE id = $1`, inv.ID)
	late := w.h.signIn("Late", "late@example.test", true)
	if me := w.me(t, late); len(me.Invitations) != 0 {
		t.Errorf("an expired invitation is listed: %+v", me.Invitations)
	}
	r := w.h.do(late, http.MethodPost, "/api/v1/me/invitations/"+inv.ID+"/accept", nil).must(t, http.StatusConflict)
	if !strings.Contains(string(r.Body), "expired") {
		t.Errorf("body %s", r.Body)
	}
	var list List[domain.OrgInvitation]
	w.h.do(w.admin, http.MethodGet, "/api/v1/orgs/"+w.org+"/invitations", nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || !list.Items[0].Expired {
		t.Fatalf("admin list %+v", list.Items)
	}
	w.h.do(w.admin, http.MethodPost, "/api/v1/orgs/"+w.org+"/invitations/"+inv.ID+"/resend", nil).must(t, http.StatusOK)
	w.h.do(late, http.MethodPost, "/api/v1/me/invitations/"+inv.ID+"/accept", nil).must(t, http.StatusOK)
}

// The invitee gets an e-mail through the notifications outbox (the same
// dispatcher, senders and limits as alerts), written in the invitation's
// transaction, with a link to the frontend.
func TestInvitationEmailIsQueuedWithTheInvitation(t *testing.T) {
	w := newInvitationWorld(t)
	inv := w.invite(t, "Chef@Example.test", access.Manager)
	var kind, channel, recipient, subject, body string
	w.h.queryRow([]any{&kind, &channel, &recipient, &subject, &body}, `SELECT kind, channel, recipient, subject, body
		FROM notifications WHERE organization_id = $1`, w.org)
	if kind != "invitation" || channel != "email" || recipient != "chef@example.test" {
		t.Errorf("outbox row %s %s %s", kind, channel, recipient)
	}
	for _, want := range []string{"Alpha Bistro", "manager", "https://app.example.test/invitations/" + inv.ID, "7 days"} {
		if !strings.Contains(subject+"\n"+body, want) {
			t.Errorf("the e-mail lacks %q:\n%s\n%s", want, subject, body)
		}
	}
}

// Owners and admins list, resend and revoke pending invitations; a role
// that does not manage members cannot, and nobody acts above their role.
func TestInvitationsListResendRevoke(t *testing.T) {
	w := newInvitationWorld(t)
	inv := w.invite(t, "cook@example.test", access.Staff)
	var ownerInv domain.OrgMember
	w.h.do(w.owner, http.MethodPost, "/api/v1/orgs/"+w.org+"/members", map[string]any{"email": "co-owner@example.test", "role": "owner"}).
		must(t, http.StatusCreated).JSON(t, &ownerInv)
	base := "/api/v1/orgs/" + w.org + "/invitations"

	var list List[domain.OrgInvitation]
	w.h.do(w.admin, http.MethodGet, base, nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 2 || list.Items[0].Email != "cook@example.test" || list.Items[0].InvitedBy == nil {
		t.Fatalf("list %+v", list.Items)
	}
	w.h.do(w.manager, http.MethodGet, base, nil).must(t, http.StatusForbidden)
	w.h.do(w.manager, http.MethodPost, base+"/"+inv.ID+"/resend", nil).must(t, http.StatusForbidden)
	w.h.do(w.manager, http.MethodDelete, base+"/"+inv.ID, nil).must(t, http.StatusForbidden)

	// Resend: a new e-mail, a new expiry; not twice within a minute.
	w.h.exec(`UPDATE memberships SET invite_expires_at = now() + interval '1 day', invite_sent_at = now() - interval '2 minutes' WHERE id = $1`, inv.ID)
	var resent domain.OrgInvitation
	w.h.do(w.admin, http.MethodPost, base+"/"+inv.ID+"/resend", nil).must(t, http.StatusOK).JSON(t, &resent)
	if resent.ExpiresAt.Before(time.Now().Add(domain.InvitationTTL - time.Minute)) {
		t.Errorf("resend kept the old expiry: %v", resent.ExpiresAt)
	}
	w.h.do(w.admin, http.MethodPost, base+"/"+inv.ID+"/resend", nil).must(t, http.StatusTooManyRequests)
	var emails int
	w.h.queryRow([]any{&emails}, `SELECT count(*) FROM notifications WHERE kind = 'invitation' AND recipient = 'cook@example.test'`)
	if emails != 2 {
		t.Errorf("%d invitation e-mails, want 2", emails)
	}
	// An admin cannot resend or revoke an owner's invitation.
	w.h.do(w.admin, http.MethodPost, base+"/"+ownerInv.ID+"/resend", nil).must(t, http.StatusForbidden)
	w.h.do(w.admin, http.MethodDelete, base+"/"+ownerInv.ID, nil).must(t, http.StatusForbidden)

	// Revoke: the invitee can no longer accept.
	w.h.do(w.admin, http.MethodDelete, base+"/"+inv.ID, nil).must(t, http.StatusNoContent)
	cook := w.h.signIn("Cook", "cook@example.test", true)
	w.h.do(cook, http.MethodPost, "/api/v1/me/invitations/"+inv.ID+"/accept", nil).must(t, http.StatusNotFound)
	// A membership is not an invitation.
	w.h.do(w.owner, http.MethodDelete, base+"/"+w.h.membershipID(w.org, w.admin), nil).must(t, http.StatusNotFound)
}
