package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/tracing"
)

// allowedAlgorithms are the only signature algorithms a token may use:
// asymmetric ones. "none" and HS* (which an attacker could compute with the
// public key as the HMAC secret) are never accepted.
var allowedAlgorithms = map[jwa.SignatureAlgorithm]bool{
	jwa.ES256: true, jwa.ES384: true, jwa.ES512: true,
	jwa.RS256: true, jwa.RS384: true, jwa.RS512: true,
	jwa.PS256: true, jwa.PS384: true, jwa.PS512: true,
	jwa.EdDSA: true,
}

// Leeway tolerates clock skew on exp and nbf.
const Leeway = 30 * time.Second

// unknownKidRefetch is the minimum time between two JWKS fetches caused by
// tokens with an unknown kid, so that garbage tokens cannot make us hammer
// Stack Auth (or be slowed by it).
const unknownKidRefetch = 30 * time.Second

// ErrUnauthenticated is the one answer to every verification failure: the
// caller learns nothing that helps forge a better token.
var ErrUnauthenticated = apperr.New(apperr.Unauthenticated, "a valid access token is required")

// Verifier checks Stack Auth access tokens against the project's JWKS.
type Verifier struct {
	jwksURL  string
	issuer   string
	audience string
	cache    *jwk.Cache
	now      func() time.Time

	mu          sync.Mutex
	lastRefetch time.Time
}

// VerifierOptions configure NewVerifier.
type VerifierOptions struct {
	JWKSURL  string
	Issuer   string
	Audience string
	// HTTPClient fetches the JWKS (default: 5 s timeout).
	HTTPClient *http.Client
	// Now overrides the clock (tests).
	Now func() time.Time
}

// NewVerifier registers the JWKS URL with jwx's cache. Nothing is fetched
// until the first token arrives, so cold starts open no connection.
func NewVerifier(ctx context.Context, o VerifierOptions) (*Verifier, error) {
	client := o.HTTPClient
	if client == nil {
		client = tracing.Client(5 * time.Second)
	}
	cache := jwk.NewCache(ctx)
	if err := cache.Register(o.JWKSURL, jwk.WithHTTPClient(client), jwk.WithMinRefreshInterval(15*time.Minute)); err != nil {
		return nil, fmt.Errorf("registering the JWKS URL: %w", err)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Verifier{jwksURL: o.JWKSURL, issuer: o.Issuer, audience: o.Audience, cache: cache, now: now}, nil
}

// Claims is what a verified token says about its user.
type Claims struct {
	Subject string
	Email   string
	// EmailVerified is Stack Auth's email_verified claim: whether the user
	// proved they receive mail at Email. Invitations are claimed only with
	// a verified address.
	EmailVerified bool
	Name          string
	// ExpiresAt is the token's exp: the live channel keeps a connection
	// no longer than its token.
	ExpiresAt time.Time
}

// Verify checks the token's signature, algorithm, issuer, audience, expiry
// and not-before, and refuses anonymous users and subjects that are not a
// UUID. Every failure is
// ErrUnauthenticated (the cause is kept for logs), except a JWKS that cannot
// be fetched, which is Unavailable: the client should retry, not log out.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	var fetchErr error
	provider := jws.KeyProviderFunc(func(ctx context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
		alg := sig.ProtectedHeaders().Algorithm()
		if !allowedAlgorithms[alg] {
			return fmt.Errorf("algorithm %q is not allowed", alg)
		}
		kid := sig.ProtectedHeaders().KeyID()
		if kid == "" {
			return errors.New("the token has no kid")
		}
		key, err := v.lookup(ctx, kid)
		if err != nil {
			fetchErr = err
			return err
		}
		if key == nil {
			return fmt.Errorf("unknown kid %q", kid)
		}
		sink.Key(alg, key)
		return nil
	})
	tok, err := jwt.ParseString(token,
		jwt.WithKeyProvider(provider),
		jwt.WithValidate(true),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
		jwt.WithAcceptableSkew(Leeway),
		jwt.WithClock(jwt.ClockFunc(v.now)),
		jwt.WithRequiredClaim(jwt.SubjectKey),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
	)
	if fetchErr != nil {
		return Claims{}, apperr.Wrap(apperr.Unavailable, fetchErr, "the identity provider is unavailable, retry later")
	}
	if err != nil {
		return Claims{}, wrapUnauthenticated(err)
	}
	if anon, _ := tok.Get("is_anonymous"); anon == true {
		return Claims{}, wrapUnauthenticated(errors.New("anonymous users are not accepted"))
	}
	// The subject names the user (users.subject): an empty one would make
	// every such token one shared user, and Stack Auth's user ids are UUIDs,
	// so anything else is not a token of theirs.
	if !domain.IsUUID(tok.Subject()) {
		return Claims{}, wrapUnauthenticated(errors.New("the subject is not a Stack Auth user id"))
	}
	c := Claims{Subject: tok.Subject(), ExpiresAt: tok.Expiration()}
	if s, ok := stringClaim(tok, "email"); ok {
		c.Email = s
	}
	if s, ok := stringClaim(tok, "name"); ok {
		c.Name = s
	}
	if v, ok := tok.Get("email_verified"); ok && v == true {
		c.EmailVerified = true
	}
	return c, nil
}

func stringClaim(tok jwt.Token, name string) (string, bool) {
	v, ok := tok.Get(name)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

func wrapUnauthenticated(cause error) error {
	return &apperr.Error{Code: ErrUnauthenticated.Code, Message: ErrUnauthenticated.Message, Cause: cause}
}

// lookup finds kid in the cached JWKS, refetching at most once per
// unknownKidRefetch when the kid is unknown (Stack Auth rotated its keys).
// It returns (nil, nil) for a kid that is still unknown.
func (v *Verifier) lookup(ctx context.Context, kid string) (jwk.Key, error) {
	set, err := v.cache.Get(ctx, v.jwksURL)
	if err != nil {
		return nil, err
	}
	if key, ok := set.LookupKeyID(kid); ok {
		return key, nil
	}
	v.mu.Lock()
	if v.now().Sub(v.lastRefetch) < unknownKidRefetch {
		v.mu.Unlock()
		return nil, nil
	}
	v.lastRefetch = v.now()
	v.mu.Unlock()
	set, err = v.cache.Refresh(ctx, v.jwksURL)
	if err != nil {
		return nil, err
	}
	key, _ := set.LookupKeyID(kid)
	return key, nil
}

// TokenFromRequest returns the access token from `Authorization: Bearer`
// or Stack Auth's `x-stack-access-token` header.
func TokenFromRequest(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("X-Stack-Access-Token"))
}
