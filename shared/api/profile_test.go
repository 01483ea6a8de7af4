package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/domain"
)

func TestUpdateProfile(t *testing.T) {
	h := newHarness(t)
	dana := h.user("dana")
	var me meResponse
	h.do(dana, http.MethodGet, "/api/v1/me", nil).must(t, 200).JSON(t, &me)
	if me.Phone != nil || me.NotificationPreferences != (domain.NotificationPreferences{Email: true, SMS: true, Push: true}) {
		t.Errorf("defaults = %+v", me)
	}
	h.do(dana, http.MethodPatch, "/api/v1/me", map[string]any{"display_name": " Dana Cook ", "phone": "+1 (555) 555-0100",
		"notification_preferences": map[string]any{"email": true, "sms": false, "push": false}}).must(t, 200).JSON(t, &me)
	if me.DisplayName != "Dana Cook" || me.Phone == nil || *me.Phone != "+15555550100" ||
		me.NotificationPreferences != (domain.NotificationPreferences{Email: true}) {
		t.Errorf("after the change = %+v", me)
	}
	// The sign-in provider's name no longer replaces the one set here.
	tok, err := h.signer.Mint(auth.Identity{Subject: dana.Subject, Email: dana.Email, Name: "dana from the token"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dana.Token = tok
	h.do(dana, http.MethodGet, "/api/v1/me", nil).must(t, 200).JSON(t, &me)
	if me.DisplayName != "Dana Cook" {
		t.Errorf("display name after a new sign-in = %q", me.DisplayName)
	}
	// A partial change keeps the rest; null removes the phone.
	h.do(dana, http.MethodPatch, "/api/v1/me", map[string]any{"phone": nil}).must(t, 200).JSON(t, &me)
	if me.Phone != nil || me.DisplayName != "Dana Cook" || me.NotificationPreferences.Email != true {
		t.Errorf("after removing the phone = %+v", me)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"phone":"555-0100"}`, "phone"},
		{`{"display_name":""}`, "display_name"},
		{`{"display_name":"` + strings.Repeat("n", 101) + `"}`, "display_name"},
		{`{"notification_preferences":null}`, "notification_preferences"},
	} {
		r := h.do(dana, http.MethodPatch, "/api/v1/me", tc.body).must(t, 400)
		if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %s", tc.body, r.Body)
		}
	}
	h.do(dana, http.MethodPatch, "/api/v1/me", `{"notification_preferences":{"email":true,"sms":true,"push":true,"fax":true}}`).must(t, 400)
	h.do(dana, http.MethodPatch, "/api/v1/me", `{"notification_preferences":{"email":true}}`).must(t, 400)
	h.do(nil, http.MethodPatch, "/api/v1/me", `{"display_name":"x"}`).must(t, 401)
}
