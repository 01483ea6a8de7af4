// Package apperr is the one error type of FrostGuard. Every layer returns an
// *Error (or wraps one) so that the HTTP edge can map it to a status code and
// the JSON error shape without knowing where it came from.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Code classifies an error. Codes are part of the public API contract: the
// frontend switches on them, so never rename one.
type Code string

const (
	Invalid          Code = "INVALID_ARGUMENT" // malformed or failed validation (400)
	Unauthenticated  Code = "UNAUTHENTICATED"  // missing/bad credentials or signature (401)
	PaymentRequired  Code = "PAYMENT_REQUIRED" // the plan does not allow this write (402)
	Forbidden        Code = "FORBIDDEN"        // authenticated but not allowed (403)
	SensorLimit      Code = "SENSOR_LIMIT_REACHED"
	NotFound         Code = "NOT_FOUND"          // also used for other tenants' ids (404)
	MethodNotAllowed Code = "METHOD_NOT_ALLOWED" // (405)
	Conflict         Code = "CONFLICT"           // uniqueness or state conflict (409)
	TooLarge         Code = "PAYLOAD_TOO_LARGE"  // body over the limit (413)
	UnsupportedMedia Code = "UNSUPPORTED_MEDIA_TYPE"
	RateLimited      Code = "RATE_LIMITED"    // (429)
	Internal         Code = "INTERNAL"        // a bug; details are never shown (500)
	BadGateway       Code = "UPSTREAM_FAILED" // a provider failed (502)
	Unavailable      Code = "UNAVAILABLE"     // retryable: database down, not configured (503)
)

var statusByCode = map[Code]int{
	Invalid:          http.StatusBadRequest,
	Unauthenticated:  http.StatusUnauthorized,
	PaymentRequired:  http.StatusPaymentRequired,
	Forbidden:        http.StatusForbidden,
	SensorLimit:      http.StatusForbidden,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	Conflict:         http.StatusConflict,
	TooLarge:         http.StatusRequestEntityTooLarge,
	UnsupportedMedia: http.StatusUnsupportedMediaType,
	RateLimited:      http.StatusTooManyRequests,
	Internal:         http.StatusInternalServerError,
	BadGateway:       http.StatusBadGateway,
	Unavailable:      http.StatusServiceUnavailable,
}

// HTTPStatus is the status code an error of this code answers with.
func (c Code) HTTPStatus() int {
	if s, ok := statusByCode[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// FieldError names one invalid input field, so forms can show the message
// next to the field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the application error. Message is safe to show to the caller;
// Cause is for logs only.
type Error struct {
	Code    Code
	Message string
	Details []FieldError
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// New builds an error with a caller-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a cause that is logged but never shown to the caller.
func Wrap(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// Validation builds an Invalid error carrying field-level details.
func Validation(details ...FieldError) *Error {
	return &Error{Code: Invalid, Message: "the request has invalid fields", Details: details}
}

// From returns the *Error inside err, or an Internal error wrapping err.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error", Cause: err}
}

// CodeOf is the code of err ("" for nil).
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return From(err).Code
}
