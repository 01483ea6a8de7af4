package notify

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/frostguard/functions/shared/domain"
)

// Telnyx Call Control event types (API v2) the call flow acts on.
const (
	CallInitiated             = "call.initiated"
	CallAnswered              = "call.answered"
	CallMachineDetectionEnded = "call.machine.detection.ended"
	CallGatherEnded           = "call.gather.ended"
	CallSpeakEnded            = "call.speak.ended"
	CallHangup                = "call.hangup"
	telnyxCallEventPrefix     = "call."
	maxClientStateBytes       = 1024 // ours are ~120; Telnyx echoes what we set
	maxCallDigits             = 16
	maxCallFieldLen           = 64
)

// callEventHandled reports whether the call flow acts on events of this
// type (others, such as call.bridged, are answered "ignored").
func callEventHandled(eventType string) bool {
	switch eventType {
	case CallInitiated, CallAnswered, CallMachineDetectionEnded, CallGatherEnded, CallSpeakEnded, CallHangup:
		return true
	}
	return false
}

// CallEvent is the part of a call event's payload the call flow uses.
type CallEvent struct {
	CallControlID string // data.payload.call_control_id: the call's handle for commands
	CallLegID     string
	Direction     string // call.initiated: incoming, outgoing
	From, To      string
	// State is our client_state, decoded; Known is false when the event
	// carries none or one that is not ours (a call we did not place).
	State CallState
	Known bool
	// call.hangup: why it ended (call_rejected, normal_clearing,
	// originator_cancel, timeout, time_limit, user_busy, not_found,
	// no_answer, unspecified), who hung up, and the SIP code.
	HangupCause, HangupSource, SIPHangupCause string
	// call.gather.ended: the keys and how the gather ended (valid,
	// invalid, call_hangup, cancelled, cancelled_amd, timeout).
	Digits string
	// Status: call.gather.ended and call.speak.ended (completed,
	// call_hangup, cancelled_amd).
	Status string
	// Result: call.machine.detection.ended (human, machine, not_sure).
	Result string
}

type telnyxCallPayload struct {
	CallControlID  string `json:"call_control_id"`
	CallLegID      string `json:"call_leg_id"`
	ClientState    string `json:"client_state"`
	Direction      string `json:"direction"`
	From           string `json:"from"`
	To             string `json:"to"`
	HangupCause    string `json:"hangup_cause"`
	HangupSource   string `json:"hangup_source"`
	SIPHangupCause string `json:"sip_hangup_cause"`
	Digits         string `json:"digits"`
	Status         string `json:"status"`
	Result         string `json:"result"`
}

// parseCallPayload reads a call.* event's payload. The call_control_id is
// required (every command needs it); a missing or foreign client_state is
// not an error (the event is simply not about a page of ours).
func parseCallPayload(raw json.RawMessage) (*CallEvent, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("data.payload is missing")
	}
	var p telnyxCallPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("data.payload: %w", err)
	}
	ce := &CallEvent{CallControlID: strings.TrimSpace(p.CallControlID), CallLegID: strings.TrimSpace(p.CallLegID)}
	if !telnyxValidID(ce.CallControlID) {
		return nil, errors.New("data.payload.call_control_id is missing or not a valid id")
	}
	if ce.CallLegID != "" && !telnyxValidID(ce.CallLegID) {
		return nil, errors.New("data.payload.call_leg_id is not a valid id")
	}
	short := func(s string) string { return telnyxClean(strings.TrimSpace(s), maxCallFieldLen) }
	ce.Direction, ce.From, ce.To = short(p.Direction), short(p.From), short(p.To)
	ce.HangupCause, ce.HangupSource, ce.SIPHangupCause = short(p.HangupCause), short(p.HangupSource), short(p.SIPHangupCause)
	ce.Digits, ce.Status, ce.Result = telnyxClean(strings.TrimSpace(p.Digits), maxCallDigits), short(p.Status), short(p.Result)
	if p.ClientState != "" {
		if st, err := ParseCallState(p.ClientState); err == nil {
			ce.State, ce.Known = st, true
		}
	}
	return ce, nil
}

// CallState is what our calls carry in Telnyx's client_state (base64 of
// this JSON, as Telnyx requires): the organisation and notification the
// call pages, and where the call flow is. Every command sets it anew, and
// every later event of the call carries it back.
type CallState struct {
	Org          string `json:"o"`
	Notification string `json:"n"`
	// Stage: "" (dialled), "menu" (a gather is playing), "bye" (the last
	// words: hang up when they end).
	Stage string `json:"s,omitempty"`
	// Tries counts the menu's replays and prompts.
	Tries int `json:"t,omitempty"`
}

// Encode is the client_state value.
func (s CallState) Encode() string {
	b, _ := json.Marshal(s)
	return base64.StdEncoding.EncodeToString(b)
}

// ParseCallState decodes a client_state of ours: base64 JSON naming an
// organisation and a notification by UUID.
func ParseCallState(b64 string) (CallState, error) {
	if len(b64) > maxClientStateBytes {
		return CallState{}, errors.New("client_state is too long")
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return CallState{}, errors.New("client_state is not base64")
	}
	var s CallState
	if err := json.Unmarshal(b, &s); err != nil {
		return CallState{}, errors.New("client_state is not ours")
	}
	if !domain.IsUUID(s.Org) || !domain.IsUUID(s.Notification) {
		return CallState{}, errors.New("client_state names no organisation and notification")
	}
	switch s.Stage {
	case "", stageMenu, stageBye:
	default:
		return CallState{}, errors.New("client_state has an unknown stage")
	}
	if s.Tries < 0 || s.Tries > 100 {
		return CallState{}, errors.New("client_state has a bad count")
	}
	s.Org, s.Notification = strings.ToLower(s.Org), strings.ToLower(s.Notification)
	return s, nil
}

// Call flow stages (CallState.Stage).
const (
	stageMenu = "menu"
	stageBye  = "bye"
)
