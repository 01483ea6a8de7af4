package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/devstack"
)

// liveMessage is one text frame of the live channel.
type liveMessage struct {
	Type  string          `json:"type"`
	OrgID string          `json:"organization_id"`
	At    time.Time       `json:"at"`
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Code string `json:"code"`
	} `json:"error"`
}

// dialLive connects a real WebSocket client (coder/websocket) to the
// stack's /ws with the query and subprotocols given.
func (s *alarmStack) dialLive(query url.Values, protocols ...string) (*websocket.Conn, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + catalog.LocalWebSocketPath + "?" + query.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: protocols})
}

func (s *alarmStack) mustDialLive(query url.Values, protocols ...string) *websocket.Conn {
	s.t.Helper()
	c, res, err := s.dialLive(query, protocols...)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		s.t.Fatalf("dial %v: %v (HTTP %d)", query, err, status)
	}
	s.t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// next reads the next message (failing after 5 s).
func next(t *testing.T, c *websocket.Conn) liveMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading a live message: %v", err)
	}
	var m liveMessage
	if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil {
		t.Fatalf("not a JSON text message: %s", b)
	}
	return m
}

// nothingBefore asserts c received nothing since its last message: every
// post of a publication is written before the request that published
// returns, so an event meant for c would be read before the answer to a
// subscribe action sent now (coder/websocket closes a connection whose
// read times out, so silence is not waited for).
func nothingBefore(t *testing.T, c *websocket.Conn) {
	t.Helper()
	if m := send(t, c, `{"action":"subscribe"}`); m.Type != "subscriptions" {
		t.Fatalf("received %+v %s before the answer to subscribe", m, m.Data)
	}
}

func send(t *testing.T, c *websocket.Conn, msg string) liveMessage {
	t.Helper()
	if err := c.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	return next(t, c)
}

