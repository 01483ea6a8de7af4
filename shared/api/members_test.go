package api

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

// membershipID is the id of u's membership of org.
func (h *harness) membershipID(orgID string, u *testUser) string {
	h.t.Helper()
	var id string
	h.queryRow([]any{&id}, `SELECT id FROM memberships WHERE organization_id = $1 AND user_id = $2`, orgID, u.ID)
	return id
}

func (h *harness) roleOf(orgID string, u *testUser) string {
	h.t.Helper()
	var role string
	h.queryRow([]any{&role}, `SELECT coalesce((SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2), '')`, orgID, u.ID)
	return role
}

func TestMembersInvite(t *testing.T) {
	h := newHarness(t)
	owner, bob := h.user("owner"), h.user("bob")
	org := h.org("Alpha", owner)
	admin, manager, viewer := h.user("admin"), h.user("manager"), h.user("viewer")
	h.member(org, admin, access.Admin)
	h.member(org, manager, access.Manager)
	h.member(org, viewer, access.Viewer)
	path := "/api/v1/orgs/" + org + "/members"

	// Every invitation is pending (TestInvitationIsAlwaysPendingAndRevealsNoAccount).
	var p domain.OrgMember
	h.do(owner, http.MethodPost, path, map[string]any{"email": "newbie@example.test", "role": "viewer"}).must(t, 201).JSON(t, &p)
	if p.UserID != nil || p.Status != "pending" || p.Email != "newbie@example.test" || p.AcceptedAt != nil {
		t.Fatalf("pending %+v", p)
	}
	// Invited once only, and members are not invited again.
	for _, email := range []string{"newbie@example.test", "Newbie@Example.TEST", owner.Email} {
		r := h.do(owner, http.MethodPost, path, map[string]any{"email": email, "role": "viewer"}).must(t, 409)
		if r.ErrorCode() != "CONFLICT" || !strings.Contains(string(r.Body), `"field":"email"`) {
			t.Errorf("%s: %s", email, r.Body)
		}
	}
	// The members list shows the invitation, pending, until it is accepted.
	h.do(admin, http.MethodPost, path, map[string]any{"email": bob.Email, "role": "staff"}).must(t, 201)
	var list List[domain.OrgMember]
	h.do(viewer, http.MethodGet, path, nil).must(t, 200).JSON(t, &list)
	byID := map[string]domain.OrgMember{}
	for _, it := range list.Items {
		byID[it.ID] = it
	}
	if c := byID[p.ID]; len(list.Items) != 6 || c.Status != "pending" || c.UserID != nil || c.ExpiresAt == nil {
		t.Errorf("the list: %d items, %+v", len(list.Items), c)
	}

	// Roles the inviter may not grant, and members who may not invite.
	h.do(admin, http.MethodPost, path, map[string]any{"email": "x@example.test", "role": "owner"}).must(t, 403)
	h.do(owner, http.MethodPost, path, map[string]any{"email": "o2@example.test", "role": "owner"}).must(t, 201)
	h.do(manager, http.MethodPost, path, map[string]any{"email": "y@example.test", "role": "viewer"}).must(t, 403)
	h.do(viewer, http.MethodPost, path, map[string]any{"email": "z@example.test", "role": "viewer"}).must(t, 403)

	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"email": "not-an-address", "role": "staff"}, "email"},
		{map[string]any{"email": "Bob <bob2@example.test>", "role": "staff"}, "email"},
		{map[string]any{"email": "", "role": "staff"}, "email"},
		{map[string]any{"email": "c@example.test", "role": "superuser"}, "role"},
		{map[string]any{"email": "c@example.test"}, "role"},
		{`{"email": "c@example.test", "role": "staff", "org": "x"}`, ""},
	} {
		r := h.do(owner, http.MethodPost, path, tc.body).must(t, 400)
		if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) && tc.field != "" {
			t.Errorf("%v: %s", tc.body, r.Body)
		}
	}
}

func TestMembersListPagination(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	for i := range 4 {
		h.exec(`INSERT INTO memberships (organization_id, invited_email, role, status, invited_at, invite_sent_at, invite_expires_at, created_at)
			VALUES ($1, $2, 'staff', 'pending', now(), now(), now() + interval '7 days', now() + $3 * interval '1 second')`,
			org, fmt.Sprintf("p%d@example.test", i), i+1)
	}
	path := "/api/v1/orgs/" + org + "/members"
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		var l List[domain.OrgMember]
		h.do(owner, http.MethodGet, path+"?limit=2&cursor="+cursor, nil).must(t, 200).JSON(t, &l)
		for _, it := range l.Items {
			seen = append(seen, it.Email)
		}
		if cursor = l.NextCursor; cursor == "" || pages > 5 {
			break
		}
	}
	want := []string{owner.Email, "p0@example.test", "p1@example.test", "p2@example.test", "p3@example.test"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("pages gave %v, want %v", seen, want)
	}
	var l List[domain.OrgMember]
	h.do(owner, http.MethodGet, path+"?updated_since=2100-01-01T00:00:00Z", nil).must(t, 200).JSON(t, &l)
	if len(l.Items) != 0 || l.NextCursor != "" {
		t.Errorf("updated_since in the future: %+v", l)
	}
	h.do(owner, http.MethodGet, path+"?limit=0", nil).must(t, 400)
	h.do(owner, http.MethodGet, path+"?cursor=garbage", nil).must(t, 400)
	h.do(owner, http.MethodGet, path+"?updated_since=yesterday", nil).must(t, 400)
}

