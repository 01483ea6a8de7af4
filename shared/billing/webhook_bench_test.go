package billing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/billing"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

// BenchmarkStripeWebhook measures one Stripe delivery through the real
// handler (web.Standard, signature check, parse, dedupe insert into
// stripe_events, the subscription and organisation updates, one
// transaction), one at a time as Stripe sends them to an endpoint. Every
// iteration is a distinct, newer customer.subscription.updated event that
// switches its organisation between two plans, so each one is applied,
// never a duplicate or stale. Run by `make bench` with fsync on.
func BenchmarkStripeWebhook(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	b.Cleanup(func() { slog.SetDefault(prev) })
	db, _ := testenv.OpenDB(b)
	ctx := context.Background()
	// Several organisations in turn: an endpoint sees events of many
	// customers, not one row updated over and over.
	const orgs = 16
	orgIDs := make([]string, orgs)
	for i := range orgIDs {
		var owner string
		if err := testenv.Pool(db).QueryRow(ctx, `INSERT INTO users (subject, email) VALUES ($1, $2) RETURNING id`,
			fmt.Sprintf("bench-%d", i), fmt.Sprintf("owner%d@example.test", i)).Scan(&owner); err != nil {
			b.Fatal(err)
		}
		secret, err := domain.NewTTNSecret()
		if err != nil {
			b.Fatal(err)
		}
		org, err := db.CreateOrganization(ctx, domain.NewOrganization{Name: fmt.Sprintf("Bench %d", i),
			Slug: fmt.Sprintf("bench-%d", i), Timezone: "UTC", TempUnit: "C"}, owner, secret)
		if err != nil {
			b.Fatal(err)
		}
		orgIDs[i] = org.ID
	}
	h := web.Standard(&billing.WebhookHandler{DB: db, Secret: testSecret, Prices: testPrices}, web.Options{Function: "stripe-webhook"})
	seq := 0

	b.Run("subscription-updated", func(b *testing.B) {
		// Signed before the clock starts (Stripe signs, not us); the
		// signature's 300 s tolerance is far longer than a run.
		bodies, sigs := make([][]byte, b.N), make([]string, b.N)
		now := time.Now()
		for i := range bodies {
			seq++
			o := seq % orgs
			price := testPrices.PriceStarter
			if (seq/orgs)%2 == 1 {
				price = testPrices.PricePro
			}
			sub := subscriptionObject(apiNew, subFixture{ID: fmt.Sprintf("sub_bench%02d", o), Customer: fmt.Sprintf("cus_bench%02d", o),
				Status: "active", Price: price, OrgID: orgIDs[o]})
			bodies[i] = event(apiNew, fmt.Sprintf("evt_bench_%08d", seq), billing.EventSubscriptionUpdated, t0+int64(seq), sub)
			sigs[i] = sign(bodies[i], testSecret, now)
		}
		took := make([]time.Duration, b.N)
		b.ResetTimer()
		for i := range b.N {
			req := httpRequest(ctx, bodies[i], sigs[i])
			w := newRecorder()
			start := time.Now()
			h.ServeHTTP(w, req)
			took[i] = time.Since(start)
			// Every event must really apply: a duplicate or stale one
			// would measure a shorter path.
			var res billing.WebhookResult
			if err := json.Unmarshal(w.Body.Bytes(), &res); w.Code != http.StatusOK || err != nil || res.Outcome != "applied" {
				b.Fatalf("status %d %s, want 200 outcome applied", w.Code, w.Body)
			}
		}
		b.StopTimer()
		testenv.ReportLatencies(b, took, 0.50, 0.99)
	})
}
