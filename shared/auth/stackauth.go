package auth

import (
	"context"

	"github.com/frostguard/functions/shared/config"
)

// NewStackAuthVerifier checks the project's Stack Auth tokens; the JWKS is
// fetched on first use, never at cold start.
func NewStackAuthVerifier(cfg config.Auth) (*Verifier, error) {
	return NewVerifier(context.Background(), VerifierOptions{
		JWKSURL: cfg.JWKS(), Issuer: cfg.ExpectedIssuer(), Audience: cfg.StackAuthProjectID,
	})
}
