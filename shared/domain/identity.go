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
