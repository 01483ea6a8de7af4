package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
)

// TestSenderHealth: admins read the sweeper's newest sender health report
// (unknown before the first check, stale when the check stopped running);
// managers and below may not.
func TestSenderHealth(t *testing.T) {
	e := newHierEnv(t)
	path := e.path("/sender-health")
	var got struct {
		Status    string                `json:"status"`
		CheckedAt *time.Time            `json:"checked_at"`
		Stale     bool                  `json:"stale"`
		Channels  []store.SenderChannel `json:"channels"`
	}
	e.h.do(e.admin, http.MethodGet, path, nil).must(t, http.StatusOK).JSON(t, &got)
	if got.Status != "unknown" || got.CheckedAt != nil || len(got.Channels) != 0 || got.Channels == nil {
		t.Fatalf("before any check: %+v", got)
	}
	report := store.SenderHealth{CheckedAt: time.Now().UTC().Add(-time.Minute).Truncate(time.Second), Status: "down",
		Channels: []store.SenderChannel{{Channel: "sms", Status: "down", Sender: "+18445550001",
			Problems: []string{"cannot send SMS: toll-free verification pending (Waiting For Customer)"}},
			{Channel: "voice", Status: "ok", Sender: "+18445550001"}, {Channel: "email", Status: "ok", Sender: "frostguard.app"}}}
	if err := e.h.db.SaveSenderHealth(context.Background(), report); err != nil {
		t.Fatal(err)
	}
	e.h.do(e.owner, http.MethodGet, path, nil).must(t, http.StatusOK).JSON(t, &got)
	if got.Status != "down" || got.Stale || got.CheckedAt == nil || !got.CheckedAt.Equal(report.CheckedAt) || len(got.Channels) != 3 ||
		got.Channels[0].Problems[0] != "cannot send SMS: toll-free verification pending (Waiting For Customer)" {
		t.Fatalf("the report: %+v", got)
	}
	report.CheckedAt = report.CheckedAt.Add(-time.Hour)
	if err := e.h.db.SaveSenderHealth(context.Background(), report); err != nil {
		t.Fatal(err)
	}
	e.h.do(e.admin, http.MethodGet, path, nil).must(t, http.StatusOK).JSON(t, &got)
	if !got.Stale {
		t.Fatalf("an hour-old report is not stale: %+v", got)
	}
	for _, u := range []*testUser{e.manager, e.staff, e.viewer, e.inspector} {
		e.h.do(u, http.MethodGet, path, nil).must(t, http.StatusForbidden)
	}
	e.h.do(e.other, http.MethodGet, path, nil).must(t, http.StatusNotFound)
}