func TestMembersRoleChanges(t *testing.T) {
	for _, tc := range []struct {
		name         string
		actor        access.Role
		target       access.Role // "" = the actor themself
		to           access.Role
		extraOwner   bool
		status       int
		wantFinished access.Role
	}{
		{"admin promotes staff to manager", access.Admin, access.Staff, access.Manager, false, 200, access.Manager},
		{"admin demotes admin", access.Admin, access.Admin, access.Staff, false, 200, access.Staff},
		{"admin cannot make an owner", access.Admin, access.Staff, access.Owner, false, 403, access.Staff},
		{"admin cannot touch an owner", access.Admin, access.Owner, access.Admin, false, 403, access.Owner},
		{"admin cannot promote themself", access.Admin, "", access.Owner, false, 403, access.Admin},
		{"manager cannot change roles", access.Manager, access.Staff, access.Viewer, false, 403, access.Staff},
		{"staff cannot promote themself", access.Staff, "", access.Admin, false, 403, access.Staff},
		{"owner makes an owner", access.Owner, access.Admin, access.Owner, false, 200, access.Owner},
		{"owner demotes another owner", access.Owner, access.Owner, access.Admin, false, 200, access.Admin},
		{"admin steps down", access.Admin, "", access.Viewer, false, 200, access.Viewer},
		{"last owner cannot step down", access.Owner, "", access.Admin, false, 409, access.Owner},
		{"an owner steps down beside another", access.Owner, "", access.Admin, true, 200, access.Admin},
		{"same role is a no-op", access.Admin, access.Manager, access.Manager, false, 200, access.Manager},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			actor := h.user("actor")
			org := h.org("Alpha", h.user("founder"))
			if tc.actor == access.Owner && !tc.extraOwner && tc.target == "" {
				// the actor is the only owner
				h.exec(`DELETE FROM memberships WHERE organization_id = $1`, org)
			}
			h.member(org, actor, tc.actor)
			target := actor
			if tc.target != "" {
				target = h.user("target")
				h.member(org, target, tc.target)
			}
			r := h.do(actor, http.MethodPatch, "/api/v1/orgs/"+org+"/members/"+h.membershipID(org, target),
				map[string]any{"role": tc.to}).must(t, tc.status)
			if tc.status == 200 {
				var m domain.OrgMember
				r.JSON(t, &m)
				if m.Role != tc.to || m.UserID == nil || *m.UserID != target.ID {
					t.Errorf("answer %+v", m)
				}
			}
			if got := h.roleOf(org, target); got != string(tc.wantFinished) {
				t.Errorf("role now %q, want %q", got, tc.wantFinished)
			}
		})
	}
}

func TestMembersRoleChangeValidationAndPending(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	var p domain.OrgMember
	h.do(owner, http.MethodPost, "/api/v1/orgs/"+org+"/members", map[string]any{"email": "later@example.test", "role": "staff"}).
		must(t, 201).JSON(t, &p)
	path := "/api/v1/orgs/" + org + "/members/" + p.ID
	h.do(owner, http.MethodPatch, path, map[string]any{"role": "manager"}).must(t, 200).JSON(t, &p)
	if p.Role != access.Manager || p.Status != "pending" {
		t.Errorf("pending after patch %+v", p)
	}
	for _, body := range []any{map[string]any{"role": "god"}, map[string]any{}, `{"role": "staff", "user_id": "x"}`} {
		h.do(owner, http.MethodPatch, path, body).must(t, 400)
	}
	h.do(owner, http.MethodPatch, "/api/v1/orgs/"+org+"/members/00000000-0000-0000-0000-000000000000",
		map[string]any{"role": "staff"}).must(t, 404)
}

