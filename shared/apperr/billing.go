package apperr

import "net/http"

// SubscriptionInactive answers a write to an organisation whose
// subscription no longer allows writes (expired trial, canceled, paused,
// past_due beyond its grace period). It is distinct from PaymentRequired so
// the frontend can send the user to the billing page rather than show a
// plan-limit message.
const SubscriptionInactive Code = "SUBSCRIPTION_INACTIVE"

// init registers the code's status beside the others; it lives in its own
// file so billing owns its error without editing the shared table.
func init() {
	statusByCode[SubscriptionInactive] = http.StatusPaymentRequired
}
