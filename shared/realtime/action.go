package realtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/frostguard/functions/shared/domain"
)

// Action is a client's text message: narrow or widen what the connection
// receives. {"action":"subscribe"} (no ids) is the whole organisation again;
// {"action":"subscribe","site_id":…} narrows to that site (plus any others
// subscribed); {"action":"unsubscribe","unit_id":…} drops one;
// {"action":"unsubscribe"} pauses the organisation-wide stream.
type Action struct {
	Action string `json:"action"`
	SiteID string `json:"site_id,omitempty"`
	UnitID string `json:"unit_id,omitempty"`
}

// Action names (API Gateway's route selection expression is
// $request.body.action: each is its own route key).
const (
	Subscribe   = "subscribe"
	Unsubscribe = "unsubscribe"
)

// MaxActionBytes bounds a client message; a real one is under 150 bytes.
const MaxActionBytes = 1024

// ParseAction reads one client message strictly: a JSON object with a known
// action, at most one of site_id and unit_id (each a UUID), no other field,
// nothing after it.
func ParseAction(body []byte) (Action, error) {
	var a Action
	if len(body) > MaxActionBytes {
		return a, fmt.Errorf("a message is at most %d bytes", MaxActionBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return Action{}, fmt.Errorf("not a JSON action message: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Action{}, errors.New("not a JSON action message: data after the object")
	}
	switch a.Action {
	case Subscribe, Unsubscribe:
	default:
		return Action{}, fmt.Errorf("action must be %q or %q", Subscribe, Unsubscribe)
	}
	if a.SiteID != "" && a.UnitID != "" {
		return Action{}, errors.New("name a site_id or a unit_id, not both")
	}
	for name, id := range map[string]string{"site_id": a.SiteID, "unit_id": a.UnitID} {
		if id != "" && !domain.IsUUID(id) {
			return Action{}, fmt.Errorf("%s must be a UUID", name)
		}
	}
	return a, nil
}
