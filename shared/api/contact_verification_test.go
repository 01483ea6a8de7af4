package api

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
)

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// sentCode reads the code out of the newest verification message to dest.
func (e *hierEnv) sentCode(t *testing.T, dest string) string {
	t.Helper()
	var body string
	e.h.queryRow([]any{&body}, `SELECT body FROM notifications WHERE kind = 'verification' AND recipient = $1 ORDER BY created_at DESC LIMIT 1`, dest)
	code := sixDigits.FindString(body)
	if code == "" {
		t.Fatalf("no code in %q", body)
	}
	return code
}

// A contact's phone and e-mail are verified by a one-time code sent through
// the outbox (the same senders and limits); the code is stored only hashed,
// wrong codes are counted (5, then a new code is needed), and changing the
// phone clears its verification.
func TestContactVerificationByOneTimeCode(t *testing.T) {
	e := newHierEnv(t)
	c := e.createContact(t, map[string]any{"name": "Alice", "phone": "+12125550101", "email": "Alice@Example.test"})
	if c.PhoneVerified || c.EmailVerified || len(c.Warnings) == 0 {
		t.Fatalf("a new contact: %+v", c)
	}
	base := e.path("/contacts/%s/verification", c.ID)
	var v store.VerificationStarted
	e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "sms"}).must(t, http.StatusAccepted).JSON(t, &v)
	if v.SentTo != "+*******0101" || v.ExpiresAt.Before(time.Now().Add(14*time.Minute)) {
		t.Errorf("started %+v", v)
	}
	code := e.sentCode(t, "+12125550101")
	var stored int
	e.h.queryRow([]any{&stored}, `SELECT count(*) FROM contact_verifications WHERE code_hash = $1 OR convert_to($2, 'UTF8') = code_hash`,
		code, code)
	if stored != 0 {
		t.Error("the code is stored in clear")
	}
	e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "sms"}).must(t, http.StatusTooManyRequests)
	e.h.do(e.staff, http.MethodPost, base, map[string]any{"channel": "sms"}).must(t, http.StatusForbidden)

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	mustFieldError(t, e.h.do(e.manager, http.MethodPost, base+"/confirm", map[string]any{"channel": "sms", "code": wrong}), "code")
	var got store.EscalationContact
	e.h.do(e.manager, http.MethodPost, base+"/confirm", map[string]any{"channel": "sms", "code": code}).must(t, http.StatusOK).JSON(t, &got)
	if !got.PhoneVerified || got.EmailVerified || got.PhoneCountry == nil || *got.PhoneCountry != "US" {
		t.Fatalf("after the right code: %+v", got)
	}
	// The e-mail too; five wrong codes kill a code.
	e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "email"}).must(t, http.StatusAccepted)
	emailCode := e.sentCode(t, "alice@example.test")
	for i := 0; i < domain.VerificationMaxAttempts; i++ {
		e.h.do(e.manager, http.MethodPost, base+"/confirm", map[string]any{"channel": "email", "code": "99999" + string(rune('0'+i))})
	}
	if r := e.h.do(e.manager, http.MethodPost, base+"/confirm", map[string]any{"channel": "email", "code": emailCode}); r.Status != http.StatusConflict {
		t.Fatalf("the right code after five wrong ones: %d %s", r.Status, r.Body)
	}
	// Changing the phone clears its verification.
	e.h.do(e.manager, http.MethodPatch, e.path("/contacts/%s", c.ID), map[string]any{"phone": "+12125550199"}).must(t, http.StatusOK).JSON(t, &got)
	if got.PhoneVerified {
		t.Error("a new phone number is still verified")
	}
}

// The unverified state shows on the contact and as a warning on every
// policy naming it; so does a phone outside the organisation's SMS
// countries (configured, else its sites' countries).
func TestUnverifiedContactsAreFlaggedOnPolicies(t *testing.T) {
	e := newHierEnv(t)
	e.h.exec(`INSERT INTO sites (organization_id, name, country) VALUES ($1, 'Main St', 'US')`, e.org)
	home := e.createContact(t, map[string]any{"name": "Alice", "phone": "+12125550101"})
	abroad := e.createContact(t, map[string]any{"name": "Bob", "phone": "+447911123456"})
	e.h.exec(`UPDATE escalation_contacts SET phone_verified_at = now() WHERE id = $1`, abroad.ID)
	var policy store.NotificationPolicy
	e.h.do(e.admin, http.MethodPost, e.path("/notification-policies"), map[string]any{
		"steps": []map[string]any{{"after_minutes": 0, "channels": []string{"sms"}, "contact_ids": []string{home.ID, abroad.ID}}},
	}).must(t, http.StatusCreated).JSON(t, &policy)
	if len(policy.Warnings) != 2 {
		t.Fatalf("warnings %+v", policy.Warnings)
	}
	for _, w := range policy.Warnings {
		switch w.ContactID {
		case home.ID:
			if !strings.Contains(w.Message, "not verified") || !strings.Contains(w.Message, "trial") {
				t.Errorf("home: %s", w.Message)
			}
		case abroad.ID:
			if !strings.Contains(w.Message, "GB") || !strings.Contains(w.Message, "US") {
				t.Errorf("abroad: %s", w.Message)
			}
		}
	}
	// Allowing GB clears Bob's warning; the organisation shows the list in force.
	var org domain.Organization
	e.h.do(e.admin, http.MethodPatch, e.path(""), map[string]any{"sms_allowed_countries": []string{"us", "GB"}}).must(t, http.StatusOK).JSON(t, &org)
	if strings.Join(org.SMSAllowedCountries, ",") != "GB,US" || strings.Join(org.SMSCountries, ",") != "GB,US" {
		t.Errorf("org %v %v", org.SMSAllowedCountries, org.SMSCountries)
	}
	e.h.do(e.admin, http.MethodGet, e.path("/notification-policies/%s", policy.ID), nil).must(t, http.StatusOK).JSON(t, &policy)
	if len(policy.Warnings) != 1 || policy.Warnings[0].ContactID != home.ID {
		t.Errorf("after allowing GB: %+v", policy.Warnings)
	}
	mustFieldError(t, e.h.do(e.admin, http.MethodPatch, e.path(""), map[string]any{"sms_allowed_countries": []string{"USA"}}), "sms_allowed_countries")
	e.h.do(e.admin, http.MethodPatch, e.path(""), map[string]any{"sms_allowed_countries": nil}).must(t, http.StatusOK).JSON(t, &org)
	if org.SMSAllowedCountries != nil || strings.Join(org.SMSCountries, ",") != "US" {
		t.Errorf("reset %v %v", org.SMSAllowedCountries, org.SMSCountries)
	}
}
