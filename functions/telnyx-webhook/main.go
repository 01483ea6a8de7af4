// Command telnyx-webhook is the telnyx-webhook Lambda function (SMS delivery receipts and inbound SMS). It only wires: its
// handler is assembled by shared/fn/telnyxwebhookfn, its runtime is shared/host.
package main

import (
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/fn/telnyxwebhookfn"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(catalog.TelnyxWebhook, telnyxwebhookfn.New) }
