package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"time"
)

// Contact verification: a one-time code sent to a contact's phone or
// address, entered back through the api.
const (
	VerificationTTL         = 15 * time.Minute
	VerificationMaxAttempts = 5
	// VerificationResendInterval is the least time between two codes of one
	// contact and channel.
	VerificationResendInterval = time.Minute
)

// NewVerificationCode is a uniformly random 6-digit code.
func NewVerificationCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// VerificationHash is what is stored of a code: SHA-256 of the
// verification's id and the code (the id makes equal codes differ).
func VerificationHash(id, code string) []byte {
	h := sha256.Sum256([]byte(id + ":" + code))
	return h[:]
}

// VerificationMessage renders the code's SMS or e-mail. The organisation's
// name is quoted and cut like in every message a customer's text reaches.
func VerificationMessage(orgName, code, channel string) (subject, body string) {
	body = fmt.Sprintf("FrostGuard: your verification code is %s. It confirms this %s for the alerts of %s. It expires in 15 minutes.",
		code, map[string]string{"sms": "number", "email": "address"}[channel], quoteName(orgName))
	if channel == "email" {
		subject = "Your FrostGuard verification code"
	}
	return subject, body
}
