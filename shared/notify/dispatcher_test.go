package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// dspEnv is a migrated database, the two fake providers and a dispatcher
// whose clock the test moves.
type dspEnv struct {
	t      *testing.T
	db     *store.DB
	tx     *dspTelnyx
	rs     *dspResend
	d      *Dispatcher
	mu     sync.Mutex
	clock  time.Time
	org    string
	site   string
	unit   string
	alerts map[string]string // severity/status -> alert id
	seq    int
}

func dspSetup(t *testing.T, orgTZ string, siteTZ *string) *dspEnv {
	t.Helper()
	db, _ := testenv.OpenDB(t)
	e := &dspEnv{t: t, db: db, tx: dspNewTelnyx(t), rs: dspNewResend(t), alerts: map[string]string{},
		clock: time.Now().UTC().Truncate(time.Second)}
	client := &http.Client{Timeout: 2 * time.Second}
	e.d = &Dispatcher{DB: db,
		SMS:   NewTelnyx(dspTelnyxKey, e.tx.URL, dspFromNumber, "", client),
		Email: NewResend(dspResendKey, e.rs.URL, "FrostGuard <alerts@frostguard.example>", client),
		Now:   e.now}
	e.org = e.scalar(`INSERT INTO organizations (name, slug, timezone) VALUES ('Org', 'org-'||substr(md5(random()::text), 1, 8), $1) RETURNING id`, orgTZ)
	e.site = e.scalar(`INSERT INTO sites (organization_id, name, timezone) VALUES ($1, 'Main St', $2) RETURNING id`, e.org, siteTZ)
	area := e.scalar(`INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'Kitchen') RETURNING id`, e.org, e.site)
	e.unit = e.scalar(`INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		VALUES ($1, $2, $3, 'Fridge 1', 0, 5) RETURNING id`, e.org, e.site, area)
	return e
}

func (e *dspEnv) now() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.clock }
func (e *dspEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.clock = e.clock.Add(d)
	e.mu.Unlock()
}

