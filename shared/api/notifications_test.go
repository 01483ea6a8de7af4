package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/testenv"
)

// fixtureNotification inserts a row of the outbox and returns its id.
func (h *harness) fixtureNotification(orgID string, alertID any, kind, channel, recipient, status string, createdAt time.Time) string {
	h.t.Helper()
	var id string
	h.queryRow([]any{&id}, `INSERT INTO notifications (organization_id, alert_id, kind, channel, recipient, status, attempts,
			provider, body, sent_at, delivered_at, failed_at, last_error, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6 = 'pending' THEN 0 ELSE 1 END, 'log', 'Cooler is too warm',
			CASE WHEN $6 IN ('sent', 'delivered') THEN $7::timestamptz END,
			CASE WHEN $6 = 'delivered' THEN $7::timestamptz END,
			CASE WHEN $6 = 'failed' THEN $7::timestamptz END,
			CASE WHEN $6 = 'failed' THEN 'mailbox unavailable' END, $7, $7)
		RETURNING id`, orgID, alertID, kind, channel, recipient, status, createdAt)
	return id
}

func notificationIDs(items []domain.Notification) []string {
	out := make([]string, len(items))
	for i, n := range items {
		out[i] = n.ID
	}
	return out
}

func TestNotificationsLog(t *testing.T) {
	h := newHarness(t)
	a := h.alertActors()
	owner := a.roles[access.Owner]
	alert1 := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{})
	alert2 := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{Type: domain.AlertDoorOpen})
	now := time.Now().UTC().Truncate(time.Second)
	n1 := h.fixtureNotification(a.org, alert1, "alert", "sms", "+15555550100", "delivered", now.Add(-1*time.Minute))
	n2 := h.fixtureNotification(a.org, alert1, "alert", "email", "ops@example.test", "failed", now.Add(-2*time.Minute))
	n3 := h.fixtureNotification(a.org, alert2, "alert", "sms", "+447700900123", "pending", now.Add(-3*time.Minute))
	n4 := h.fixtureNotification(a.org, nil, "test", "sms", "+15555550100", "sent", now.Add(-4*time.Minute))
	h.exec(`UPDATE notifications SET updated_at = now() - interval '1 day' WHERE organization_id = $1`, a.org)
	h.exec(`UPDATE notifications SET updated_at = now() WHERE id = $1`, n3)

	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{n1, n2, n3, n4}},
		{"alert_id=" + alert1, []string{n1, n2}},
		{"status=failed", []string{n2}},
		{"channel=sms", []string{n1, n3, n4}},
		{"channel=sms&status=pending", []string{n3}},
		{"updated_since=" + now.Add(-time.Hour).Format(time.RFC3339), []string{n3}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			var l List[domain.Notification]
			h.do(owner, http.MethodGet, "/api/v1/orgs/"+a.org+"/notifications?"+tc.query, nil).must(t, 200).JSON(t, &l)
			if got := notificationIDs(l.Items); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	var l List[domain.Notification]
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+a.org+"/notifications?status=failed", nil).must(t, 200).JSON(t, &l)
	if n := l.Items[0]; n.AlertID == nil || *n.AlertID != alert1 || n.Kind != "alert" || n.Channel != "email" || n.Attempts != 1 ||
		n.LastError == nil || *n.LastError != "mailbox unavailable" || n.FailedAt == nil || n.SentAt != nil ||
		n.Provider == nil || *n.Provider != "log" || !n.CreatedAt.Equal(now.Add(-2*time.Minute)) {
		t.Errorf("failed notification = %+v", n)
	}

	// Phone numbers are whole for managers and up, masked below; e-mail
	// addresses are not masked.
	masked := map[access.Role]bool{access.Owner: false, access.Admin: false, access.Manager: false,
		access.Staff: true, access.Viewer: true, access.Inspector: true}
	for role, mask := range masked {
		var l List[domain.Notification]
		h.do(a.roles[role], http.MethodGet, "/api/v1/orgs/"+a.org+"/notifications", nil).must(t, 200).JSON(t, &l)
		got := []string{l.Items[0].Recipient, l.Items[1].Recipient, l.Items[2].Recipient}
		want := []string{"+15555550100", "ops@example.test", "+447700900123"}
		if mask {
			want = []string{"+*******0100", "ops@example.test", "+********0123"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s sees %v, want %v", role, got, want)
		}
	}
}