// The live channel end to end on `make dev`'s one port: real WebSocket
// clients of two organisations; uplinks driven into an alarm reach the
// organisation's watcher in order, never the other organisation; bad
// tokens and foreign organisations are refused at the handshake, foreign
// sites and units at subscribe; a connection the gateway reports gone is
// removed.
func TestLiveChannelDeliversAnOrganisationsEventsInOrderAndNoOtherOrganisations(t *testing.T) {
	s := newAlarmStack(t)
	seed := s.seed
	q := func(token, org string) url.Values {
		v := url.Values{"organization_id": {org}}
		if token != "" {
			v.Set("token", token)
		}
		return v
	}

	// The handshake: no token or a bad one 401, another organisation 403.
	for name, tc := range map[string]struct {
		query  url.Values
		protos []string
		want   int
	}{
		"no token":           {q("", seed.OrgID), nil, http.StatusUnauthorized},
		"bad token":          {q(seed.Token[:len(seed.Token)-4]+"AAAA", seed.OrgID), nil, http.StatusUnauthorized},
		"bad protocol token": {q("", seed.OrgID), []string{"frostguard", "a.b.c"}, http.StatusUnauthorized},
		"other organisation": {q(seed.OtherToken, seed.OrgID), nil, http.StatusForbidden},
		"no organisation":    {q(seed.Token, "not-an-id"), nil, http.StatusBadRequest},
	} {
		c, res, err := s.dialLive(tc.query, tc.protos...)
		if err == nil {
			_ = c.CloseNow()
			t.Fatalf("%s: connected", name)
		}
		if res == nil || res.StatusCode != tc.want {
			t.Fatalf("%s: %v, want HTTP %d", name, err, tc.want)
		}
	}

	// Org A's owner by query parameter; org B's owner by subprotocol, as a
	// browser sends it (the answer selects the non-token protocol).
	a := s.mustDialLive(q(seed.Token, seed.OrgID))
	b := s.mustDialLive(q("", seed.OtherOrgID), "frostguard", seed.OtherToken)
	if b.Subprotocol() != "frostguard" {
		t.Fatalf("selected subprotocol %q", b.Subprotocol())
	}

	// Subscriptions: A narrows to its unit; B may not name A's unit or
	// site (404, as the REST api answers for a foreign id).
	if m := send(t, a, `{"action":"subscribe","unit_id":"`+seed.UnitID+`"}`); m.Type != "subscriptions" ||
		!strings.Contains(string(m.Data), `"whole_organization":false`) || !strings.Contains(string(m.Data), seed.UnitID) {
		t.Fatalf("subscribe: %+v %s", m, m.Data)
	}
	for _, msg := range []string{`{"action":"subscribe","unit_id":"` + seed.UnitID + `"}`, `{"action":"subscribe","site_id":"` + seed.SiteID + `"}`} {
		if m := send(t, b, msg); m.Type != "error" || m.Error == nil || m.Error.Code != "NOT_FOUND" {
			t.Fatalf("foreign subscription %s: %+v", msg, m)
		}
	}
	if m := send(t, b, `{"action":"subscribe","organization_id":"`+seed.OrgID+`"}`); m.Type != "error" || m.Error.Code != "INVALID_ARGUMENT" {
		t.Fatalf("unknown field: %+v", m)
	}

	// A connection the gateway no longer knows (a client that vanished
	// without a close): posting to it answers 410, and it is removed.
	var ownerA string
	s.row([]any{&ownerA}, `SELECT user_id FROM realtime_connections WHERE organization_id = $1 LIMIT 1`, seed.OrgID)
	s.exec(`INSERT INTO realtime_connections (id, user_id, organization_id, expires_at) VALUES ('vanished=', $1, $2, now() + interval '1 hour')`, ownerA, seed.OrgID)

	// Three uplinks: in range, out of range, still out of range ten
	// minutes later (the alarm).
	now := time.Now().UTC()
	s.uplink(devstack.SensorDevEUI, 1, now.Add(-20*time.Minute), `{"TempC_SHT":3.1}`)
	s.uplink(devstack.SensorDevEUI, 2, now.Add(-15*time.Minute), `{"TempC_SHT":8.2}`)
	s.uplink(devstack.SensorDevEUI, 3, now.Add(-3*time.Minute), `{"TempC_SHT":8.9}`)

	var got []string
	var batches int
	var alertID string
	for len(got) == 0 || got[len(got)-1] != "alert:triggered" {
		m := next(t, a)
		if m.OrgID != seed.OrgID {
			t.Fatalf("event of organisation %s: %+v", m.OrgID, m)
		}
		switch m.Type {
		case "sensor:readings:batch":
			batches++
			var d struct {
				UnitID   string `json:"unit_id"`
				Count    int    `json:"count"`
				Readings []struct {
					TemperatureC *float64 `json:"temperature_c"`
				} `json:"readings"`
			}
			if json.Unmarshal(m.Data, &d) != nil || d.UnitID != seed.UnitID || d.Count != len(d.Readings) || d.Count == 0 {
				t.Fatalf("batch %s", m.Data)
			}
		case "unit:state:changed":
			var d struct{ UnitID, PreviousState, NewState string }
			_ = json.Unmarshal(m.Data, &d)
			var raw map[string]any
			_ = json.Unmarshal(m.Data, &raw)
			got = append(got, "state:"+raw["new_state"].(string))
			continue
		case "alert:triggered":
			var d map[string]any
			_ = json.Unmarshal(m.Data, &d)
			if d["alert_id"] == "" || d["unit_id"] != seed.UnitID || d["alert_type"] != "temp_excursion" || d["trigger_temperature"] != 8.9 {
				t.Fatalf("alert:triggered %s", m.Data)
			}
			alertID, _ = d["alert_id"].(string)
			var status string
			s.row([]any{&status}, `SELECT status FROM alerts WHERE id = $1`, alertID)
			if status != "active" {
				t.Fatalf("alert:triggered names alert %s, which is %s", alertID, status)
			}
		}
		got = append(got, m.Type)
	}
	// One batch: the three uplinks came within 5 s of each other.
	if batches != 1 {
		t.Errorf("%d reading batches, want 1 (at most one per unit per 5 s): %q", batches, got)
	}
	want := []string{"sensor:readings:batch", "state:excursion", "state:alarm_active", "alert:triggered"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events %q, want %q", got, want)
	}
	nothingBefore(t, b)

	// 16 minutes later the sweeper pages the policy's second step (after
	// 15 minutes): alert:escalated.
	s.exec(`UPDATE alerts SET paging_started_at = coalesce(paging_started_at, triggered_at) - interval '16 minutes',
		next_escalation_at = now() - interval '1 minute' WHERE id = $1`, alertID)
	s.sweep()
	if m := next(t, a); m.Type != "alert:escalated" || !strings.Contains(string(m.Data), alertID) ||
		!strings.Contains(string(m.Data), `"escalation_level":`) {
		t.Fatalf("after the escalation: %+v %s", m, m.Data)
	}
	// A person acknowledges through the api: alert:acknowledged.
	if code, body := s.api(http.MethodPost, "/alerts/"+alertID+"/acknowledge", `{"note":"on it"}`); code != http.StatusOK {
		t.Fatalf("acknowledge: %d %s", code, body)
	}
	if m := next(t, a); m.Type != "alert:acknowledged" || !strings.Contains(string(m.Data), alertID) {
		t.Fatalf("after the acknowledgement: %+v %s", m, m.Data)
	}
	// The sensor goes quiet: the sweeper finds the missed check-ins, the
	// unit goes offline (unit:state:changed) and monitoring_interrupted opens.
	s.exec(`UPDATE units SET last_reading_at = now() - interval '3 hours', last_temperature_at = now() - interval '3 hours',
		created_at = now() - interval '1 day' WHERE id = $1`, seed.UnitID)
	s.exec(`UPDATE sensors SET updated_at = now() - interval '1 day' WHERE unit_id = $1`, seed.UnitID)
	s.sweep()
	var offline []string
	for len(offline) < 2 {
		m := next(t, a)
		var d map[string]any
		_ = json.Unmarshal(m.Data, &d)
		switch {
		case m.Type == "unit:state:changed":
			offline = append(offline, "state:"+d["new_state"].(string))
		case m.Type == "alert:triggered" && d["alert_type"] == "monitoring_interrupted":
			offline = append(offline, "monitoring_interrupted")
		default:
			t.Fatalf("while going offline: %+v %s", m, m.Data)
		}
	}
	if !strings.HasPrefix(offline[0], "state:") || offline[0] == "state:alarm_active" || offline[1] != "monitoring_interrupted" {
		t.Errorf("going offline: %q", offline)
	}
	nothingBefore(t, b)

	var vanished int
	s.row([]any{&vanished}, `SELECT count(*) FROM realtime_connections WHERE id = 'vanished='`)
	if vanished != 0 {
		t.Error("the connection the gateway reported gone (410) is still there")
	}

	// A closed client is forgotten ($disconnect).
	_ = b.Close(websocket.StatusNormalClosure, "bye")
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		s.row([]any{&n}, `SELECT count(*) FROM realtime_connections WHERE organization_id = $1`, seed.OtherOrgID)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection was not removed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
