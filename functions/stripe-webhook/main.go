// Command stripe-webhook is the stripe-webhook Lambda function (Stripe billing events). It only wires: its
// configuration and handler come from shared/app, its runtime from shared/host.
package main

import (
	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(app.StripeWebhook, app.NewStripeWebhook) }