func TestNotificationsPaginationAndValidation(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	u := h.unit(org)
	alert := h.fixtureAlert(org, u.UnitID, alertSpec{})
	// 60 rows, two per created_at: the id tie-break crosses page boundaries.
	h.exec(`INSERT INTO notifications (organization_id, alert_id, escalation_step, channel, recipient, body, created_at)
		SELECT $1, $2, i, 'email', 'ops@example.test', 'x', now() - (i / 2) * interval '1 second'
		FROM generate_series(1, 60) i`, org, alert)
	var want []string
	rows, err := testenv.Pool(h.db).Query(t.Context(), `SELECT id::text FROM notifications WHERE organization_id = $1 ORDER BY created_at DESC, id DESC`, org)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	var got []string
	cursor := ""
	for pages := 1; ; pages++ {
		var l List[domain.Notification]
		h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/notifications?limit=25&cursor="+cursor, nil).must(t, 200).JSON(t, &l)
		got = append(got, notificationIDs(l.Items)...)
		if l.NextCursor == "" {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
		cursor = l.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged through %d items, want the %d in order without duplicates or gaps", len(got), len(want))
	}

	for _, tc := range []struct{ query, field string }{
		{"status=lost", "status"}, {"channel=fax", "channel"}, {"alert_id=1", "alert_id"},
		{"updated_since=now", "updated_since"}, {"limit=500", "limit"}, {"cursor=!!!", "cursor"},
	} {
		r := h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/notifications?"+tc.query, nil)
		if r.Status != 400 || !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %d %s", tc.query, r.Status, r.Body)
		}
	}

	// Another organisation: 404 on its path, nothing of ours on its own.
	bob := h.user("bob")
	orgB := h.org("Beta", bob)
	h.do(bob, http.MethodGet, "/api/v1/orgs/"+org+"/notifications", nil).must(t, 404)
	h.do(bob, http.MethodGet, "/api/v1/orgs/"+orgB+"/notifications?alert_id="+alert, nil).must(t, 404)
}

// TestNotificationsLogVoiceCalls: a call's row shows its call state, its
// contact and its redial; its phone number is masked below manager like a
// text's (a number in the log was shown whole to every member when it was
// a call's); contact_id and kind filter, and another organisation's
// contact is 404.
func TestNotificationsLogVoiceCalls(t *testing.T) {
	h := newHarness(t)
	a := h.alertActors()
	alert := h.fixtureAlert(a.org, a.unit.UnitID, alertSpec{})
	var contact, other string
	h.queryRow([]any{&contact}, `INSERT INTO escalation_contacts (organization_id, name, phone) VALUES ($1, 'Dana', '+15555550100') RETURNING id`, a.org)
	otherOrg := h.org("Other", h.user("other-owner"))
	h.queryRow([]any{&other}, `INSERT INTO escalation_contacts (organization_id, name, phone) VALUES ($1, 'Eve', '+15555550101') RETURNING id`, otherOrg)
	var call, redial string
	h.queryRow([]any{&call}, `INSERT INTO notifications (organization_id, alert_id, contact_id, channel, recipient, status, call_state, body)
		VALUES ($1, $2, $3, 'voice', '+15555550100', 'failed', 'no_answer', 'the alarm') RETURNING id`, a.org, alert, contact)
	h.queryRow([]any{&redial}, `INSERT INTO notifications (organization_id, alert_id, contact_id, channel, recipient, status, call_state, redial, body)
		VALUES ($1, $2, $3, 'voice', '+15555550100', 'delivered', 'acknowledged', 1, 'the alarm') RETURNING id`, a.org, alert, contact)
	test := h.fixtureNotification(a.org, nil, "test", "email", "ops@example.test", "sent", time.Now().Add(-time.Hour))
	h.exec(`UPDATE notifications SET contact_id = $2 WHERE id = $1`, test, contact)

	for role, mask := range map[access.Role]bool{access.Manager: false, access.Staff: true, access.Inspector: true} {
		var l List[domain.Notification]
		h.do(a.roles[role], http.MethodGet, "/api/v1/orgs/"+a.org+"/notifications?channel=voice", nil).must(t, 200).JSON(t, &l)
		want := "+15555550100"
		if mask {
			want = "+*******0100"
		}
		if len(l.Items) != 2 || l.Items[0].Recipient != want || l.Items[1].Recipient != want {
			t.Errorf("%s sees %+v, want %s", role, l.Items, want)
		}
	}
	var l List[domain.Notification]
	h.do(a.roles[access.Owner], http.MethodGet, "/api/v1/orgs/"+a.org+"/notifications?contact_id="+contact, nil).must(t, 200).JSON(t, &l)
	if got := notificationIDs(l.Items); len(got) != 3 {
		t.Fatalf("contact's notifications %v", got)
	}
	byID := map[string]domain.Notification{}
	for _, n := range l.Items {
		byID[n.ID] = n
	}
	if n := byID[redial]; n.CallState == nil || *n.CallState != "acknowledged" || n.Redial != 1 || n.ContactID == nil || *n.ContactID != contact {
		t.Errorf("redial row %+v", n)
	}
	if n := byID[test]; n.CallState != nil || n.Channel != "email" {
		t.Errorf("e-mail row %+v", n)
	}
	h.do(a.roles[access.Owner], http.MethodGet, "/api/v1/orgs/"+a.org+"/notifications?kind=test&contact_id="+contact, nil).must(t, 200).JSON(t, &l)
	if got := notificationIDs(l.Items); !slices.Equal(got, []string{test}) {
		t.Errorf("test pages %v", got)
	}
	h.do(a.roles[access.Owner], http.MethodGet, "/api/v1/orgs/"+a.org+"/notifications?contact_id="+other, nil).must(t, 404)
	h.do(a.roles[access.Owner], http.MethodGet, "/api/v1/orgs/"+a.org+"/notifications?kind=fax", nil).must(t, 400)
}
