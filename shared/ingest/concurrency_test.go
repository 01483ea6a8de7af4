package ingest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

// TestNoTransactionIsHeldWhileAnUplinkIsJudged: while the function decodes
// and judges an uplink, no transaction of it is open and the unit's row is
// not locked (issue 18: connections sat idle in transaction, the unit
// locked, waiting for the function's second round trip). A manager's edit
// of the unit made meanwhile goes through at once, and the uplink, whose
// write finds the unit changed, is judged again against the edited unit.
//
// Before issue 18 the edit waited for the uplink's lock: it timed out here.
func TestNoTransactionIsHeldWhileAnUplinkIsJudged(t *testing.T) {
	f := newFixture(t)
	clock := f.now.Add(24 * time.Hour)
	var calls atomic.Int32
	var idleInTx, editErr = -1, error(nil)
	f.handler.Now = func() time.Time {
		// The handler reads the clock once before it reads the unit and
		// once while it judges (the judge's "now"): the second call is
		// inside the Go computation.
		if calls.Add(1) == 2 {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			f.row(&idleInTx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`)
			// The manager widens the band: 7 °C is in range now.
			_, editErr = testenv.Pool(f.db).Exec(ctx, `UPDATE units SET temp_max_c = 10, updated_at = now() WHERE id = $1`, f.unitID)
		}
		return clock
	}
	a := f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(7)}.body()).must(t, 200, "stored")
	if editErr != nil {
		t.Fatalf("the unit could not be edited while the uplink was judged (its row was locked): %v", editErr)
	}
	if idleInTx != 0 {
		t.Errorf("%d connections idle in a transaction while the uplink was judged, want 0", idleInTx)
	}
	// Judged again against the edited band: no excursion.
	if a.Result.UnitStatus != "ok" || a.Result.AlertsOpened != 0 {
		t.Errorf("unit %q with %d alerts opened, want ok and none (judged against the band before the edit?)", a.Result.UnitStatus, a.Result.AlertsOpened)
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != 1 {
		t.Errorf("%d readings, want 1", n)
	}
	if n := f.count(`SELECT count(*) FROM units WHERE id = $1 AND status = 'ok' AND last_reading_at = $2`, f.unitID, f.now); n != 1 {
		t.Error("the unit's state is not the second judgement's")
	}
}

// TestARacingCopyOfAnUplinkIsADuplicate: a copy of an uplink stored while
// the original is being judged makes the original a duplicate that writes
// nothing (the reading is the uplink's dedupe).
func TestARacingCopyOfAnUplinkIsADuplicate(t *testing.T) {
	f := newFixture(t)
	clock := f.now.Add(24 * time.Hour)
	body := uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body()
	var calls atomic.Int32
	var copyAnswer answer
	f.handler.Now = func() time.Time {
		// While the original is judged, its copy arrives and is stored.
		if calls.Add(1) == 2 {
			copyAnswer = f.post(body)
		}
		return clock
	}
	a := f.post(body)
	if copyAnswer.Result.Status != "stored" || a.Status != 200 || a.Result.Status != "duplicate" {
		t.Errorf("copy %d %q, original %d %q: want the copy stored and the original a duplicate", copyAnswer.Status, copyAnswer.Result.Status, a.Status, a.Result.Status)
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != 1 {
		t.Errorf("%d readings, want 1", n)
	}
	if n := f.count(`SELECT count(*) FROM uplink_dedupe`); n != 0 {
		t.Errorf("%d dedupe rows, want none: the reading is the uplink's dedupe", n)
	}
}

// TestConcurrentReadingsOfOneUnitAreAllJudged: readings of one unit arriving
// at once (its four sensors reporting together, each several times) all
// get stored, and the unit's state is that of the newest: the losers of the
// version check were judged again, none was lost or applied twice.
func TestConcurrentReadingsOfOneUnitAreAllJudged(t *testing.T) {
	f := newFixture(t)
	f.handler.Now = func() time.Time { return f.now.Add(24 * time.Hour) }
	devs := []string{devEUI}
	for i := 1; i < 4; i++ {
		d := fmt.Sprintf("70B3D57E0000F00%d", i)
		f.exec(`INSERT INTO sensors (organization_id, unit_id, dev_eui, model) VALUES ($1, $2, $3, 'Dragino LHT65')`, f.orgID, f.unitID, d)
		devs = append(devs, d)
	}
	const each = 5
	var wg sync.WaitGroup
	answers := make(chan answer, len(devs)*each)
	for i, d := range devs {
		wg.Add(1)
		go func(i int, d string) {
			defer wg.Done()
			for k := 0; k < each; k++ {
				at := f.now.Add(time.Duration(k*len(devs)+i) * time.Second)
				answers <- f.post(uplink{DevEUI: d, At: at, FCnt: k + 1, Decoded: temp(3)}.body())
			}
		}(i, d)
	}
	wg.Wait()
	close(answers)
	for a := range answers {
		if a.Status != 200 || a.Result.Status != "stored" {
			t.Errorf("%d %q: %s", a.Status, a.Result.Status, a.Body)
		}
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings WHERE unit_id = $1`, f.unitID); n != len(devs)*each {
		t.Errorf("%d readings, want %d", n, len(devs)*each)
	}
	newest := f.now.Add(time.Duration(len(devs)*each-1) * time.Second)
	if n := f.count(`SELECT count(*) FROM units WHERE id = $1 AND last_reading_at = $2 AND status = 'ok'`, f.unitID, newest); n != 1 {
		t.Error("the unit's last reading is not the newest one")
	}
}
