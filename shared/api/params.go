package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/orgroute"
)

// PathID returns the {name} path segment, which must be a UUID. A malformed
// id answers 404 like an unknown one: it names nothing that exists.
func PathID(r *http.Request, name string) (string, error) { return orgroute.PathID(r, name) }

// QueryUUID returns an optional UUID query parameter.
func QueryUUID(r *http.Request, name string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", nil
	}
	if !domain.IsUUID(v) {
		return "", apperr.Validation(apperr.FieldError{Field: name, Message: "must be a UUID"})
	}
	return strings.ToLower(v), nil
}

// QueryTime returns an optional RFC 3339 query parameter.
func QueryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, apperr.Validation(apperr.FieldError{Field: name, Message: "must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z"})
	}
	return t.UTC(), nil
}

// QueryEnum returns an optional query parameter restricted to allowed.
func QueryEnum(r *http.Request, name string, allowed ...string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", apperr.Validation(apperr.FieldError{Field: name, Message: "must be one of " + strings.Join(allowed, ", ")})
}

// QueryEnums returns an optional comma-separated list of values restricted
// to allowed (status=active,acknowledged), without repeats.
func QueryEnums(r *http.Request, name string, allowed ...string) ([]string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	var out []string
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if !slices.Contains(allowed, item) {
			return nil, apperr.Validation(apperr.FieldError{Field: name, Message: "must be one or more (comma-separated) of " + strings.Join(allowed, ", ")})
		}
		if !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out, nil
}

// Page is a page request: its limit and the decoded cursor of the previous
// page's last item (zero for the first page).
type Page struct {
	Limit int
	After Cursor
}

// Cursor marks a position in a list ordered by (Time, ID), newest or oldest
// first depending on the list. It is opaque to clients.
type Cursor struct {
	Time time.Time `json:"t"`
	ID   string    `json:"id"`
}

// IsZero reports whether the cursor is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == "" }

// Encode returns the opaque form ("" for the zero cursor).
func (c Cursor) Encode() string {
	if c.IsZero() {
		return ""
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

const (
	defaultLimit = 50
	maxLimit     = 200
)

// PageFrom reads `limit` (1..200, default 50) and `cursor`.
func PageFrom(r *http.Request) (Page, error) {
	p := Page{Limit: defaultLimit}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return p, apperr.Validation(apperr.FieldError{Field: "limit", Message: "must be an integer from 1 to 200"})
		}
		p.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || json.Unmarshal(b, &p.After) != nil || !domain.IsUUID(p.After.ID) {
			return p, apperr.Validation(apperr.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
	}
	return p, nil
}

// List is the shape of every list response.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// NewList builds a list response from up to limit+1 fetched items: the
// extra item only says that a next page exists. cursorOf gives an item's
// position.
func NewList[T any](items []T, limit int, cursorOf func(T) Cursor) List[T] {
	l := List[T]{Items: items}
	if l.Items == nil {
		l.Items = []T{}
	}
	if len(items) > limit {
		l.Items = items[:limit]
		l.NextCursor = cursorOf(items[limit-1]).Encode()
	}
	return l
}

func forbidden(p access.Permission) error { return orgroute.Forbidden(p) }

// idFilter is an id query parameter of a list and the entity types it may
// name.
type idFilter struct {
	name     string
	id       string
	entities []string
}

// checkFilters answers 404 for an id filter that names no row of the
// organisation, exactly like a foreign id in a path: a list filtered by
// another organisation's unit is not an empty list. Run it after the
// filters' syntax was validated (so every malformed filter is reported at
// once), before the list.
func (s *Server) checkFilters(ctx context.Context, orgID string, filters ...idFilter) error {
	for _, f := range filters {
		if f.id == "" {
			continue
		}
		ok, err := s.DB.InOrganization(ctx, orgID, f.id, f.entities...)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.NotFound, "%s not found", strings.ReplaceAll(strings.TrimSuffix(f.name, "_id"), "_", " "))
		}
	}
	return nil
}
