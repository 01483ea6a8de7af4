package billing

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedirectURL(t *testing.T) {
	const front = "https://app.frostguard.test"
	ok := []struct{ front, path, want string }{
		{front, "", front + DefaultSuccessPath},
		{front + "/", "/settings/billing?x=y", front + "/settings/billing?x=y"},
		// The placeholder reaches Stripe as is: Stripe substitutes it.
		{front, "/done?session_id={CHECKOUT_SESSION_ID}", front + "/done?session_id={CHECKOUT_SESSION_ID}"},
		{front, "/@evil.test/x", front + "/@evil.test/x"},
		{front, "/a#frag", front + "/a#frag"},
		// A frontend served under a path prefix keeps its prefix.
		{"https://example.test/app", "/settings/billing", "https://example.test/app/settings/billing"},
		{"http://localhost:5173", "/settings/billing?canceled=true", "http://localhost:5173/settings/billing?canceled=true"},
	}
	for _, c := range ok {
		got, good := redirectURL(c.front, c.path, DefaultSuccessPath)
		if !good || got != c.want {
			t.Errorf("redirectURL(%q, %q) = %q, %v; want %q", c.front, c.path, got, good, c.want)
		}
	}
	bad := []string{
		"https://evil.test/x",
		"http://evil.test",
		"//evil.test/x",
		"///evil.test",
		"/\\evil.test",
		"\\\\evil.test",
		"/x\\y",
		"evil.test/x",
		"settings/billing",
		"javascript:alert(1)",
		"data:text/html,hi",
		" /settings",
		"/settings\n/x",
		"/settings\t",
		"/a\x00b",
		"/" + strings.Repeat("a", maxRedirectPath),
	}
	for _, p := range bad {
		if got, good := redirectURL(front, p, DefaultSuccessPath); good {
			t.Errorf("redirectURL(%q) accepted: %q", p, got)
		}
	}
	if _, good := redirectURL("not a url", "/x", DefaultSuccessPath); good {
		t.Error("a malformed FRONTEND_URL was accepted")
	}
}

func TestPortalInsteadOfCheckout(t *testing.T) {
	cases := []struct {
		sub, status string
		want        bool
	}{
		{"", "trial", false},
		{"", "active", false}, // no Stripe subscription: nothing to duplicate
		{"sub_1", "active", true},
		{"sub_1", "past_due", true},
		{"sub_1", "trial", true}, // a Stripe trial (trialing)
		{"sub_1", "paused", true},
		{"sub_1", "canceled", false},
		{"sub_1", "incomplete", false},
		{"sub_1", "something_new", false},
	}
	for _, c := range cases {
		if got := portalInsteadOfCheckout(c.sub, c.status); got != c.want {
			t.Errorf("portalInsteadOfCheckout(%q, %q) = %v", c.sub, c.status, got)
		}
	}
}

func FuzzRedirectURLStaysOnOrigin(f *testing.F) {
	for _, s := range []string{"/settings", "//evil", "/\\evil", "https://evil", "/a?b=c#d", "/%2F%2Fevil", "/.."} {
		f.Add(s)
	}
	const front = "https://app.frostguard.test"
	f.Fuzz(func(t *testing.T, p string) {
		got, ok := redirectURL(front, p, DefaultSuccessPath)
		if !ok {
			return
		}
		if !strings.HasPrefix(got, front+"/") {
			t.Fatalf("redirectURL(%q) = %q leaves the origin", p, got)
		}
		// Browsers read a backslash as a slash (WHATWG URL): parse it the
		// way they would; the host must still be ours.
		u, err := url.Parse(strings.ReplaceAll(got, "\\", "/"))
		if err != nil || u.Host != "app.frostguard.test" || u.User != nil {
			t.Fatalf("redirectURL(%q) = %q: parsed %v (%v)", p, got, u, err)
		}
	})
}
