package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

// A single-step policy never loses its page silently, through the
// functions as they are wired: the policy texts the on-call manager only;
// an alarm's SMS goes out right after the uplink's commit; Telnyx's signed
// receipt says it could not be delivered; before answering, the
// telnyx-webhook pages the same contact by e-mail (the next channel), the
// alert's history says so, and the notification log shows the e-mail as
// the fallback of the SMS.
func TestSingleStepSMSPolicyFallsBackToEmail(t *testing.T) {
	st := newAlarmStack(t)
	const contactA, phone = "c0a7a000-0000-4000-8000-00000000000a", "+12125550100"
	ctx := context.Background()

	code, res := st.api(http.MethodGet, "/notification-policies", "")
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(res), &list) != nil || len(list.Items) != 1 {
		t.Fatalf("policies: %d %s", code, res)
	}
	patch := fmt.Sprintf(`{"steps":[{"after_minutes":0,"channels":["sms"],"contact_ids":[%q]}]}`, contactA)
	if code, res := st.api(http.MethodPatch, "/notification-policies/"+list.Items[0].ID, patch); code != http.StatusOK {
		t.Fatalf("policy patch: %d %s", code, res)
	}

	now := time.Now().UTC()
	for i, s := range []struct {
		ago time.Duration
		c   float64
	}{{20 * time.Minute, 3.1}, {15 * time.Minute, 8.2}, {3 * time.Minute, 8.9}} {
		st.uplink(st.seed.SensorDevEUI, i+1, now.Add(-s.ago), fmt.Sprintf(`{"TempC_SHT":%v}`, s.c))
	}
	if texts := st.smsTo(phone); len(texts) != 1 {
		t.Fatalf("texts: %v", texts)
	}
	var smsID, providerID, alertID string
	if err := testenv.Pool(st.db).QueryRow(ctx, `SELECT id, provider_message_id, alert_id FROM notifications WHERE channel = 'sms' AND status = 'sent'`).
		Scan(&smsID, &providerID, &alertID); err != nil {
		t.Fatal(err)
	}
	var emails int
	if err := testenv.Pool(st.db).QueryRow(ctx, `SELECT count(*) FROM notifications WHERE channel = 'email'`).Scan(&emails); err != nil || emails != 0 {
		t.Fatalf("an e-mail before any failure: %d %v", emails, err)
	}

	receipt := fmt.Sprintf(`{"data":{"record_type":"event","id":"5d0c7e51-6a8a-4c53-9d3e-2f0e7d9b1a21","event_type":"message.finalized",
		"occurred_at":%q,"payload":{"record_type":"message","direction":"outbound","id":%q,"type":"SMS",
		"from":{"phone_number":"+15555550199"},"to":[{"phone_number":%q,"status":"delivery_failed"}],"text":"...",
		"errors":[{"code":"40300","title":"Message delivery failed","detail":"The carrier rejected the message"}]}}}`,
		now.Format(time.RFC3339Nano), providerID, phone)
	if c, res := st.do(http.MethodPost, "/webhooks/telnyx", receipt, st.telnyxSigned(receipt)); c != http.StatusOK || !strings.Contains(res, `"failed"`) {
		t.Fatalf("receipt: %d %s", c, res)
	}

	var emailStatus, recipient, fallbackOf string
	if err := testenv.Pool(st.db).QueryRow(ctx, `SELECT status, recipient, coalesce(fallback_of::text, '') FROM notifications WHERE channel = 'email'`).
		Scan(&emailStatus, &recipient, &fallbackOf); err != nil {
		t.Fatalf("no e-mail fallback: %v", err)
	}
	if emailStatus != "sent" || recipient != "oncall@demo-bistro.test" || fallbackOf != smsID {
		t.Fatalf("e-mail: %s %s fallback of %q (sms %s)", emailStatus, recipient, fallbackOf, smsID)
	}
	var note string
	if err := testenv.Pool(st.db).QueryRow(ctx, `SELECT note FROM alert_events WHERE alert_id = $1 AND kind = 'fallback'`, alertID).Scan(&note); err != nil ||
		!strings.HasPrefix(note, "SMS to On-call manager failed") || !strings.HasSuffix(note, "paging them by e-mail instead") {
		t.Fatalf("history: %q %v", note, err)
	}
	code, res = st.api(http.MethodGet, "/notifications?channel=email&alert_id="+alertID, "")
	if code != http.StatusOK || !strings.Contains(res, `"fallback_of":"`+smsID+`"`) {
		t.Fatalf("log: %d %s", code, res)
	}
}
