package api

import (
	"net/http"
	"path"
	"strings"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

const orgsPrefix = "/api/v1/orgs/"

// EnforceSubscriptions wraps the api's router so that writes to an
// organisation whose subscription does not allow writes (domain.Entitlement:
// expired trial, canceled, paused, incomplete, past_due beyond its grace
// period) answer 402 SUBSCRIPTION_INACTIVE. Reads always pass: a lapsed
// customer keeps seeing its records.
//
// It never changes what a caller who may not write anyway is told: callers
// without a valid token, non-members and members whose role lacks the
// route's permission pass through to get the route's own 401, 404 (so a 402
// never reveals that an organisation exists) or 403. When next is the api's
// *http.ServeMux the route is looked up first, so unknown paths and methods
// get their 404/405 and exemptions are decided on the registered pattern,
// not on a raw path that the router would clean or redirect.
//
// Writes that stay open whatever the subscription (see writeExempt; a unit's
// silence is alarm handling too):
// billing (paying is how an organisation gets out of read-only), exports,
// acknowledging and resolving alerts (alarms keep firing and people must be
// able to handle them: food safety does not wait for a card), removing a
// member, revoking an invitation and rotating the TTN secret (offboarding and incident response
// must not be held hostage by an unpaid invoice).
func (s *Server) EnforceSubscriptions(next http.Handler) http.Handler {
	mux, _ := next.(*http.ServeMux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = withCaller(r)
		if !isWrite(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		routePath := path.Clean(r.URL.Path)
		var perm access.Permission
		if mux != nil {
			_, pattern := mux.Handler(r)
			p, known := s.routes[pattern]
			if !known {
				next.ServeHTTP(w, r) // 404, 405 or a redirect: nothing is written
				return
			}
			perm = p
			if _, pp, ok := strings.Cut(pattern, " "); ok {
				routePath = pp
			}
		}
		orgID, ok := orgScoped(path.Clean(r.URL.Path))
		if !ok || !strings.HasPrefix(routePath, orgsPrefix) || writeExempt(r.Method, routePath) {
			next.ServeHTTP(w, r)
			return
		}
		if err := s.checkWritable(r, orgID, perm); err != nil {
			web.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkWritable answers nil when the request may go on to its route: the
// caller is not (yet) known to be a member allowed to do perm, or the
// organisation's subscription allows writes.
func (s *Server) checkWritable(r *http.Request, orgID string, perm access.Permission) error {
	// authenticate is the route's own (EnsureUser included): the caller is
	// resolved once per request.
	c, err := s.authenticate(r)
	if err != nil {
		return nil // the route answers its own 401 (or 503)
	}
	e, member, err := s.DB.MemberEntitlement(r.Context(), orgID, c.UserID)
	if err != nil {
		return err // database down: fail closed, the route could not write either
	}
	if !member || (perm != "" && !access.Can(e.Role, perm)) {
		return nil // the route answers 404 or 403
	}
	if e.SuspendedReason != nil {
		// Suspended by the service's operators (platform admin): the same
		// writes stay open as for a lapsed subscription (alarm handling,
		// billing, exports, offboarding).
		return apperr.New(apperr.Forbidden, "the organization is suspended by FrostGuard (%s): it is read-only until it is "+
			"reactivated; alarms keep paging and can still be acknowledged and resolved", *e.SuspendedReason)
	}
	canWrite, flag := domain.Entitlement(e.Status, e.TrialEndsAt, e.CurrentPeriodEnd, s.Now())
	if canWrite {
		return nil
	}
	if flag == domain.FlagTrialExpired {
		return apperr.New(apperr.SubscriptionInactive,
			"the trial has ended: the organization is read-only until a plan is chosen in billing")
	}
	return apperr.New(apperr.SubscriptionInactive,
		"the subscription is not active (%s): the organization is read-only until billing is resolved", e.Status)
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// orgScoped returns the (lower-cased) org id of /api/v1/orgs/{orgId}/...
// ok is false for paths outside an organisation (POST
// /api/v1/orgs creates one and is never enforced) and for malformed ids,
// which the route answers 404.
func orgScoped(p string) (orgID string, ok bool) {
	tail, found := strings.CutPrefix(p, orgsPrefix)
	if !found {
		return "", false
	}
	orgID, _, _ = strings.Cut(tail, "/")
	if !domain.IsUUID(orgID) {
		return "", false
	}
	return strings.ToLower(orgID), true
}

// writeExempt reports whether a write stays open to an organisation without
// an active subscription. routePath is a registered pattern's path
// (/api/v1/orgs/{orgId}/alerts/{alertId}/acknowledge) or a cleaned request
// path: only literal segments are compared.
func writeExempt(method, routePath string) bool {
	tail := strings.TrimPrefix(routePath, orgsPrefix)
	_, rest, _ := strings.Cut(tail, "/")
	segs := strings.Split(rest, "/")
	for _, s := range segs {
		if strings.HasPrefix(s, "export") {
			return true
		}
	}
	switch {
	case segs[0] == "billing", segs[0] == "deletion":
		// Paying, and leaving, stay open.
		return true
	case len(segs) == 3 && segs[0] == "alerts" && (segs[2] == "acknowledge" || segs[2] == "resolve"):
		return method == http.MethodPost
	case len(segs) == 3 && segs[0] == "units" && segs[2] == "silence":
		// Silencing alarms is handling them: it stays open.
		return method == http.MethodPost || method == http.MethodDelete
	case len(segs) == 2 && (segs[0] == "members" || segs[0] == "invitations"):
		return method == http.MethodDelete
	case len(segs) == 2 && segs[0] == "ttn-connection" && segs[1] == "rotate-secret":
		return method == http.MethodPost
	case len(segs) == 2 && segs[0] == "network-connections":
		// Revoking a network's access (a leaked secret) stays open; creating or rotating
		// one is a write like any other.
		return method == http.MethodDelete
	}
	return false
}
