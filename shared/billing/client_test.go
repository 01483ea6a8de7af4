package billing_test

import (
	"errors"
	"testing"

	"github.com/stripe/stripe-go/v76"

	"github.com/frostguard/functions/shared/billing"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/testenv"
)

func TestStripeClientTalksToStripeMock(t *testing.T) {
	sc, err := billing.NewStripe(config.Stripe{SecretKey: "sk_test_123", APIBase: testenv.Require(t, "STRIPE_MOCK_URL")})
	if err != nil {
		t.Fatal(err)
	}
	cus, err := sc.Customers.New(&stripe.CustomerParams{
		Email:    stripe.String("owner@demo-bistro.test"),
		Metadata: map[string]string{"organization_id": "0e0a0000-0000-4000-8000-00000000000a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cus.ID == "" || cus.Object != "customer" {
		t.Fatalf("customer = %+v", cus)
	}
	// stripe-mock validates parameters like the real API does.
	_, err = sc.Customers.New(&stripe.CustomerParams{Params: stripe.Params{Extra: &stripe.ExtraValues{Values: map[string][]string{"no_such_param": {"x"}}}}})
	var se *stripe.Error
	if !errors.As(err, &se) || se.HTTPStatusCode != 400 {
		t.Fatalf("an unknown parameter must be a 400 from stripe-mock, got %v", err)
	}
}

func TestNoKeyMeansNotConfigured(t *testing.T) {
	if _, err := billing.NewStripe(config.Stripe{}); !errors.Is(err, billing.ErrNotConfigured) {
		t.Fatalf("err = %v", err)
	}
}
