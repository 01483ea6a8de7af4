package domain

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/access"
)

// InvitationTTL is how long an invitation can be accepted; resending it
// starts the time again.
const InvitationTTL = 7 * 24 * time.Hour

// InvitationResendInterval is the least time between two e-mails of one
// invitation.
const InvitationResendInterval = time.Minute

// Invitation is a pending invitation as the invited person sees it (GET
// /api/v1/me): listed only to a signed-in user whose verified e-mail address
// it was sent to.
type Invitation struct {
	ID               string      `json:"id"`
	OrganizationID   string      `json:"organization_id"`
	OrganizationName string      `json:"organization_name"`
	Role             access.Role `json:"role"`
	// InvitedBy is the inviter's name (else e-mail); "" once they are gone.
	InvitedBy string    `json:"invited_by"`
	InvitedAt time.Time `json:"invited_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// OrgInvitation is a pending invitation as an organisation's owners and
// admins see it.
type OrgInvitation struct {
	ID    string      `json:"id"`
	Email string      `json:"email"`
	Role  access.Role `json:"role"`
	// InvitedBy is the inviter's name (else e-mail), null once they are gone.
	InvitedBy  *string   `json:"invited_by"`
	InvitedAt  time.Time `json:"invited_at"`
	LastSentAt time.Time `json:"last_sent_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Expired    bool      `json:"expired"`
	CreatedAt  time.Time `json:"created_at"`
}

// InvitationFacts is what the invitation e-mail says.
type InvitationFacts struct {
	ID               string
	OrganizationName string
	InviterName      string // "" when unknown
	Role             access.Role
	ExpiresAt        time.Time
}

// InvitationEmail renders the invitation e-mail: a link to the frontend,
// where the invited person signs in with this address (verified) and
// accepts or declines. The organisation's name is the only text a customer
// chooses; it is quoted and cut, and the message carries no other link.
func InvitationEmail(f InvitationFacts, frontendURL string) (subject, body string) {
	org := quoteName(f.OrganizationName)
	subject = "You are invited to join " + org + " on FrostGuard"
	var b strings.Builder
	who := "Someone"
	if f.InviterName != "" {
		who = quoteName(f.InviterName)
	}
	fmt.Fprintf(&b, "%s invited you to join %s on FrostGuard as %s.\n\n", who, org, f.Role)
	fmt.Fprintf(&b, "To accept or decline, sign in with this e-mail address:\n%s/invitations/%s\n\n",
		strings.TrimRight(frontendURL, "/"), f.ID)
	fmt.Fprintf(&b, "The invitation is valid for 7 days, until %s.\n", f.ExpiresAt.UTC().Format("2 January 2006 15:04 UTC"))
	b.WriteString("If you did not expect it, ignore this e-mail: nothing happens unless you accept.\n")
	return subject, b.String()
}

// quoteName shows customer-chosen text as a quoted name on one line.
func quoteName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80]) + "…"
	}
	return "\u201c" + s + "\u201d"
}

// NewID returns a random version-4 UUID, for rows whose id must be known
// before they are written (an invitation's link is in its own e-mail).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
