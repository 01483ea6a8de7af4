package billing

import (
	"net/url"
	"strings"
)

// Default redirect paths of a checkout, relative to FRONTEND_URL. Stripe
// replaces {CHECKOUT_SESSION_ID} itself, so it must reach Stripe unescaped.
const (
	DefaultSuccessPath = "/settings/billing?session_id={CHECKOUT_SESSION_ID}"
	DefaultCancelPath  = "/settings/billing?canceled=true"
	PortalReturnPath   = "/settings/billing"
)

// maxRedirectPath bounds a client-supplied path: Stripe caps URLs at 5000
// characters, and nothing legitimate in the SPA is near this.
const maxRedirectPath = 1024

// redirectURL joins a client-supplied relative path to the frontend's
// origin, or the default path when p is empty. ok is false for anything
// that could send the browser elsewhere after paying (origin bug §7.3: any
// absolute URL was accepted, an open redirect on a trusted stripe.com
// page): absolute URLs, protocol-relative "//host", "/\host" (browsers read
// a backslash as a slash), control characters and over-long paths. The
// joined URL is parsed again and must still be on the frontend's origin.
func redirectURL(frontendURL, p, def string) (string, bool) {
	if p == "" {
		p = def
	}
	if len(p) > maxRedirectPath || !strings.HasPrefix(p, "/") ||
		strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\") {
		return "", false
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	rel, err := url.Parse(p)
	if err != nil || rel.Scheme != "" || rel.Host != "" || rel.User != nil {
		return "", false
	}
	base, err := url.Parse(strings.TrimRight(frontendURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return "", false
	}
	// Concatenate rather than ResolveReference: the latter would escape the
	// {CHECKOUT_SESSION_ID} placeholder and drop a base path prefix.
	joined := strings.TrimRight(frontendURL, "/") + p
	u, err := url.Parse(joined)
	if err != nil || u.Scheme != base.Scheme || u.Host != base.Host || u.User != nil {
		return "", false
	}
	return joined, true
}

// portalInsteadOfCheckout reports whether an organisation already has a
// live Stripe subscription, which a second checkout would duplicate (origin
// bug: nothing stopped buying a second subscription). Plan changes, card
// updates and resuming a paused subscription all happen in the portal.
// canceled and incomplete subscriptions are over (or never started), so a
// new checkout is right for them.
func portalInsteadOfCheckout(subscriptionID, status string) bool {
	if subscriptionID == "" {
		return false
	}
	switch status {
	case "active", "past_due", "trial", "paused":
		return true
	}
	return false
}
