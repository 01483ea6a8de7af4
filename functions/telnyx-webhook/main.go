// Command telnyx-webhook is the telnyx-webhook Lambda function (SMS delivery receipts and inbound SMS). It only wires: its
// configuration and handler come from shared/app, its runtime from shared/host.
package main

import (
	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(app.TelnyxWebhook, app.NewTelnyxWebhook) }
