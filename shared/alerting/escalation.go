package alerting

import "time"

// Step is one escalation step of a notification policy, the only step type:
// the JSON of notification_policies.steps, the api's request and answer, the
// store's plans and what paging renders are all this.
type Step struct {
	AfterMinutes int      `json:"after_minutes"`
	Channels     []string `json:"channels"`    // domain.NotificationChannels: sms, email, voice
	ContactIDs   []string `json:"contact_ids"` // escalation_contacts ids
	// Repeat, on a policy's last step only, repeats it (ExpandSteps).
	Repeat bool `json:"repeat,omitempty"`
	// VoiceRetries and VoiceRetryMinutes: how often a call of this step that
	// nobody answered (no answer, busy, a voicemail) is placed again, and
	// how many minutes apart. Nil: the defaults. The escalation to the next
	// step does not wait for them.
	VoiceRetries      *int `json:"voice_retries,omitempty"`
	VoiceRetryMinutes *int `json:"voice_retry_minutes,omitempty"`
}

// MaxRepeats caps the repeats of a policy's last step marked Repeat: a
// forgotten alert pages every interval for a while, not forever.
const MaxRepeats = 10

// ExpandSteps returns the policy's steps with the repeats of the last step
// appended as ordinary steps (step len(steps)-1+k fires k intervals after
// the last one), so Escalation plans them like any step and each repeat
// gets its own escalation_step index (the outbox's once-per-step key then
// holds for repeats too). The interval is the difference between the last
// two steps' delays, or the last delay for a single step; a non-positive
// interval disables repeating. The expanded steps carry no Repeat flag.
func ExpandSteps(steps []Step) []Step {
	out := make([]Step, 0, len(steps))
	for _, s := range steps {
		s.Repeat = false
		out = append(out, s)
	}
	if len(steps) == 0 || !steps[len(steps)-1].Repeat {
		return out
	}
	last := out[len(out)-1]
	interval := last.AfterMinutes
	if len(steps) > 1 {
		interval -= steps[len(steps)-2].AfterMinutes
	}
	if interval <= 0 {
		return out
	}
	for k := 1; k <= MaxRepeats; k++ {
		r := last
		r.AfterMinutes = last.AfterMinutes + k*interval
		out = append(out, r)
	}
	return out
}

// Redial is how a step's unanswered calls are placed again.
type Redial struct {
	Times    int           // more calls after the first
	Interval time.Duration // between the end of one call and the next
}

// Voice retry defaults and bounds.
const (
	DefaultVoiceRetries      = 2
	DefaultVoiceRetryMinutes = 3
	MaxVoiceRetries          = 5
	MaxVoiceRetryMinutes     = 60
)

// Redial returns the step's redial settings, defaulted and within bounds (a
// stored step the api did not write cannot make calls run wild or back to
// back).
func (s Step) Redial() Redial {
	times, minutes := DefaultVoiceRetries, DefaultVoiceRetryMinutes
	if s.VoiceRetries != nil {
		times = *s.VoiceRetries
	}
	if s.VoiceRetryMinutes != nil {
		minutes = *s.VoiceRetryMinutes
	}
	times = min(max(times, 0), MaxVoiceRetries)
	minutes = min(max(minutes, 1), MaxVoiceRetryMinutes)
	return Redial{Times: times, Interval: time.Duration(minutes) * time.Minute}
}

// Escalation plans the escalation of one alert for the sweeper. Steps fire
// in order, step i at triggeredAt + steps[i].AfterMinutes, until the alert is
// acknowledged. sentSteps is how many steps were already queued (steps[0:sentSteps]).
//
// It returns the indexes of the steps now due that were not yet sent, in
// order, and when the next unsent step becomes due (zero when none is left,
// or when acknowledged). A step that is not yet due holds back the steps
// after it even if they are configured with a smaller delay ("in order").
// A negative AfterMinutes counts as 0.
//
// Running out of steps only means nobody else is paged: the alert stays open
// until its condition clears or a person resolves it (the old system
// resolved live alarms when its steps ran out).
func Escalation(steps []Step, triggeredAt time.Time, acknowledged bool, now time.Time, sentSteps int) (due []int, next time.Time) {
	if acknowledged {
		return nil, time.Time{}
	}
	for i := max(sentSteps, 0); i < len(steps); i++ {
		at := triggeredAt.Add(time.Duration(max(steps[i].AfterMinutes, 0)) * time.Minute)
		if now.Before(at) {
			return due, at
		}
		due = append(due, i)
	}
	return due, time.Time{}
}
