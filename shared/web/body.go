package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/frostguard/functions/shared/apperr"
)

// ReadBody reads the whole request body, which the BodyLimit middleware has
// already capped. Webhooks use it: signatures are checked over these exact
// bytes.
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		if IsTooLarge(err) {
			return nil, apperr.New(apperr.TooLarge, "request body is too large")
		}
		return nil, apperr.Wrap(apperr.Invalid, err, "could not read the request body")
	}
	return b, nil
}

// DecodeJSON decodes a JSON request body into dst strictly: the content type
// must be JSON, unknown fields and trailing data are errors, and the error
// message says where the body went wrong.
func DecodeJSON(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return apperr.New(apperr.UnsupportedMedia, "the request body must be application/json")
		}
	}
	body, err := ReadBody(r)
	if err != nil {
		return err
	}
	return Unmarshal(body, dst)
}

// Unmarshal is DecodeJSON's parser over bytes already read.
func Unmarshal(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return apperr.Wrap(apperr.Invalid, err, "malformed JSON body: %s", describeJSONError(err))
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, "malformed JSON body: unexpected data after the JSON value")
	}
	return nil
}

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends in the middle of a value"
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax error at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be a %s", typ.Field, typ.Type)
	default:
		// json's unknown-field error text ("json: unknown field \"x\"") is
		// already clear and has no internals in it.
		return err.Error()
	}
}
