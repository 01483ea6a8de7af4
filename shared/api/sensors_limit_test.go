package api

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestSensorsLimit(t *testing.T) {
	w := newSensorWorld(t)
	h := w.h
	h.exec(`UPDATE organizations SET sensor_limit = 1 WHERE id = $1`, w.orgA)
	unit2 := h.unit(w.orgA)

	first := w.register(t, w.manager, w.orgA, map[string]any{"dev_eui": "0000000000000001", "unit_id": w.unitA.UnitID})
	res := h.do(w.manager, "POST", sensorsPath(w.orgA), map[string]any{"dev_eui": "0000000000000002", "unit_id": w.unitA.UnitID}).
		must(t, http.StatusForbidden)
	if res.ErrorCode() != "SENSOR_LIMIT_REACHED" || !strings.Contains(string(res.Body), "starter plan allows 1") {
		t.Fatalf("limit answer: %s", res.Body)
	}
	var n int
	h.queryRow([]any{&n}, `SELECT count(*) FROM sensors WHERE dev_eui = '0000000000000002'`)
	if n != 0 {
		t.Fatal("a refused registration left a row")
	}

	// an unassigned registration counts too (TestUnassignedSensorsCountAgainstThePlan)
	res = h.do(w.manager, "POST", sensorsPath(w.orgA), map[string]any{"dev_eui": "0000000000000002"}).must(t, http.StatusForbidden)
	if res.ErrorCode() != "SENSOR_LIMIT_REACHED" {
		t.Fatalf("unassigned registration answer: %s", res.Body)
	}
	// moving, unassigning and assigning a registered sensor do not change the count
	h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", first.ID), map[string]any{"unit_id": unit2.UnitID}).must(t, http.StatusOK)
	h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", first.ID), map[string]any{"unit_id": nil}).must(t, http.StatusOK)
	h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", first.ID), map[string]any{"unit_id": w.unitA.UnitID}).must(t, http.StatusOK)
	h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", first.ID), map[string]any{"name": "renamed"}).must(t, http.StatusOK)
	// deleting frees the slot
	h.do(w.manager, "DELETE", sensorsPath(w.orgA, "/", first.ID), nil).must(t, http.StatusNoContent)
	h.do(w.manager, "POST", sensorsPath(w.orgA), map[string]any{"dev_eui": "0000000000000003", "unit_id": w.unitA.UnitID}).must(t, http.StatusCreated)

	// another organisation's usage is its own
	h.exec(`UPDATE organizations SET sensor_limit = 0 WHERE id = $1`, w.orgB)
	res = h.do(w.ownerB, "POST", sensorsPath(w.orgB), map[string]any{"dev_eui": "0000000000000004", "unit_id": w.unitB.UnitID}).
		must(t, http.StatusForbidden)
	if res.ErrorCode() != "SENSOR_LIMIT_REACHED" {
		t.Fatalf("org B: %s", res.Body)
	}
}

// TestSensorsLimitConcurrent races registrations for the last slot: the
// organisation row lock makes them count one after another.
func TestSensorsLimitConcurrent(t *testing.T) {
	w := newSensorWorld(t)
	h := w.h
	h.exec(`UPDATE organizations SET sensor_limit = 3 WHERE id = $1`, w.orgA)
	w.register(t, w.manager, w.orgA, map[string]any{"dev_eui": "1000000000000001", "unit_id": w.unitA.UnitID})
	w.register(t, w.manager, w.orgA, map[string]any{"dev_eui": "1000000000000002", "unit_id": w.unitA.UnitID})
	spare := w.register(t, w.manager, w.orgA, map[string]any{"dev_eui": "1000000000000003"})

	const n = 12
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if i == n-1 {
				// an assignment competes for the same slot
				statuses[i] = h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", spare.ID), `{"unit_id":"`+w.unitA.UnitID+`"}`).Status
				return
			}
			body := fmt.Sprintf(`{"dev_eui":"20000000000000%02d","unit_id":"%s"}`, i, w.unitA.UnitID)
			statuses[i] = h.do(w.manager, "POST", sensorsPath(w.orgA), body).Status
		}()
	}
	close(start)
	wg.Wait()
	ok, refused := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated, http.StatusOK:
			ok++
		case http.StatusForbidden:
			refused++
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	var assigned int
	h.queryRow([]any{&assigned}, `SELECT count(*) FROM sensors WHERE organization_id = $1 AND deleted_at IS NULL AND unit_id IS NOT NULL`, w.orgA)
	if ok != 1 || refused != n-1 || assigned != 3 {
		t.Fatalf("%d succeeded, %d refused, %d assigned: want 1, %d, 3 (%v)", ok, refused, assigned, n-1, statuses)
	}
}
