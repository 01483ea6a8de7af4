package metrics

// The metrics FrostGuard emits (namespace FrostGuard). template.yaml's alarms
// and dashboard may name only these (shared/app's template test).
const (
	// ttn-webhook, per uplink: dimension Network (ttn), and Reason for
	// rejections (bad_secret, malformed, too_large, ...).
	UplinksStored    = "UplinksStored"
	UplinksDuplicate = "UplinksDuplicate"
	UplinksUnclaimed = "UplinksUnclaimed"
	UplinksRejected  = "UplinksRejected"
	// Readings stored, per Network.
	Readings = "Readings"
	// Alerts, by Type and Severity (ttn-webhook and the sweeper).
	AlertsOpened   = "AlertsOpened"
	AlertsResolved = "AlertsResolved"
	// Notifications by Channel (sms, email) and, for failures and skips,
	// Reason; DispatchLag is from when a notification was due to its send.
	NotificationsSent    = "NotificationsSent"
	NotificationsFailed  = "NotificationsFailed"
	NotificationsSkipped = "NotificationsSkipped"
	DispatchLag          = "DispatchLag"
	// NotificationFallbacks: alarm messages queued on a contact's next
	// channel after a page failed for good.
	NotificationFallbacks = "NotificationFallbacks"
	// SendersUnhealthy: the sender channels (sms, voice, email) that are
	// down, degraded or could not be checked, at each sender health check.
	SendersUnhealthy = "SendersUnhealthy"
	// The sweeper: per Task; SweepSucceeded is 1 for a run whose every
	// task succeeded (the "sweeper not succeeding" alarm reads it).
	SweepTaskDuration = "SweepTaskDuration"
	SweepTaskItems    = "SweepTaskItems"
	SweepTaskFailures = "SweepTaskFailures"
	SweepSucceeded    = "SweepSucceeded"
	// Webhook signatures or secrets refused, by Provider (stripe, telnyx, ttn).
	WebhookVerificationFailures = "WebhookVerificationFailures"
	// Stripe events applied, and ignored by Reason (duplicate, stale, unhandled...).
	StripeEventsApplied = "StripeEventsApplied"
	StripeEventsIgnored = "StripeEventsIgnored"
	// Migrations applied by a deploy.
	MigrationsApplied = "MigrationsApplied"
	// The live channel (shared/realtime), by Function and event Type:
	// messages posted to connections, posts that failed (logged; the flow
	// that published went on), and connections found gone (410) and removed.
	LiveMessagesPosted  = "LiveMessagesPosted"
	LivePostFailures    = "LivePostFailures"
	LiveConnectionsGone = "LiveConnectionsGone"
	// Every HTTP answer, by Function (Request).
	Requests     = "Requests"
	ServerErrors = "ServerErrors"
)

// All lists every metric name above.
var All = []string{
	UplinksStored, UplinksDuplicate, UplinksUnclaimed, UplinksRejected, Readings,
	AlertsOpened, AlertsResolved,
	NotificationsSent, NotificationsFailed, NotificationsSkipped, DispatchLag, NotificationFallbacks, SendersUnhealthy,
	SweepTaskDuration, SweepTaskItems, SweepTaskFailures, SweepSucceeded,
	WebhookVerificationFailures, StripeEventsApplied, StripeEventsIgnored,
	MigrationsApplied, LiveMessagesPosted, LivePostFailures, LiveConnectionsGone, Requests, ServerErrors,
}
