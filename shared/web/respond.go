// Package web is the HTTP edge shared by every function: JSON responses, the
// error envelope, body limits and middleware. Handlers are plain
// http.Handlers so the same code serves Lambda and net/http.
package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/logging"
)

// JSON writes v as the response body with the given status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The status is already on the wire; all we can do is record it.
		slog.Warn("writing response body", "err", err)
	}
}

// ErrorBody is the JSON error envelope of every function:
// {"error": {"code", "message", "details", "request_id"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code      apperr.Code         `json:"code"`
	Message   string              `json:"message"`
	Details   []apperr.FieldError `json:"details,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
}

// OnServerError, when set (by shared/errreport at start-up), is called by
// Error for every status >= 500 before the response is written.
var OnServerError func(r *http.Request, status int, err error)

// Error writes err as the JSON error envelope. Internal errors are logged
// with their cause and answered with a generic message; the cause never
// reaches the caller.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.From(err)
	status := e.Code.HTTPStatus()
	ctx := r.Context()
	switch {
	case status >= 500:
		slog.ErrorContext(ctx, "request failed", "code", e.Code, "err", err)
		if OnServerError != nil {
			OnServerError(r, status, err)
		}
	case e.Cause != nil:
		slog.InfoContext(ctx, "request rejected", "code", e.Code, "err", err)
	}
	if e.Code == apperr.Unavailable {
		// Providers (Stripe, TTN, Telnyx) retry on 503; tell them when.
		w.Header().Set("Retry-After", "5")
	}
	JSON(w, status, ErrorBody{Error: ErrorDetail{
		Code:      e.Code,
		Message:   e.Message,
		Details:   e.Details,
		RequestID: logging.RequestID(ctx),
	}})
}

// HandlerFunc is an http.HandlerFunc that returns its error instead of
// writing it, so handlers read top to bottom and cannot forget a return.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		Error(w, r, err)
	}
}

// NotFound answers 404 in the JSON envelope (the default mux answers text).
func NotFound() http.Handler {
	return HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return apperr.New(apperr.NotFound, "no route for %s %s", r.Method, r.URL.Path)
	})
}

// IsTooLarge reports whether err comes from reading past a body limit.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
