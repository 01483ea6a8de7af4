package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

// BenchmarkTelnyxWebhook measures one Telnyx delivery receipt through the
// real handler (web.Standard, Ed25519 signature check, parse, dedupe insert
// into telnyx_events, the outbox row locked and moved to delivered, one
// transaction), one at a time. Every iteration is a distinct event for a
// distinct message still 'sending', so each one dedupes by inserting and
// then changes its row: the common path of the webhook, which receives
// receipts for every SMS sent. Run by `make bench` with fsync on.
func BenchmarkTelnyxWebhook(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	b.Cleanup(func() { slog.SetDefault(prev) })
	db, _ := testenv.OpenDB(b)
	ctx := context.Background()
	signer := newTelnyxSigner(b)
	var orgID, alertID string
	err := testenv.Pool(db).QueryRow(ctx, `WITH o AS (INSERT INTO organizations (name, slug) VALUES ('Bench', 'bench') RETURNING id),
		s AS (INSERT INTO sites (organization_id, name) SELECT id, 'Site' FROM o RETURNING id, organization_id),
		a AS (INSERT INTO areas (organization_id, site_id, name) SELECT organization_id, id, 'Area' FROM s RETURNING id, site_id, organization_id),
		u AS (INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, status)
			SELECT organization_id, site_id, id, 'Cooler', 0, 5, 'alarm_active' FROM a RETURNING id, organization_id)
		INSERT INTO alerts (organization_id, unit_id, type, severity, title, triggered_at)
		SELECT organization_id, id, 'temp_excursion', 'critical', 'Cooler too warm', now() FROM u
		RETURNING organization_id, id`).Scan(&orgID, &alertID)
	if err != nil {
		b.Fatal(err)
	}
	var fixture map[string]any
	if err := json.Unmarshal(telnyxFixture(b, "message_finalized_delivered.json"), &fixture); err != nil {
		b.Fatal(err)
	}
	h := web.Standard(&TelnyxWebhook{DB: db, PublicKey: signer.pub}, web.Options{Function: "telnyx-webhook"})
	seq := 0

	b.Run("delivery-receipt", func(b *testing.B) {
		// One outbox row per receipt, handed to Telnyx (status sending),
		// made in one statement before the clock starts.
		first := seq + 1
		seq += b.N
		if _, err := testenv.Pool(db).Exec(ctx, `INSERT INTO notifications (organization_id, alert_id, escalation_step, recipient, channel,
				status, body, provider, provider_message_id, attempts)
			SELECT $1, $2, i, '+15555550123', 'sms', 'sending', 'FrostGuard ALARM', 'telnyx', 'bench-msg-' || i, 1
			FROM generate_series($3::int, $4::int) i`, orgID, alertID, first, seq); err != nil {
			b.Fatal(err)
		}
		// Signed before the clock starts, as Telnyx signs them.
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		bodies, sigs := make([][]byte, b.N), make([]string, b.N)
		for i := range bodies {
			n := first + i
			data := fixture["data"].(map[string]any)
			data["id"] = fmt.Sprintf("bench-ev-%d", n)
			data["payload"].(map[string]any)["id"] = fmt.Sprintf("bench-msg-%d", n)
			body, err := json.Marshal(fixture)
			if err != nil {
				b.Fatal(err)
			}
			bodies[i], sigs[i] = body, signer.sign(ts, body)
		}
		took := make([]time.Duration, b.N)
		b.ResetTimer()
		for i := range b.N {
			req := httptest.NewRequest(http.MethodPost, "/webhooks/telnyx", bytes.NewReader(bodies[i]))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(TelnyxTimestampHeader, ts)
			req.Header.Set(TelnyxSignatureHeader, sigs[i])
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, req)
			took[i] = time.Since(start)
			// Every receipt must change its row: a duplicate or an unknown
			// message would measure a shorter path.
			var res TelnyxResult
			if err := json.Unmarshal(rec.Body.Bytes(), &res); rec.Code != http.StatusOK || err != nil || res.Status != "updated" {
				b.Fatalf("status %d %s, want 200 updated", rec.Code, rec.Body)
			}
		}
		b.StopTimer()
		testenv.ReportLatencies(b, took, 0.50, 0.99)
	})
}
