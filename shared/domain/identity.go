package domain

import (
	"time"

	"github.com/frostguard/functions/shared/access"
)

// User is a person who signed in with Stack Auth at least once.
type User struct {
	ID          string    `json:"id"`
	Subject     string    `json:"-"` // the Stack Auth user id
	Email       string    `json:"email,omitempty"`
	DisplayName string    `json:"display_name,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Membership is a user's place in one organisation.
type Membership struct {
	OrganizationID   string      `json:"organization_id"`
	OrganizationName string      `json:"organization_name"`
	Role             access.Role `json:"role"`
}

// Profile is what the signed-in user says about themself: the name shown to
// colleagues (their own once set here, else the sign-in provider's), a
// phone number (E.164) and which of the app's channels they want.
type Profile struct {
	DisplayName             string                  `json:"display_name"`
	Phone                   *string                 `json:"phone"`
	NotificationPreferences NotificationPreferences `json:"notification_preferences"`
}

// NotificationPreferences are a user's wishes for the app's own messages
// (e-mail, SMS, browser push). Who is paged for an alarm is decided by the
// organisation's escalation contacts and policies, not by these.
type NotificationPreferences struct {
	Email bool `json:"email"`
	SMS   bool `json:"sms"`
	Push  bool `json:"push"`
}
