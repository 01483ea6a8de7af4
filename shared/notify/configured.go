package notify

import (
	"net/http"
	"time"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/tracing"
)

// ProviderClient is the HTTP client for Telnyx and Resend: a timeout well
// inside a Lambda invocation, so a slow provider delays a notification (it
// is retried) instead of timing the function out.
func ProviderClient() *http.Client { return tracing.Client(8 * time.Second) }

// NewConfiguredDispatcher sends due outbox rows through the configured
// providers (logging senders where a key is not set).
func NewConfiguredDispatcher(db *store.DB, cfg config.Notify) *Dispatcher {
	client := ProviderClient()
	sms, email := Senders(cfg, client)
	d := &Dispatcher{DB: db, SMS: sms, Email: email}
	if calls := CallSender(cfg, client); calls != nil {
		d.Voice = calls
	}
	return d
}
