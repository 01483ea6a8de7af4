package sweep

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestPruneDedupe(t *testing.T) {
	f := newFixture(t)
	old, fresh := f.t0.Add(-31*24*time.Hour), f.t0.Add(-29*24*time.Hour)
	var conn string
	f.row([]any{&conn}, `INSERT INTO network_connections (organization_id, application_id, secret_hash, secret_last4)
		VALUES ($1, 'prune-app', sha256('s'), 'ecrt') RETURNING id`, f.org)
	for i, at := range []time.Time{old, old, old, fresh} {
		f.exec(`INSERT INTO uplink_dedupe (connection_id, dedupe_key, organization_id, received_at) VALUES ($1, $2, $3, $4)`,
			conn, "k"+string(rune('a'+i)), f.org, at)
		f.exec(`INSERT INTO telnyx_events (event_id, event_type, received_at) VALUES ($1, 'message.sent', $2)`, "e"+string(rune('a'+i)), at)
	}
	// Bounded: two per call.
	up, ev, err := f.db.PruneDedupe(context.Background(), f.t0.Add(-DedupeRetention), 2)
	if err != nil || up != 2 || ev != 2 {
		t.Fatalf("first batch: %d %d %v", up, ev, err)
	}
	f.run("prune-dedupe")
	if n := f.count(`SELECT count(*) FROM uplink_dedupe`); n != 1 {
		t.Fatalf("%d uplink keys left, want the fresh one", n)
	}
	if n := f.count(`SELECT count(*) FROM telnyx_events`); n != 1 {
		t.Fatalf("%d telnyx events left, want the fresh one", n)
	}
}

func TestTaskNames(t *testing.T) {
	var names []string
	for _, tk := range Tasks(nil, time.Now, "", nil) {
		if tk.Run == nil || tk.Timeout <= 0 {
			t.Fatalf("task %s incomplete", tk.Name)
		}
		names = append(names, tk.Name)
	}
	want := []string{"checkins", "doors", "manual-logs", "escalation", "reading-partitions", "prune-dedupe"}
	if !slices.Equal(names, want) {
		t.Fatalf("%v, want %v", names, want)
	}
}
