package notify

import (
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
)

// The call flow of a voice page, pure: from the row as it stands (locked)
// and one Telnyx event, what to write and which command to send after the
// commit.
//
//	dial ──call.initiated──▶ calling ──call.answered──▶ answered
//	answered ──machine detection: human──▶ menu (the alarm twice, "press 1 to acknowledge, 2 to hear it again")
//	answered ──machine detection: machine──▶ voicemail (a short message, then hang up)
//	menu ──key 1──▶ acknowledged (the alert, for that contact, like "ACK <code>")
//	menu ──key 2──▶ the alarm again (3 times at most); no key or a wrong one: the keys again (twice)
//	any ──call.hangup──▶ before an answer: no_answer, busy or failed
//
// States move forward only (queued < calling < answered < the final ones);
// an event that would move a row back, or arrives after the end, changes
// nothing. A call that ends without a person hearing it (no answer, busy,
// a voicemail, a failure other than a number that does not exist) is placed
// again as a new row while the step's redials last and the alert is
// active; the escalation to the next step does not wait for it.

// Call states (notifications.call_state).
const (
	CallQueued       = "queued"
	CallCalling      = "calling"
	CallAnsweredSt   = "answered"
	CallAcknowledged = "acknowledged"
	CallNoAnswer     = "no_answer"
	CallBusy         = "busy"
	CallFailed       = "failed"
	CallVoicemail    = "voicemail"
)

var callRank = map[string]int{CallQueued: 0, CallCalling: 1, CallAnsweredSt: 2,
	CallAcknowledged: 3, CallNoAnswer: 3, CallBusy: 3, CallFailed: 3, CallVoicemail: 3}

// callAdvances reports whether moving from one state to another is forward.
func callAdvances(from, to string) bool {
	r, ok := callRank[to]
	return ok && r > callRank[from]
}

// How often the menu is replayed (key 2) and prompted again (no key).
const (
	maxMenuReplays = 3
	maxMenuPrompts = 2
)

// CallStep is what the call flow does with one event.
type CallStep struct {
	Update  store.CallUpdate
	Command *CallCommand // nil: none
}

// CallCommand is a command for the live call, sent after the commit.
type CallCommand struct {
	Action string // gather, speak, hangup
	Text   string
	Stage  string
	Tries  int
	// SayAck: the text is chosen from the acknowledgement's outcome.
	SayAck bool
}

// Command actions.
const (
	CommandGather = "gather"
	CommandSpeak  = "speak"
	CommandHangup = "hangup"
)

// NextCall decides what event ev does to the voice row f at now.
func NextCall(f store.CallFacts, ev CallEvent, eventType string, now time.Time) CallStep {
	st := CallStep{Update: store.CallUpdate{At: now}}
	u := &st.Update
	move := func(to string) bool {
		if callAdvances(f.CallState, to) {
			u.State = to
			return true
		}
		return false
	}
	final := callRank[f.CallState] == 3
	alertLive := f.Kind != store.KindAlert || f.AlertStatus == "active"
	switch eventType {
	case CallInitiated:
		move(CallCalling)
	case CallAnswered:
		move(CallAnsweredSt)
	case CallMachineDetectionEnded:
		if final {
			return st
		}
		if ev.Result == "machine" {
			move(CallVoicemail)
			st.Command = &CallCommand{Action: CommandSpeak, Text: voicemailText(f, now), Stage: stageBye}
			return st
		}
		move(CallAnsweredSt)
		switch {
		case !alertLive && f.AlertStatus == "resolved":
			st.Command = &CallCommand{Action: CommandSpeak, Text: alerting.VoiceAlreadyResolved, Stage: stageBye}
		case !alertLive:
			st.Command = &CallCommand{Action: CommandSpeak, Text: alerting.VoiceAlreadyAcknowledged, Stage: stageBye}
		default:
			st.Command = &CallCommand{Action: CommandGather, Text: menuText(f, now), Stage: stageMenu}
		}
	case CallGatherEnded:
		if f.CallState != CallAnsweredSt || ev.State.Stage != stageMenu {
			return st
		}
		switch {
		case ev.Digits == "1":
			move(CallAcknowledged)
			u.Status = "delivered"
			if f.Kind == store.KindAlert {
				u.Acknowledge = true
				u.AckNote = CallAckNote(f.Recipient, f.ContactName)
				st.Command = &CallCommand{Action: CommandSpeak, Stage: stageBye, SayAck: true}
			} else {
				st.Command = &CallCommand{Action: CommandSpeak, Text: alerting.VoiceTestConfirmed, Stage: stageBye}
			}
		case ev.Digits == "2" && ev.State.Tries < maxMenuReplays:
			st.Command = &CallCommand{Action: CommandGather, Text: replayText(f, now), Stage: stageMenu, Tries: ev.State.Tries + 1}
		case (ev.Status == "timeout" || ev.Status == "invalid") && ev.State.Tries < maxMenuPrompts:
			st.Command = &CallCommand{Action: CommandGather, Text: promptText(f), Stage: stageMenu, Tries: ev.State.Tries + 1}
		case ev.Status == "valid" || ev.Status == "timeout" || ev.Status == "invalid":
			st.Command = &CallCommand{Action: CommandSpeak, Text: alerting.VoiceNoInput, Stage: stageBye}
		}
	case CallSpeakEnded:
		if ev.State.Stage == stageBye && ev.Status != "call_hangup" {
			st.Command = &CallCommand{Action: CommandHangup}
		}
	case CallHangup:
		switch f.CallState {
		case CallAcknowledged, CallAnsweredSt:
			if f.Status != "delivered" {
				u.Status = "delivered"
			}
			return st
		case CallVoicemail:
			u.Status, u.Reason = "delivered", "voicemail left: not acknowledged"
		default:
			if final {
				return st
			}
			state, reason := hangupOutcome(ev.HangupCause)
			move(state)
			u.Status, u.Reason = "failed", reason
		}
		if f.Kind == store.KindAlert {
			end := u.State
			if end == "" {
				end = f.CallState
			}
			u.Redial = ev.HangupCause != "not_found" && f.RedialsLeft > 0 && f.AlertStatus == "active"
			// Without a redial, the contact's next channel (store: only
			// when no redial was actually placed).
			u.Fallback = true
			u.Event, u.EventNote = "call_unanswered", "call to "+domain.MaskPhone(f.Recipient)+" ended: "+end
		}
	}
	return st
}

