package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/frostguard/functions/shared/access"
)

// Organization is a tenant: its settings and its effective entitlement.
type Organization struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Slug           string     `json:"slug"`
	Timezone       string     `json:"timezone"`
	TempUnit       TempUnit   `json:"temp_unit"`
	ComplianceMode string     `json:"compliance_mode"`
	Plan           string     `json:"plan"`
	SensorLimit    int        `json:"sensor_limit"`
	TrialEndsAt    *time.Time `json:"trial_ends_at"`
	// SMSAllowedCountries are the countries SMS may go to, as configured;
	// null = the default, the countries of the organisation's sites.
	SMSAllowedCountries []string `json:"sms_allowed_countries"`
	// SMSCountries is the list in force (the api fills it).
	SMSCountries []string  `json:"sms_countries,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// MyRole is the caller's role in this organisation (filled by the api).
	MyRole access.Role `json:"my_role,omitempty"`
}

// Compliance modes of an organisation.
const (
	ComplianceStandard = "standard"
	ComplianceHACCP    = "haccp"
)

// NewOrganization is what onboarding creates, validated.
type NewOrganization struct {
	Name     string
	Slug     string // the wanted slug; the store makes it unique
	Timezone string
	TempUnit TempUnit
}

// OrganizationPatch holds the settings a PATCH changes (nil: unchanged).
type OrganizationPatch struct {
	Name           *string
	Timezone       *string
	TempUnit       *TempUnit
	ComplianceMode *string
	// SMSCountries sets sms_allowed_countries; ResetSMSCountries clears it
	// (back to the sites' countries).
	SMSCountries      []string
	ResetSMSCountries bool
}

// Empty reports whether the patch changes nothing.
func (p OrganizationPatch) Empty() bool {
	return p.Name == nil && p.Timezone == nil && p.TempUnit == nil && p.ComplianceMode == nil &&
		p.SMSCountries == nil && !p.ResetSMSCountries
}

// TTNWebhookHeader is the header The Things Network sends the secret in.
const TTNWebhookHeader = "X-Webhook-Secret"

// TTNConnection is an organisation's The Things Network application. The
// webhook secret itself is never stored, only its hash and last 4 characters.
type TTNConnection struct {
	ID string `json:"-"`
	// ApplicationID is null until PUT .../ttn-connection/credentials bound
	// an application whose rights The Things Stack confirmed.
	ApplicationID   *string    `json:"application_id"`
	SecretLast4     string     `json:"secret_last4"`
	SecretRotatedAt time.Time  `json:"secret_rotated_at"`
	LastUplinkAt    *time.Time `json:"last_uplink_at"`
	IsActive        bool       `json:"is_active"`
	WebhookHeader   string     `json:"webhook_header"`
}

// TTNSecret is a freshly generated webhook secret: the value shown once to
// the caller and what is stored of it.
type TTNSecret struct {
	Value string
	Hash  [32]byte
	Last4 string
}

// NewTTNSecret generates a webhook secret: "fgttn_" and 32 random bytes in
// hex. The prefix lets secret scanners recognise a leaked one.
func NewTTNSecret() (TTNSecret, error) { return newWebhookSecret("fgttn_") }

// NewChirpStackSecret generates a ChirpStack connection's secret: "fgcs_" and 32 random bytes
// in hex, stored as TTN's are (the type is every network's webhook secret).
func NewChirpStackSecret() (TTNSecret, error) { return newWebhookSecret("fgcs_") }

func newWebhookSecret(prefix string) (TTNSecret, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return TTNSecret{}, err
	}
	v := prefix + hex.EncodeToString(b[:])
	return TTNSecret{Value: v, Hash: HashTTNSecret(v), Last4: v[len(v)-4:]}, nil
}

// HashTTNSecret is what network_connections.secret_hash stores: SHA-256 of the
// whole secret string as sent in the header. A fast hash is enough: the
// secret has 256 bits of entropy, and the webhook looks connections up by it.
func HashTTNSecret(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// Membership statuses.
const (
	MemberActive  = "active"
	MemberPending = "pending"
)

// OrgMember is one membership of an organisation: an active member or a
// pending invitation (no user until the invited person accepts it).
type OrgMember struct {
	ID          string      `json:"id"`
	UserID      *string     `json:"user_id"`
	Email       string      `json:"email"`
	DisplayName string      `json:"display_name"`
	Role        access.Role `json:"role"`
	Status      string      `json:"status"`
	InvitedAt   *time.Time  `json:"invited_at"`
	AcceptedAt  *time.Time  `json:"accepted_at"`
	// ExpiresAt is when a pending invitation lapses (null for members).
	ExpiresAt *time.Time `json:"expires_at"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}
