package alerting

import "time"

// Step is one escalation step of a notification policy (notification_policies.steps).
type Step struct {
	AfterMinutes int      `json:"after_minutes"`
	Channels     []string `json:"channels"`    // "sms", "email"
	ContactIDs   []string `json:"contact_ids"` // escalation_contacts ids
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
