package realtime_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// stuckPoster is a management API that never answers one connection,
// fails another and reports a third gone.
type stuckPoster struct {
	mu   sync.Mutex
	sent map[string][]string
}

func (p *stuckPoster) PostToConnection(ctx context.Context, id string, data []byte) error {
	switch id {
	case "hangs=":
		<-ctx.Done()
		return ctx.Err()
	case "fails=":
		return errors.New("500 InternalServerErrorException")
	case "gone=":
		return realtime.ErrGone
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent[id] = append(p.sent[id], string(data))
	return nil
}

// Publishing never fails or holds up the flow that publishes: a hung
// gateway is cut off at the publisher's deadline, a failing one is logged
// and counted, a gone connection is removed, and the healthy connection
// still receives every event, in order.
func TestFanoutIsBoundedAndCountsFailures(t *testing.T) {
	f := newSocketFixture(t)
	s := f.seed
	ctx := context.Background()
	var owner string
	if err := testenv.Pool(f.db).QueryRow(ctx, `SELECT id FROM users WHERE subject = $1`, "5f1d0a52-0000-4000-8000-00000000a001").Scan(&owner); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"hangs=", "fails=", "gone=", "ok="} {
		if err := f.db.SaveRealtimeConnection(ctx, store.RealtimeConnection{ID: id, UserID: owner, OrgID: s.OrgID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	m := metrics.Capture(t)
	poster := &stuckPoster{sent: map[string][]string{}}
	fan := &realtime.Fanout{DB: f.db, Poster: poster, Timeout: 300 * time.Millisecond}
	first := realtime.Event{Type: realtime.UnitStateChanged, OrgID: s.OrgID, UnitID: s.UnitID, At: time.Now(),
		Data: realtime.UnitStateChangedData{UnitID: s.UnitID, PreviousState: "ok", NewState: "excursion"}}
	second := first
	second.Data = realtime.UnitStateChangedData{UnitID: s.UnitID, PreviousState: "excursion", NewState: "alarm_active"}
	fan.Publish(ctx, first, second) // returns: the deadline cut the hung post

	// The posts of one event run side by side: the healthy connection got
	// the first event while the hung one held the deadline (the second
	// event found it spent: counted, not delivered).
	if got := poster.sent["ok="]; len(got) == 0 || !contains(got[0], `"new_state":"excursion"`) {
		t.Errorf("the healthy connection received %q", got)
	}
	sums := m.Sums()
	if sums["LivePostFailures|Type=unit:state:changed"] < 2 {
		t.Errorf("failures not counted: %v", m.Keys())
	}
	if sums["LiveConnectionsGone"] != 1 {
		t.Errorf("gone connections not counted: %v", m.Keys())
	}
	if _, err := f.db.RealtimeConnection(ctx, "gone="); err == nil {
		t.Error("the gone connection is still stored")
	}
	if _, err := f.db.RealtimeConnection(ctx, "fails="); err != nil {
		t.Error("a connection whose post failed was removed: only 410 removes")
	}

	// Without the hung connection both events arrive, in order.
	if err := f.db.DeleteRealtimeConnections(ctx, "hangs="); err != nil {
		t.Fatal(err)
	}
	poster.sent = map[string][]string{}
	fan.Publish(ctx, first, second)
	got := poster.sent["ok="]
	if len(got) != 2 || !contains(got[0], `"new_state":"excursion"`) || !contains(got[1], `"new_state":"alarm_active"`) {
		t.Fatalf("delivered %q", got)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
