package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
)

// Inspector share links: an owner or admin lets an inspector without an
// account read the reports and unit data of some sites over a period.
const (
	// InspectorLinkMaxTTL is the longest a link may live.
	InspectorLinkMaxTTL = 30 * 24 * time.Hour
	// InspectorLinkDefaultTTL is its life when the request names none.
	InspectorLinkDefaultTTL = 7 * 24 * time.Hour
	// InspectorLinkMaxSites bounds a link's sites.
	InspectorLinkMaxSites = 200
	// InspectorLinkMaxPeriodDays bounds the period a link shows, as a
	// report's range is bounded.
	InspectorLinkMaxPeriodDays = 366
	// InspectorLinkMaxName bounds the link's label.
	InspectorLinkMaxName = 200
	// inspectorTokenPrefix tells a share-link token from a Stack Auth JWT
	// at a glance (in a support ticket, a secret scanner's rule).
	inspectorTokenPrefix = "fgi_"
)

// InspectorLink is a share link as its organisation's owners and admins see
// it. The token itself is shown once, when the link is made.
type InspectorLink struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	SiteIDs    []string   `json:"site_ids"`
	PeriodFrom string     `json:"period_from"` // YYYY-MM-DD, included
	PeriodTo   string     `json:"period_to"`   // YYYY-MM-DD, included
	TokenLast4 string     `json:"token_last4"`
	CreatedBy  *string    `json:"created_by"` // display name, null once they are gone
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	// Status is active, expired or revoked (as of the answer).
	Status     string     `json:"status"`
	LastUsedAt *time.Time `json:"last_used_at"`
	UseCount   int64      `json:"use_count"`
}

// Inspector link statuses.
const (
	InspectorLinkActive  = "active"
	InspectorLinkExpired = "expired"
	InspectorLinkRevoked = "revoked"
)

// InspectorLinkStatus says whether a link still opens at now.
func InspectorLinkStatus(expiresAt time.Time, revokedAt *time.Time, now time.Time) string {
	switch {
	case revokedAt != nil:
		return InspectorLinkRevoked
	case !now.Before(expiresAt):
		return InspectorLinkExpired
	}
	return InspectorLinkActive
}

// InspectorScope is what a valid link lets its holder read: the sites of
// one organisation (those still live) and the readings' dates.
type InspectorScope struct {
	LinkID   string
	LinkName string
	OrgID    string
	SiteIDs  []string
	// From and To are the period's first and last dates (included).
	From, To  time.Time
	ExpiresAt time.Time
}

// HasSite reports whether the scope includes the site.
func (s InspectorScope) HasSite(id string) bool {
	for _, x := range s.SiteIDs {
		if strings.EqualFold(x, id) {
			return true
		}
	}
	return false
}

// NewInspectorToken returns a fresh share-link token and its SHA-256 (the
// only form stored).
func NewInspectorToken() (token string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	token = inspectorTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, InspectorTokenHash(token)
}

// InspectorTokenHash is the stored form of a token.
func InspectorTokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// LooksLikeInspectorToken reports whether s has a share-link token's shape
// (prefix and 43 base64url characters): anything else is refused before
// any lookup.
func LooksLikeInspectorToken(s string) bool {
	rest, ok := strings.CutPrefix(s, inspectorTokenPrefix)
	if !ok || len(rest) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}
