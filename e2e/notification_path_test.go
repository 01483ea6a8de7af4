package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

// fakeTelnyx plays the Messages API: it checks what the real API checks and
// answers with a message id. Call Control requests go to calls.
type fakeTelnyx struct {
	mu    sync.Mutex
	sent  []map[string]any
	calls http.Handler
}

func (f *fakeTelnyx) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/v2/calls") && f.calls != nil {
		f.calls.ServeHTTP(w, r)
		return
	}
	var body map[string]any
	b, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != "/v2/messages" || r.Header.Get("Authorization") != "Bearer KEY_test" ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.Unmarshal(b, &body) != nil ||
		body["to"] == nil || body["text"] == nil || body["from"] == nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"errors":[{"code":"10015","title":"Invalid request"}]}`))
		return
	}
	f.mu.Lock()
	f.sent = append(f.sent, body)
	id := fmt.Sprintf("40318d6e-0000-4000-8000-%012d", len(f.sent))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"data":{"record_type":"message","id":%q,"to":[{"phone_number":%q,"status":"queued"}]}}`, id, body["to"])
}

func (f *fakeTelnyx) messages() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.sent...)
}

// The whole alarm path in one test, through the functions as they are
// wired: an uplink that confirms an alarm, the SMS request to Telnyx made
// right after the commit, Telnyx's message.finalized receipt marking it
// delivered, and the on-call person's "ACK <code>" reply acknowledging the
// alert (and being answered).
func TestAlarmToSMSToReceiptToAck(t *testing.T) {
	st := newAlarmStack(t)
	db, seed, telnyx, ctx := st.db, st.seed, st.telnyx, context.Background()
	post := func(path, body string, headers map[string]string) (int, string) {
		return st.do(http.MethodPost, path, body, headers)
	}
	signed := st.telnyxSigned

	// 1. Three uplinks: in range, out of range, out of range ten minutes later.
	now := time.Now().UTC()
	for i, s := range []struct {
		ago time.Duration
		c   float64
	}{{20 * time.Minute, 3.1}, {15 * time.Minute, 8.2}, {3 * time.Minute, 8.9}} {
		at := now.Add(-s.ago).Format(time.RFC3339Nano)
		body := fmt.Sprintf(`{"end_device_ids":{"device_id":"probe","dev_eui":%q,"application_ids":{"application_id":%q}},
			"correlation_ids":["as:up:path%d"],"received_at":%q,
			"uplink_message":{"f_port":2,"f_cnt":%d,"decoded_payload":{"TempC_SHT":%v},"received_at":%q}}`,
			seed.SensorDevEUI, seed.TTNApplicationID, i, at, i+1, s.c, at)
		if code, res := post("/webhooks/ttn", body, map[string]string{"X-Webhook-Secret": seed.TTNWebhookSecret}); code != 200 {
			t.Fatalf("uplink %d: %d %s", i, code, res)
		}
	}

	// 2. The SMS went out right after the commit, with the code to text back.
	msgs := telnyx.messages()
	if len(msgs) != 1 || msgs[0]["to"] != "+12125550100" || msgs[0]["from"] != "+15555550199" {
		t.Fatalf("Telnyx requests: %v", msgs)
	}
	code := regexp.MustCompile(`ACK ([A-Z0-9]{4,10})`).FindStringSubmatch(msgs[0]["text"].(string))
	if code == nil {
		t.Fatalf("the SMS does not say how to acknowledge: %q", msgs[0]["text"])
	}
	var providerID, status string
	if err := testenv.Pool(db).QueryRow(ctx, `SELECT provider_message_id, status FROM notifications WHERE channel = 'sms'`).Scan(&providerID, &status); err != nil {
		t.Fatal(err)
	}
	if status != "sent" || providerID == "" {
		t.Fatalf("sms row: %s %s", status, providerID)
	}

	// 3. Telnyx reports delivery.
	receipt := fmt.Sprintf(`{"data":{"record_type":"event","id":"b301ed3f-1490-491f-995f-6e64e69674d4","event_type":"message.finalized",
		"occurred_at":%q,"payload":{"record_type":"message","direction":"outbound","id":%q,"type":"SMS",
		"from":{"phone_number":"+15555550199"},"to":[{"phone_number":"+12125550100","status":"delivered"}],"text":"...","errors":[]}}}`,
		now.Format(time.RFC3339Nano), providerID)
	if c, res := post("/webhooks/telnyx", receipt, signed(receipt)); c != 200 {
		t.Fatalf("receipt: %d %s", c, res)
	}
	if err := testenv.Pool(db).QueryRow(ctx, `SELECT status FROM notifications WHERE channel = 'sms'`).Scan(&status); err != nil || status != "delivered" {
		t.Fatalf("after the receipt: %s (%v)", status, err)
	}

	// The owner's screen is open on the live channel.
	live := st.mustDialLive(url.Values{"token": {seed.Token}, "organization_id": {seed.OrgID}})

	// 4. The on-call manager texts back ACK <code>.
	reply := fmt.Sprintf(`{"data":{"record_type":"event","id":"f0b7fd23-0e1b-4e4f-b0e4-1d4a6a2f0a11","event_type":"message.received",
		"occurred_at":%q,"payload":{"record_type":"message","direction":"inbound","id":"9b1c1b5e-5a1e-4f7c-a2a1-0a4c1d1f7e55","type":"SMS",
		"from":{"phone_number":"+12125550100"},"to":[{"phone_number":"+15555550199","status":"webhook_delivered"}],"text":"ack %s"}}}`,
		now.Format(time.RFC3339Nano), strings.ToLower(code[1]))
	if c, res := post("/webhooks/telnyx", reply, signed(reply)); c != 200 {
		t.Fatalf("ACK reply: %d %s", c, res)
	}
	var alertStatus, note string
	if err := testenv.Pool(db).QueryRow(ctx, `SELECT status, coalesce(acknowledged_note, '') FROM alerts WHERE ack_code = $1`, code[1]).Scan(&alertStatus, &note); err != nil {
		t.Fatal(err)
	}
	// ... and the screen hears of it at once (telnyx-webhook publishes).
	if m := next(t, live); m.Type != "alert:acknowledged" || !strings.Contains(string(m.Data), `"acknowledged_at"`) {
		t.Fatalf("live after the SMS ACK: %+v %s", m, m.Data)
	}
	if alertStatus != "acknowledged" || !strings.Contains(note, "SMS") {
		t.Fatalf("alert after ACK: %s %q", alertStatus, note)
	}
	if msgs := telnyx.messages(); len(msgs) != 2 || msgs[1]["to"] != "+12125550100" {
		t.Errorf("the ACK was not confirmed by SMS: %v", msgs)
	}
	// A forged reply (wrong key) changes nothing and is refused.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	forged := map[string]string{"telnyx-timestamp": ts, "telnyx-signature-ed25519": base64.StdEncoding.EncodeToString(ed25519.Sign(other, []byte(ts+"|"+reply)))}
	if c, _ := post("/webhooks/telnyx", reply, forged); c != http.StatusUnauthorized {
		t.Errorf("forged reply: %d", c)
	}
}
