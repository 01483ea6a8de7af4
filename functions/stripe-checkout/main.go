// Command stripe-checkout is the stripe-checkout Lambda function (Stripe Checkout and Billing Portal sessions). It only wires: its
// handler is assembled by shared/fn/checkoutfn, its runtime is shared/host.
package main

import (
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/fn/checkoutfn"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(catalog.StripeCheckout, checkoutfn.New) }
