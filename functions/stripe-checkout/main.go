// Command stripe-checkout is the stripe-checkout Lambda function (Stripe Checkout and Billing Portal sessions). It only wires: its
// configuration and handler come from shared/app, its runtime from shared/host.
package main

import (
	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(app.StripeCheckout, app.NewStripeCheckout) }
