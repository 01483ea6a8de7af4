package notify

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Telnyx webhook signing (API v2): every delivery carries
//
//	telnyx-signature-ed25519: base64 of a 64-byte Ed25519 signature
//	telnyx-timestamp:         unix seconds at which Telnyx signed it
//
// over the bytes "<telnyx-timestamp>|<raw body>", made with the account's key
// (its public half is TELNYX_PUBLIC_KEY, base64, from the Telnyx portal).
const (
	TelnyxSignatureHeader = "telnyx-signature-ed25519"
	TelnyxTimestampHeader = "telnyx-timestamp"
	// TelnyxTolerance bounds the clock difference between the signing time
	// and ours, in both directions: an older delivery is a replay, a newer
	// one a forgery or a broken clock.
	TelnyxTolerance = 300 * time.Second
)

// Errors of VerifyTelnyx, for logs (the caller answers 401 to all of them).
var (
	ErrTelnyxMissingSignature = errors.New("telnyx: missing " + TelnyxSignatureHeader + " header")
	ErrTelnyxMissingTimestamp = errors.New("telnyx: missing " + TelnyxTimestampHeader + " header")
	ErrTelnyxBadTimestamp     = errors.New("telnyx: timestamp is not unix seconds")
	ErrTelnyxStaleTimestamp   = errors.New("telnyx: timestamp outside the tolerance")
	ErrTelnyxBadEncoding      = errors.New("telnyx: signature is not base64 of 64 bytes")
	ErrTelnyxBadSignature     = errors.New("telnyx: signature does not match")
	ErrTelnyxBadPublicKey     = errors.New("telnyx: public key is not a 32-byte Ed25519 key")
)

// VerifyTelnyx checks telnyx-signature-ed25519 (base64 signature) over
// "<telnyx-timestamp>|<raw body>" with the public key, and that the timestamp
// (unix seconds) is within tolerance of now, both directions. The timestamp is
// used exactly as received: it is part of the signed bytes.
func VerifyTelnyx(publicKey ed25519.PublicKey, signatureB64, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	// ed25519.Verify panics on a key of the wrong size; a misconfigured key
	// must be an error, never a crash of every request.
	if len(publicKey) != ed25519.PublicKeySize {
		return ErrTelnyxBadPublicKey
	}
	if signatureB64 == "" {
		return ErrTelnyxMissingSignature
	}
	if timestamp == "" {
		return ErrTelnyxMissingTimestamp
	}
	// Digits only: ParseInt would also take "+123", which would then be
	// signed differently from what a strict signer means.
	if len(timestamp) > 19 || strings.TrimLeft(timestamp, "0123456789") != "" {
		return ErrTelnyxBadTimestamp
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrTelnyxBadTimestamp
	}
	// Compare in seconds so that huge timestamps cannot overflow a Duration.
	if d := now.Unix() - secs; d > int64(tolerance/time.Second) || -d > int64(tolerance/time.Second) {
		return fmt.Errorf("%w: signed at %d, now %d", ErrTelnyxStaleTimestamp, secs, now.Unix())
	}
	sig, err := base64.StdEncoding.DecodeString(signatureB64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return ErrTelnyxBadEncoding
	}
	msg := make([]byte, 0, len(timestamp)+1+len(body))
	msg = append(msg, timestamp...)
	msg = append(msg, '|')
	msg = append(msg, body...)
	if !ed25519.Verify(publicKey, msg, sig) {
		return ErrTelnyxBadSignature
	}
	return nil
}

// ParseTelnyxPublicKey decodes TELNYX_PUBLIC_KEY (base64 of the 32-byte key).
func ParseTelnyxPublicKey(b64 string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, ErrTelnyxBadPublicKey
	}
	return ed25519.PublicKey(b), nil
}