func TestMembersRemove(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	users := map[access.Role]*testUser{}
	for _, role := range []access.Role{access.Admin, access.Manager, access.Staff, access.Viewer, access.Inspector} {
		u := h.user(string(role))
		h.member(org, u, role)
		users[role] = u
	}
	del := func(actor, target *testUser) response {
		return h.do(actor, http.MethodDelete, "/api/v1/orgs/"+org+"/members/"+h.membershipID(org, target), nil)
	}
	del(users[access.Staff], users[access.Viewer]).must(t, 403)
	del(users[access.Manager], users[access.Staff]).must(t, 403)
	del(users[access.Admin], owner).must(t, 403)
	// The last owner can neither be removed nor leave.
	if r := del(owner, owner).must(t, 409); !strings.Contains(string(r.Body), "at least one owner") {
		t.Errorf("body %s", r.Body)
	}
	// Anyone may leave; admins remove those they outrank or equal.
	del(users[access.Inspector], users[access.Inspector]).must(t, 204)
	h.do(users[access.Inspector], http.MethodGet, "/api/v1/orgs/"+org, nil).must(t, 404)
	if r := del(users[access.Admin], users[access.Staff]).must(t, 204); len(r.Body) != 0 {
		t.Errorf("204 with a body: %s", r.Body)
	}
	del(owner, users[access.Admin]).must(t, 204)
	if h.roleOf(org, users[access.Staff]) != "" || h.roleOf(org, users[access.Admin]) != "" {
		t.Error("removed members are still there")
	}
	// Withdrawing an invitation.
	var p domain.OrgMember
	h.do(owner, http.MethodPost, "/api/v1/orgs/"+org+"/members", map[string]any{"email": "later@example.test", "role": "staff"}).
		must(t, 201).JSON(t, &p)
	h.do(owner, http.MethodDelete, "/api/v1/orgs/"+org+"/members/"+p.ID, nil).must(t, 204)
	h.do(owner, http.MethodDelete, "/api/v1/orgs/"+org+"/members/"+p.ID, nil).must(t, 404)
	// With a second owner, the first may leave.
	second := h.user("second")
	h.member(org, second, access.Owner)
	del(owner, owner).must(t, 204)
	del(second, second).must(t, 409)
}

// Two owners demoting each other (or themselves) at the same moment must
// not leave the organisation without an owner.
func TestMembersConcurrentOwnerDemotion(t *testing.T) {
	h := newHarness(t)
	for i := range 8 {
		crossed := i%2 == 0
		a, b := h.user(fmt.Sprintf("a%d", i)), h.user(fmt.Sprintf("b%d", i))
		org := h.org("Alpha", a)
		h.member(org, b, access.Owner)
		jobs := [2][2]*testUser{{a, b}, {b, a}} // actor, target
		if !crossed {
			jobs = [2][2]*testUser{{a, a}, {b, b}}
		}
		paths := [2]string{}
		for j, job := range jobs {
			paths[j] = "/api/v1/orgs/" + org + "/members/" + h.membershipID(org, job[1])
		}
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for j, job := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[j] = h.do(job[0], http.MethodPatch, paths[j], `{"role": "admin"}`).Status
			}()
		}
		wg.Wait()
		var owners int
		h.queryRow([]any{&owners}, `SELECT count(*) FROM memberships WHERE organization_id = $1 AND role = 'owner'`, org)
		ok := 0
		for _, s := range statuses {
			if s == 200 {
				ok++
			} else if s != 409 && s != 403 {
				t.Errorf("unexpected status %d", s)
			}
		}
		if owners != 1 || ok != 1 {
			t.Errorf("round %d (crossed %v): statuses %v, %d owners left", i, crossed, statuses, owners)
		}
	}
}

func TestMembersCrossTenant(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.user("alice"), h.user("bob")
	a, b := h.org("Alpha", alice), h.org("Beta", bob)
	bobsMember := h.membershipID(b, bob)
	// Bob's membership id through Alice's organisation: not found.
	h.do(alice, http.MethodPatch, "/api/v1/orgs/"+a+"/members/"+bobsMember, map[string]any{"role": "viewer"}).must(t, 404)
	h.do(alice, http.MethodDelete, "/api/v1/orgs/"+a+"/members/"+bobsMember, nil).must(t, 404)
	h.do(alice, http.MethodDelete, "/api/v1/orgs/"+a+"/members/not-a-uuid", nil).must(t, 404)
	// Alice on Bob's organisation, whatever the route: not found.
	for _, rt := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/orgs/" + b + "/members"},
		{http.MethodPost, "/api/v1/orgs/" + b + "/members"},
		{http.MethodPatch, "/api/v1/orgs/" + b + "/members/" + bobsMember},
		{http.MethodDelete, "/api/v1/orgs/" + b + "/members/" + bobsMember},
		{http.MethodGet, "/api/v1/orgs/" + b},
		{http.MethodPatch, "/api/v1/orgs/" + b},
		{http.MethodGet, "/api/v1/orgs/" + b + "/ttn-connection"},
		{http.MethodPost, "/api/v1/orgs/" + b + "/ttn-connection/rotate-secret"},
	} {
		var body any
		if rt.method == http.MethodPost || rt.method == http.MethodPatch {
			body = map[string]any{"role": "viewer", "email": "x@example.test"}
		}
		if r := h.do(alice, rt.method, rt.path, body); r.Status != 404 {
			t.Errorf("%s %s: %d %s", rt.method, rt.path, r.Status, r.Body)
		}
	}
	if h.roleOf(b, bob) != "owner" {
		t.Error("bob's membership changed")
	}
}
