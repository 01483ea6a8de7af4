package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// hierOpt is a body field of a create or PATCH request that tells "absent"
// (leave as is / default) from null (clear) from a value.
type hierOpt[T any] struct {
	Set  bool // the field was in the body
	Null bool // ... as null
	V    T
}

// UnmarshalJSON is only called when the field is present (null included).
func (o *hierOpt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// value reports whether o carries a non-null value, recording an error
// when it is null: for fields that cannot be cleared.
func (o hierOpt[T]) value(fe *[]apperr.FieldError, field string) bool {
	if o.Set && o.Null {
		*fe = append(*fe, apperr.FieldError{Field: field, Message: "must not be null"})
		return false
	}
	return o.Set
}

const (
	hierMaxName = 200
	hierMaxText = 2000
	// sort_order is an integer column: keep it far inside its range.
	hierMaxSortOrder = 1_000_000
)

// hierName applies a required name: trimmed, not empty, not too long.
// required says that an absent field is an error (create).
func hierName(fe *[]apperr.FieldError, o hierOpt[string], required bool, dst *string) {
	if !o.Set {
		if required {
			*fe = append(*fe, apperr.FieldError{Field: "name", Message: "is required"})
		}
		return
	}
	if !o.value(fe, "name") {
		return
	}
	v := strings.TrimSpace(o.V)
	switch {
	case v == "":
		*fe = append(*fe, apperr.FieldError{Field: "name", Message: "must not be empty"})
	case utf8.RuneCountInString(v) > hierMaxName:
		*fe = append(*fe, apperr.FieldError{Field: "name", Message: "must be at most 200 characters"})
	default:
		*dst = v
	}
}

// hierText applies an optional text field: trimmed, and null or "" clear it.
func hierText(fe *[]apperr.FieldError, field string, o hierOpt[string], max int, dst **string) {
	if !o.Set {
		return
	}
	v := strings.TrimSpace(o.V)
	switch {
	case o.Null || v == "":
		*dst = nil
	case utf8.RuneCountInString(v) > max:
		*fe = append(*fe, apperr.FieldError{Field: field, Message: "must be at most " + strconv.Itoa(max) + " characters"})
	default:
		*dst = &v
	}
}

// hierSortOrder applies sort_order (not nullable).
func hierSortOrder(fe *[]apperr.FieldError, o hierOpt[int], dst *int) {
	if !o.value(fe, "sort_order") {
		return
	}
	if o.V < -hierMaxSortOrder || o.V > hierMaxSortOrder {
		*fe = append(*fe, apperr.FieldError{Field: "sort_order", Message: "must be between -1000000 and 1000000"})
		return
	}
	*dst = o.V
}

// hierParentID applies a parent id from the body (site_id, area_id): a UUID,
// not nullable; required on create.
func hierParentID(fe *[]apperr.FieldError, field string, o hierOpt[string], required bool, dst *string) {
	if !o.Set {
		if required {
			*fe = append(*fe, apperr.FieldError{Field: field, Message: "is required"})
		}
		return
	}
	if !o.value(fe, field) {
		return
	}
	if !domain.IsUUID(o.V) {
		*fe = append(*fe, apperr.FieldError{Field: field, Message: "must be a UUID"})
		return
	}
	*dst = strings.ToLower(o.V)
}

// hierValidation turns collected field errors into the 400 (nil if none).
func hierValidation(fe []apperr.FieldError) error {
	if len(fe) == 0 {
		return nil
	}
	return apperr.Validation(fe...)
}

// hierList reads what every hierarchy list accepts: limit and cursor,
// updated_since and include_deleted.
func hierList(r *http.Request) (store.HierarchyFilter, Page, error) {
	var f store.HierarchyFilter
	p, err := PageFrom(r)
	if err != nil {
		return f, p, err
	}
	if f.UpdatedSince, err = QueryTime(r, "updated_since"); err != nil {
		return f, p, err
	}
	if v := r.URL.Query().Get("include_deleted"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, p, apperr.Validation(apperr.FieldError{Field: "include_deleted", Message: "must be true or false"})
		}
		f.IncludeDeleted = b
	}
	f.AfterCreated, f.AfterID = p.After.Time, p.After.ID
	// One more than the page: NewList uses it to know a next page exists.
	f.Limit = p.Limit + 1
	return f, p, nil
}

// hierCreated answers 201 with the new resource and its address.
func hierCreated(w http.ResponseWriter, r *http.Request, id string, v any) {
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+id)
	web.JSON(w, http.StatusCreated, v)
}
