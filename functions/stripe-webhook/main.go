// Command stripe-webhook is the stripe-webhook Lambda function (Stripe billing events). It only wires: its
// handler is assembled by shared/fn/stripewebhookfn, its runtime is shared/host.
package main

import (
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/fn/stripewebhookfn"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(catalog.StripeWebhook, stripewebhookfn.New) }