// hangupOutcome maps a hangup before anyone answered to the call's state.
func hangupOutcome(cause string) (state, reason string) {
	switch cause {
	case "user_busy":
		return CallBusy, "busy"
	case "call_rejected":
		return CallBusy, "declined (call_rejected)"
	case "timeout", "no_answer", "originator_cancel", "normal_clearing":
		return CallNoAnswer, "no answer (" + cause + ")"
	case "not_found":
		return CallFailed, "number not reachable (not_found)"
	case "":
		return CallFailed, "call ended before it was answered"
	}
	return CallFailed, "call failed (" + cause + ")"
}

// AckSpeech is what the call says after key 1, by the acknowledgement's
// outcome.
func AckSpeech(outcome string) string {
	switch outcome {
	case "already_acknowledged":
		return alerting.VoiceAlreadyAcknowledged
	case "resolved":
		return alerting.VoiceAlreadyResolved
	}
	return alerting.VoiceAcknowledged
}

// CallAckNote is the acknowledged_note of an alert acknowledged on a call.
// The number is masked: the note is shown to every member.
func CallAckNote(phone, contactName string) string {
	if contactName == "" {
		contactName = "a paged contact"
	}
	return "Acknowledged on a phone call to " + domain.MaskPhone(phone) + " (" + contactName + ")"
}

// voiceInput is the alarm of an alert call as it stands at now.
func voiceInput(f store.CallFacts, now time.Time) alerting.VoiceInput {
	in := alerting.NewMessageInput(f.SiteName, f.UnitName, f.TimeZone, domain.TempUnit(f.TempUnit), "")
	in.AlertType, in.Severity, in.TemperatureC, in.LimitC, in.At = f.AlertType, f.Severity, f.TemperatureC, f.LimitC, f.TriggeredAt
	v := alerting.VoiceInput{MessageInput: in, Since: f.TriggeredAt, Now: now}
	if f.AlertType == alerting.TypeTempExcursion || f.AlertType == alerting.TypeSuspectedCooling {
		v.CurrentC = f.CurrentC
	}
	return v
}

func menuText(f store.CallFacts, now time.Time) string {
	if f.Kind != store.KindAlert {
		return f.Body
	}
	return alerting.VoiceMenu(alerting.VoiceAlarm(voiceInput(f, now)))
}

func replayText(f store.CallFacts, now time.Time) string {
	if f.Kind != store.KindAlert {
		return f.Body
	}
	return alerting.VoiceReplay(alerting.VoiceAlarm(voiceInput(f, now)))
}

func promptText(f store.CallFacts) string {
	if f.Kind != store.KindAlert {
		return alerting.VoiceTestKeys[1:]
	}
	return alerting.VoicePromptOnly
}

func voicemailText(f store.CallFacts, now time.Time) string {
	if f.Kind != store.KindAlert {
		return alerting.VoiceTestVoicemail
	}
	return alerting.VoiceVoicemail(voiceInput(f, now))
}
