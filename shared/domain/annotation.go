package domain

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Annotation is a note on a unit's chart at a moment, by a person: editable
// by its author and by members who manage units.
type Annotation struct {
	ID         string    `json:"id"`
	UnitID     string    `json:"unit_id"`
	At         time.Time `json:"at"`
	Body       string    `json:"body"`
	AuthorID   *string   `json:"author_id"`
	AuthorName *string   `json:"author_name"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// MaxAnnotationLength bounds an annotation's text (characters).
const MaxAnnotationLength = 2000

// CheckAnnotationBody says what is wrong with an annotation's text ("" when
// nothing is): it must say something, in at most MaxAnnotationLength
// characters.
func CheckAnnotationBody(body string) string {
	switch {
	case strings.TrimSpace(body) == "":
		return "must not be empty"
	case utf8.RuneCountInString(body) > MaxAnnotationLength:
		return "must be at most 2000 characters"
	}
	return ""
}

// DoorEvent is one real open or close of a unit's door, with how long the
// door then stayed in that state (nil: it still is).
type DoorEvent struct {
	ID              string     `json:"id"`
	UnitID          string     `json:"unit_id"`
	SensorID        *string    `json:"sensor_id"`
	State           string     `json:"state"` // open, closed
	At              time.Time  `json:"at"`
	EndedAt         *time.Time `json:"ended_at"`
	DurationSeconds *int64     `json:"duration_seconds"`
}
