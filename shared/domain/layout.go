package domain

import (
	"encoding/json"
	"time"
)

// DashboardLayout is a user's saved widget layout of one screen: the
// organisation's dashboard, a site's or a unit's. The JSON documents belong
// to the SPA: FrostGuard checks their size and shape and never reads them.
type DashboardLayout struct {
	ID                string          `json:"id"`
	EntityType        string          `json:"entity_type"` // organization, site, unit
	EntityID          string          `json:"entity_id"`
	Slot              int             `json:"slot"`
	Name              string          `json:"name"`
	IsDefault         bool            `json:"is_default"`
	Layout            json.RawMessage `json:"layout"`
	WidgetPreferences json.RawMessage `json:"widget_preferences"`
	TimelineState     json.RawMessage `json:"timeline_state"`
	LayoutVersion     int             `json:"layout_version"`
	CreatedAt         time.Time       `json:"created_at"`
	UpdatedAt         time.Time       `json:"updated_at"`
}

// Layout entity types: the screens a layout may belong to.
const (
	LayoutOrganization = "organization"
	LayoutSite         = "site"
	LayoutUnit         = "unit"
)

// LayoutEntityTypes lists them.
var LayoutEntityTypes = []string{LayoutOrganization, LayoutSite, LayoutUnit}

// Layout limits: slots per screen, the size of each document and how deep
// it nests (a layout is a grid of widgets, not an archive).
const (
	MaxLayoutSlots    = 3
	MaxLayoutDocBytes = 64 << 10
	MaxLayoutDepth    = 16
)

// CheckLayoutDocument says what is wrong with one of a layout's JSON
// documents ("" when nothing is): valid JSON of one of the kinds allowed
// (object, array), at most MaxLayoutDocBytes, nested at most MaxLayoutDepth.
func CheckLayoutDocument(doc json.RawMessage, arrays bool) string {
	if len(doc) > MaxLayoutDocBytes {
		return "must be at most 64 KiB of JSON"
	}
	if !json.Valid(doc) {
		return "must be JSON"
	}
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range doc {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	if deepest > MaxLayoutDepth {
		return "must not nest deeper than 16 levels"
	}
	first := firstByte(doc)
	if first == '{' || (arrays && first == '[') {
		return ""
	}
	if arrays {
		return "must be a JSON object or array"
	}
	return "must be a JSON object"
}

func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}