func (e *dspEnv) scalar(sql string, args ...any) string {
	e.t.Helper()
	var s string
	if err := testenv.Pool(e.db).QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func (e *dspEnv) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := testenv.Pool(e.db).Exec(context.Background(), sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

var dspAlertTypes = []string{"temp_excursion", "door_open", "monitoring_interrupted", "low_battery",
	"sensor_fault", "missed_manual_entry", "suspected_cooling_failure"}

// alert returns an alert of the unit with that severity and status
// (active, acknowledged, resolved), one per combination.
func (e *dspEnv) alert(severity, status string) string {
	k := severity + "/" + status
	if id, ok := e.alerts[k]; ok {
		return id
	}
	typ := dspAlertTypes[len(e.alerts)]
	e.alerts[k] = e.scalar(`INSERT INTO alerts (organization_id, unit_id, type, severity, status, title, triggered_at,
			acknowledged_at, resolved_at, resolution)
		VALUES ($1, $2, $3, $4, $5, 'Too warm', $6,
			CASE WHEN $5 = 'acknowledged' THEN $6::timestamptz END, CASE WHEN $5 = 'resolved' THEN $6::timestamptz END,
			CASE WHEN $5 = 'resolved' THEN 'auto' END) RETURNING id`,
		e.org, e.unit, typ, severity, status, e.now().Add(-time.Hour))
	return e.alerts[k]
}

type dspRow struct {
	AlertID            string // "" = a test notification
	Kind               string // default alert (test without AlertID)
	Channel, Recipient string
	Status             string // default pending
	Attempts           int
	Provider           string
	NextAttempt        time.Time // default now
	SentAt             *time.Time
}

// row inserts one outbox row; each gets its own escalation step so rows to
// one recipient do not collide on the once-per-step key.
func (e *dspEnv) row(r dspRow) string {
	e.t.Helper()
	e.seq++
	if r.Kind == "" {
		r.Kind = "alert"
		if r.AlertID == "" {
			r.Kind = "test"
		}
	}
	if r.Status == "" {
		r.Status = "pending"
	}
	if r.NextAttempt.IsZero() {
		r.NextAttempt = e.now()
	}
	var alertID *string
	if r.AlertID != "" {
		alertID = &r.AlertID
	}
	created := e.now().Add(-time.Minute)
	if r.SentAt != nil && r.SentAt.Before(created) {
		created = *r.SentAt
	}
	return e.scalar(`INSERT INTO notifications (organization_id, alert_id, kind, escalation_step, recipient, channel, status,
			attempts, provider, next_attempt_at, subject, body, sent_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, ''), $10, CASE WHEN $6 = 'email' THEN 'Alarm: Fridge 1' END,
			'Fridge 1 at Main St is 9.0°C (max 5.0°C). Reply ACK ABC123', $11::timestamptz, $12::timestamptz, coalesce($11::timestamptz, $12::timestamptz)) RETURNING id`,
		e.org, alertID, r.Kind, e.seq, r.Recipient, r.Channel, r.Status, r.Attempts, r.Provider, r.NextAttempt, r.SentAt, created)
}

type dspState struct {
	Status, Provider, ProviderID, LastError string
	Attempts                                int
	NextAttempt                             time.Time
	SentAt, FailedAt                        *time.Time
}

func (e *dspEnv) state(id string) dspState {
	e.t.Helper()
	var s dspState
	err := testenv.Pool(e.db).QueryRow(context.Background(), `SELECT status, coalesce(provider, ''), coalesce(provider_message_id, ''),
		coalesce(last_error, ''), attempts, next_attempt_at, sent_at, failed_at FROM notifications WHERE id = $1`, id).
		Scan(&s.Status, &s.Provider, &s.ProviderID, &s.LastError, &s.Attempts, &s.NextAttempt, &s.SentAt, &s.FailedAt)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *dspEnv) dispatch(want Report) {
	e.t.Helper()
	got, err := e.d.DispatchDue(context.Background(), 100)
	if err != nil {
		e.t.Fatal(err)
	}
	if got != want {
		e.t.Fatalf("report %+v, want %+v", got, want)
	}
}

func TestDispatchSendsSMSAndEmail(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	a := e.alert("warning", "active")
	sms := e.row(dspRow{AlertID: a, Channel: "sms", Recipient: "+15555550100"})
	mail := e.row(dspRow{AlertID: a, Channel: "email", Recipient: "ops@example.com"})
	e.dispatch(Report{Claimed: 2, Sent: 2})
	s := e.state(sms)
	if s.Status != "sent" || s.Provider != "telnyx" || !strings.HasPrefix(s.ProviderID, "tx-") || s.Attempts != 1 ||
		s.SentAt == nil || !s.SentAt.Equal(e.now()) {
		t.Errorf("sms row %+v", s)
	}
	m := e.state(mail)
	if m.Status != "sent" || m.Provider != "resend" || !strings.HasPrefix(m.ProviderID, "re-") || m.Attempts != 1 {
		t.Errorf("email row %+v", m)
	}
	// Resend got the row id as Idempotency-Key, and each provider one request
	if hits, sent := e.rs.counts(mail); hits != 1 || sent != 1 {
		t.Errorf("resend hits %d sent %d for key %s", hits, sent, mail)
	}
	if hits, sent := e.tx.counts("+15555550100"); hits != 1 || sent != 1 {
		t.Errorf("telnyx hits %d sent %d", hits, sent)
	}
	e.tx.mu.Lock()
	last := e.tx.last
	e.tx.mu.Unlock()
	if last.From != dspFromNumber || !strings.Contains(last.Text, "Fridge 1") {
		t.Errorf("telnyx body %+v", last)
	}
	// a sent row is never claimed again, even once its time has long passed
	e.advance(24 * time.Hour)
	e.dispatch(Report{})
}

func TestDispatchRetriesServerErrorThenSendsOnce(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	a := e.alert("warning", "active")
	fail1 := func(_ string, hit int) (int, time.Duration) {
		if hit == 1 {
			return 500, 0
		}
		return 200, 0
	}
	e.tx.setRespond(fail1)
	e.rs.setRespond(fail1)
	sms := e.row(dspRow{AlertID: a, Channel: "sms", Recipient: "+15555550100"})
	mail := e.row(dspRow{AlertID: a, Channel: "email", Recipient: "ops@example.com"})
	e.dispatch(Report{Claimed: 2, Retried: 2})
	for _, id := range []string{sms, mail} {
		s := e.state(id)
		wait := s.NextAttempt.Sub(e.now())
		if s.Status != "pending" || s.Attempts != 1 || wait < 24*time.Second || wait > 36*time.Second ||
			!strings.Contains(s.LastError, "500") {
			t.Errorf("after 500: %+v (retry in %v)", s, wait)
		}
	}
	e.dispatch(Report{}) // not due yet
	e.advance(time.Minute)
	e.dispatch(Report{Claimed: 2, Sent: 2})
	for _, id := range []string{sms, mail} {
		if s := e.state(id); s.Status != "sent" || s.Attempts != 2 || s.LastError != "" {
			t.Errorf("after retry: %+v", s)
		}
	}
	if hits, sent := e.tx.counts("+15555550100"); hits != 2 || sent != 1 {
		t.Errorf("telnyx hits %d sent %d", hits, sent)
	}
	if hits, sent := e.rs.counts(mail); hits != 2 || sent != 1 {
		t.Errorf("resend hits %d sent %d", hits, sent)
	}
	e.advance(time.Hour)
	e.dispatch(Report{})
}

// A timeout after the request was written: Resend's Idempotency-Key makes
// the retry safe (the replay returns the first id, nothing is sent again);
// for Telnyx the SMS may be out, so the row fails as ambiguous and is never
// re-sent. A request that never left (connection refused) is retried.
func TestDispatchTimeoutNeverSendsTwice(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	a := e.alert("warning", "active")
	slowFirst := func(_ string, hit int) (int, time.Duration) {
		if hit == 1 {
			return 200, 600 * time.Millisecond
		}
		return 200, 0
	}
	e.tx.setRespond(slowFirst)
	e.rs.setRespond(slowFirst)
	short := &http.Client{Timeout: 150 * time.Millisecond}
	e.d.SMS = NewTelnyx(dspTelnyxKey, e.tx.URL, dspFromNumber, "", short)
	e.d.Email = NewResend(dspResendKey, e.rs.URL, "alerts@frostguard.example", short)
	sms := e.row(dspRow{AlertID: a, Channel: "sms", Recipient: "+15555550100"})
	mail := e.row(dspRow{AlertID: a, Channel: "email", Recipient: "ops@example.com"})
	e.dispatch(Report{Claimed: 2, Retried: 1, Failed: 1})
	if s := e.state(sms); s.Status != "failed" || !strings.HasPrefix(s.LastError, "ambiguous: ") || s.FailedAt == nil {
		t.Errorf("sms after timeout: %+v", s)
	}
	if s := e.state(mail); s.Status != "pending" || !strings.Contains(s.LastError, "timeout") {
		t.Errorf("email after timeout: %+v", s)
	}
	// the slow requests complete at the providers
	dspEventually(t, func() bool {
		_, smsSent := e.tx.counts("+15555550100")
		_, mailSent := e.rs.counts(mail)
		return smsSent == 1 && mailSent == 1
	})
	e.advance(time.Hour)
	e.dispatch(Report{Claimed: 1, Sent: 1})
	m := e.state(mail)
	e.rs.mu.Lock()
	firstID := e.rs.ids[mail]
	e.rs.mu.Unlock()
	if m.Status != "sent" || m.ProviderID != firstID || m.Attempts != 2 {
		t.Errorf("email after retry: %+v, want id %s", m, firstID)
	}
	if hits, sent := e.rs.counts(mail); hits != 2 || sent != 1 {
		t.Errorf("resend hits %d sent %d", hits, sent)
	}
	e.advance(time.Hour)
	e.dispatch(Report{})
	if hits, sent := e.tx.counts("+15555550100"); hits != 1 || sent != 1 {
		t.Errorf("telnyx hits %d sent %d", hits, sent)
	}

	// connection refused: nothing reached Telnyx, the SMS is retried
	e.d.SMS = NewTelnyx(dspTelnyxKey, "http://127.0.0.1:1", dspFromNumber, "", short)
	refused := e.row(dspRow{AlertID: a, Channel: "sms", Recipient: "+15555550199"})
	e.dispatch(Report{Claimed: 1, Retried: 1})
	if s := e.state(refused); s.Status != "pending" || s.Attempts != 1 || strings.HasPrefix(s.LastError, "ambiguous") {
		t.Errorf("refused: %+v", s)
	}
	e.tx.setRespond(nil)
	e.d.SMS = NewTelnyx(dspTelnyxKey, e.tx.URL, dspFromNumber, "", short)
	e.advance(time.Hour)
	e.dispatch(Report{Claimed: 1, Sent: 1})
}

func dspEventually(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met in time")
}

func TestDispatchPermanentErrorFailsAtOnce(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	a := e.alert("warning", "active")
	e.tx.setRespond(func(string, int) (int, time.Duration) { return 422, 0 })
	e.rs.setRespond(func(string, int) (int, time.Duration) { return 422, 0 })
	sms := e.row(dspRow{AlertID: a, Channel: "sms", Recipient: "+15555550100"})
	mail := e.row(dspRow{AlertID: a, Channel: "email", Recipient: "ops@example.com"})
	e.dispatch(Report{Claimed: 2, Failed: 2})
	if s := e.state(sms); s.Status != "failed" || s.LastError != "422 40310: Invalid 'to' address (Invalid 'to' address.)" || s.Attempts != 1 {
		t.Errorf("sms: %+v", s)
	}
	if s := e.state(mail); s.Status != "failed" || s.LastError != "422 validation_error: The `to` address is invalid." {
		t.Errorf("email: %+v", s)
	}
	e.advance(time.Hour)
	e.dispatch(Report{})
}

func TestDispatchMaxAttempts(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	e.d.MaxAttempts = 3
	e.tx.setRespond(func(string, int) (int, time.Duration) { return 503, 0 })
	sms := e.row(dspRow{Channel: "sms", Recipient: "+15555550100"})
	e.dispatch(Report{Claimed: 1, Retried: 1})
	e.advance(time.Hour)
	e.dispatch(Report{Claimed: 1, Retried: 1})
	e.advance(time.Hour)
	e.dispatch(Report{Claimed: 1, Failed: 1})
	if s := e.state(sms); s.Status != "failed" || s.Attempts != 3 || !strings.HasPrefix(s.LastError, "max attempts (3) reached: 503") {
		t.Errorf("%+v", s)
	}
	e.advance(time.Hour)
	e.dispatch(Report{})
	if hits, _ := e.tx.counts("+15555550100"); hits != 3 {
		t.Errorf("hits %d", hits)
	}
}

func TestDispatchConcurrentSendsEachOnce(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	a := e.alert("critical", "active")
	var ids []string
	for i := range 50 {
		if i%2 == 0 {
			ids = append(ids, e.row(dspRow{AlertID: a, Channel: "sms", Recipient: fmt.Sprintf("+1555555%04d", i)}))
		} else {
			ids = append(ids, e.row(dspRow{AlertID: a, Channel: "email", Recipient: fmt.Sprintf("ops%d@example.com", i)}))
		}
	}
	var sent, claimed atomic.Int64
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			for {
				rep, err := e.d.DispatchDue(context.Background(), 7)
				if err != nil {
					t.Error(err)
					return
				}
				sent.Add(int64(rep.Sent))
				claimed.Add(int64(rep.Claimed))
				if rep.Claimed == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if sent.Load() != 50 || claimed.Load() != 50 {
		t.Errorf("sent %d claimed %d, want 50 each", sent.Load(), claimed.Load())
	}
	for i, id := range ids {
		if s := e.state(id); s.Status != "sent" || s.Attempts != 1 {
			t.Errorf("row %d: %+v", i, s)
		}
		if i%2 == 0 {
			if hits, _ := e.tx.counts(fmt.Sprintf("+1555555%04d", i)); hits != 1 {
				t.Errorf("sms %d: %d requests", i, hits)
			}
		} else if hits, _ := e.rs.counts(id); hits != 1 {
			t.Errorf("email %d: %d requests", i, hits)
		}
	}
}

// An invitation e-mail belongs to no alert: the dispatcher sends it like a
// test message (no quiet hours: someone is waiting), through the same
// sender and limits.
func TestDispatchSendsInvitationEmails(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	inv := e.row(dspRow{Kind: "invitation", Channel: "email", Recipient: "newbie@example.com"})
	e.dispatch(Report{Claimed: 1, Sent: 1})
	if s := e.state(inv); s.Status != "sent" || s.Provider != "resend" {
		t.Errorf("invitation row %+v", s)
	}
}

// The claim reads the abuse limits' facts from the database: a trial
// organisation's unverified contact, a number outside its sites' countries
// and sends past its daily cap are skipped; its verified contact in an
// allowed country is paged; the same rows of a paying organisation all go.
func TestDispatchAppliesTheTrialAbuseLimits(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	e.d.Limits = Limits{TrialSMSPerDay: 3}
	e.exec(`UPDATE sites SET country = 'US' WHERE id = $1`, e.site)
	e.exec(`INSERT INTO subscriptions (organization_id, status, trial_ends_at) VALUES ($1, 'trial', now() + interval '14 days')`, e.org)
	a := e.alert("critical", "active")
	contact := func(phone string, verified bool) string {
		var at *time.Time
		if verified {
			now := e.now()
			at = &now
		}
		return e.scalar(`INSERT INTO escalation_contacts (organization_id, name, phone, phone_verified_at) VALUES ($1, 'C', $2, $3) RETURNING id`,
			e.org, phone, at)
	}
	page := func(contactID, phone string) string {
		e.seq++
		return e.scalar(`INSERT INTO notifications (organization_id, alert_id, kind, escalation_step, contact_id, recipient, channel, body, next_attempt_at)
			VALUES ($1, $2, 'alert', $3, $4, $5, 'sms', 'Fridge 1 is warm', $6) RETURNING id`, e.org, a, e.seq, contactID, phone, e.now())
	}
	verified := page(contact("+12125550101", true), "+12125550101")
	unverified := page(contact("+12125550102", false), "+12125550102")
	abroad := page(contact("+447911123456", true), "+447911123456")
	caribbean := page(contact("+18765550100", true), "+18765550100")
	e.dispatch(Report{Claimed: 4, Sent: 1, Skipped: 3})
	for id, reason := range map[string]string{unverified: ReasonUnverifiedContact, abroad: ReasonCountryNotAllowed, caribbean: ReasonCountryNotAllowed} {
		if s := e.state(id); s.Status != "skipped" || s.LastError != reason {
			t.Errorf("row %s: %+v, want skipped %s", id, s, reason)
		}
	}
	if s := e.state(verified); s.Status != "sent" {
		t.Errorf("the verified contact: %+v", s)
	}
	// The daily cap (3 SMS here) holds for this critical alert too.
	more := []string{page(contact("+12125550103", true), "+12125550103"), page(contact("+12125550104", true), "+12125550104"),
		page(contact("+12125550105", true), "+12125550105")}
	e.dispatch(Report{Claimed: 3, Sent: 2, Skipped: 1})
	skipped := 0
	for _, id := range more {
		if s := e.state(id); s.Status == "skipped" && s.LastError == ReasonTrialDailyCap {
			skipped++
		}
	}
	if skipped != 1 {
		t.Errorf("%d rows over the daily cap, want 1", skipped)
	}
	// A paying organisation pages every contact in every country.
	e.exec(`UPDATE subscriptions SET status = 'active' WHERE organization_id = $1`, e.org)
	again := []string{page(contact("+12125550106", false), "+12125550106"), page(contact("+447911123457", false), "+447911123457")}
	e.dispatch(Report{Claimed: 2, Sent: 2})
	for _, id := range again {
		if s := e.state(id); s.Status != "sent" {
			t.Errorf("paying: %+v", s)
		}
	}
}
