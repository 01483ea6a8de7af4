package domain

import "time"

// ChirpStackSecretHeaders are the headers an organisation's ChirpStack HTTP integration may be
// configured to send its secret in (shared/lorawan/chirpstack.Parser.Secret reads both).
var ChirpStackSecretHeaders = []string{"Authorization: Bearer <secret>", "X-Webhook-Secret: <secret>"}

// ChirpStackConnection is an organisation's ChirpStack v4 HTTP integration: deliveries that
// present its secret are the organisation's. The secret itself is never stored, only its hash
// and last 4 characters.
type ChirpStackConnection struct {
	// TenantID and ApplicationID bind the connection to one ChirpStack tenant and application
	// (UUIDs): a delivery of another is refused (403). Null accepts any.
	TenantID        *string    `json:"tenant_id"`
	ApplicationID   *string    `json:"application_id"`
	SecretLast4     string     `json:"secret_last4"`
	SecretRotatedAt time.Time  `json:"secret_rotated_at"`
	LastUplinkAt    *time.Time `json:"last_uplink_at"`
	IsActive        bool       `json:"is_active"`
	// SecretHeaders say how to configure the integration's headers.
	SecretHeaders []string  `json:"secret_headers"`
	CreatedAt     time.Time `json:"created_at"`
}

// ChirpStackBinding is what PUT .../network-connections/chirpstack binds the connection to.
type ChirpStackBinding struct {
	TenantID      *string
	ApplicationID *string
}
