package domain

import "time"

// TTNManagedConnection is the TTN connection with what The Things Stack
// management adds: the API key (only its last 4 characters), its cluster,
// its rights as last checked, and the webhook we configured.
type TTNManagedConnection struct {
	TTNConnection
	Cluster             *string    `json:"cluster"`
	APIKeyLast4         *string    `json:"api_key_last4"`
	Rights              []string   `json:"rights"`
	WebhookID           *string    `json:"webhook_id"`
	WebhookConfiguredAt *time.Time `json:"webhook_configured_at"`
}

// Provisioning statuses of a sensor's end device in The Things Stack.
const (
	ProvisioningNone           = "none"
	ProvisioningPending        = "pending"
	ProvisioningProvisioned    = "provisioned"
	ProvisioningFailed         = "failed"
	ProvisioningDeprovisioning = "deprovisioning"
)

// SensorProvisioning is where a sensor's end device stands in The Things
// Stack: Steps lists the registries it is registered in.
type SensorProvisioning struct {
	SensorID    string     `json:"sensor_id"`
	DevEUI      string     `json:"dev_eui"`
	TTNDeviceID *string    `json:"ttn_device_id"`
	Status      string     `json:"provisioning_status"`
	Steps       []string   `json:"provisioning_steps"`
	Error       *string    `json:"provisioning_error"`
	UpdatedAt   *time.Time `json:"provisioning_updated_at"`
	// KeyUnseen: the Join Server holds a generated AppKey never shown.
	KeyUnseen bool `json:"-"`
}
