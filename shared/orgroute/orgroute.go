// Package orgroute decides who a request is: the signed-in caller (a
// verified Stack Auth token and the user it maps to) and, on an
// organisation's routes ({orgId} in the pattern), the caller's active
// membership of that organisation and whether its role allows the route's
// permission (shared/access). Every function that serves org-scoped routes
// (api, stripe-checkout) guards them through Guard, so none can
// authenticate or check membership differently.
package orgroute

import (
	"context"
	"net/http"
	"strings"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// TokenVerifier checks an access token (auth.Verifier in production).
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (auth.Claims, error)
}

// Caller is the authenticated user of a request.
type Caller struct {
	UserID  string
	Subject string // the Stack Auth user id (JWT sub)
	Email   string
	// EmailVerified is the token's email_verified: only a verified address
	// sees, accepts or declines the invitations sent to it.
	EmailVerified bool
	Name          string
}

// Member is a caller acting inside one organisation.
type Member struct {
	Caller
	OrgID string
	Role  access.Role
}

// Can reports whether the member may do p.
func (m Member) Can(p access.Permission) bool { return access.Can(m.Role, p) }

// UserHandler handles a route that needs a signed-in user only.
type UserHandler func(w http.ResponseWriter, r *http.Request, c Caller) error

// OrgHandler handles an org-scoped route ({orgId} in the pattern).
type OrgHandler func(w http.ResponseWriter, r *http.Request, m Member) error

// Guard authenticates requests against the users and memberships in DB.
type Guard struct {
	DB       *store.DB
	Verifier TokenVerifier
}

// Open builds a Guard from the settings every function that serves
// signed-in users shares (api, reports, stripe-checkout): the database pool
// and the Stack Auth verifier. It opens no connection.
func Open(c config.Common, a config.Auth) (Guard, error) {
	db, err := store.Open(c.DatabaseURL, c.DBMaxConns)
	if err != nil {
		return Guard{}, err
	}
	verifier, err := auth.NewStackAuthVerifier(a)
	if err != nil {
		return Guard{}, err
	}
	return Guard{DB: db, Verifier: verifier}, nil
}

// User answers 401 to a request without a valid token, else runs h.
func (g Guard) User(h UserHandler) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := g.Caller(r)
		if err != nil {
			return err
		}
		return h(w, r, c)
	}
}

// Org answers 401 to a request without a valid token, 404 when the caller
// is not an active member of {orgId} (a foreign organisation and one that
// does not exist look the same) and 403 when the member's role does not
// allow perm; else it runs h.
func (g Guard) Org(perm access.Permission, h OrgHandler) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := g.Caller(r)
		if err != nil {
			return err
		}
		orgID, err := PathID(r, "orgId")
		if err != nil {
			return err
		}
		role, err := g.DB.RoleIn(r.Context(), orgID, c.UserID)
		if err != nil {
			return err
		}
		m := Member{Caller: c, OrgID: orgID, Role: role}
		if !m.Can(perm) {
			return Forbidden(perm)
		}
		return h(w, r, m)
	}
}

// Caller verifies the request's token and finds (or creates) its user. The
// audit trail, subscription enforcement and the route itself all need the
// caller: when WithCaller installed a memo (the api's outermost layer
// does), the token is verified and the user looked up once per request,
// not once per layer.
func (g Guard) Caller(r *http.Request) (Caller, error) {
	memo, _ := r.Context().Value(callerMemoKey{}).(*callerMemo)
	if memo != nil && memo.done {
		return memo.caller, memo.err
	}
	c, err := g.resolveCaller(r)
	if memo != nil {
		memo.caller, memo.err, memo.done = c, err, true
	}
	return c, err
}

func (g Guard) resolveCaller(r *http.Request) (Caller, error) {
	tok := auth.TokenFromRequest(r)
	if tok == "" {
		return Caller{}, auth.ErrUnauthenticated
	}
	claims, err := g.Verifier.Verify(r.Context(), tok)
	if err != nil {
		return Caller{}, err
	}
	u, err := g.DB.EnsureUser(r.Context(), claims.Subject, claims.Email, claims.Name)
	if err != nil {
		return Caller{}, err
	}
	return Caller{UserID: u.ID, Subject: claims.Subject, Email: u.Email, EmailVerified: claims.EmailVerified && claims.Email != "",
		Name: u.DisplayName}, nil
}

type callerMemoKey struct{}

// callerMemo holds one request's authentication result.
type callerMemo struct {
	done   bool
	caller Caller
	err    error
}

// WithCaller gives the request a memo for Guard.Caller, once.
func WithCaller(r *http.Request) *http.Request {
	if _, ok := r.Context().Value(callerMemoKey{}).(*callerMemo); ok {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), callerMemoKey{}, &callerMemo{}))
}

// PathID returns a UUID path parameter, lower-cased. Anything else answers
// 404 "<name> not found", exactly like an id of another organisation.
func PathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if !domain.IsUUID(id) {
		return "", apperr.New(apperr.NotFound, "%s not found", strings.TrimSuffix(name, "Id"))
	}
	return strings.ToLower(id), nil
}

// Forbidden is the 403 of a member whose role does not allow p.
func Forbidden(p access.Permission) error {
	return apperr.New(apperr.Forbidden, "your role does not allow this (%s)", p)
}
