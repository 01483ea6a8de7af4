// Package api is the `api` function: the REST API the React frontend calls
// under /api/v1. Every route authenticates the caller; every org-scoped
// route checks membership (404 for other tenants) and the permission matrix
// of shared/access (403) before its handler runs, and every query filters
// by the organisation id.
package api

import (
	"net/http"
	"sort"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/cache"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/orgroute"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// TokenVerifier checks an access token (auth.Verifier in production).
type TokenVerifier = orgroute.TokenVerifier

// Server holds the api's dependencies.
type Server struct {
	DB       *store.DB
	Verifier TokenVerifier
	// Now is the clock (tests move it).
	Now func() time.Time
	// Files is the private assets bucket (uploads, generated reports); nil
	// when file storage is not configured (its routes answer 503).
	Files *objects.Bucket
	// Cache is Redis (nil: no cache; every feature still works).
	Cache *cache.Cache
	// SiteContext configures the weather and geocoding proxies.
	SiteContext config.SiteContext
	// HTTP is the client for third parties (weather, geocoding).
	HTTP *http.Client
	TTN  TTNManagement // The Things Stack management (no key: its routes answer 503)
	// FrontendURL is the SPA's origin: the links in invitation e-mails, and
	// where alarm messages send people to acknowledge (an alarm confirmed by
	// manual logs pages like a sensor's).
	FrontendURL string
	// Live publishes the live events of what a request changed, after its
	// commit (shared/realtime; nil: nothing is published).
	Live realtime.Publisher
	// PlatformAdmins are the subjects (JWT sub) of the service's operators
	// (config.API.PlatformAdminSubjects).
	PlatformAdmins []string

	// routes maps each registered pattern to the permission it requires
	// ("" for routes open to any signed-in user): the OpenAPI document and
	// the access sweeps are tested against it.
	routes map[string]access.Permission
}

// New returns a Server.
func New(db *store.DB, v TokenVerifier) *Server {
	return &Server{DB: db, Verifier: v, Now: time.Now, routes: map[string]access.Permission{},
		HTTP: &http.Client{Timeout: 5 * time.Second}}
}

// Open configures a Server from the settings every function that serves
// signed-in users shares (api, reports): orgroute.Open. It opens no
// connection.
func Open(c config.Common, a config.Auth) (*Server, error) {
	g, err := orgroute.Open(c, a)
	if err != nil {
		return nil, err
	}
	return New(g.DB, g.Verifier), nil
}

// Register adds every route of the api function to mux. The HACCP report
// routes are the reports function's (RegisterReports): the api binary
// then carries no PDF library.
func (s *Server) Register(mux *http.ServeMux) {
	s.serveOpenAPI(mux)
	s.registerMe(mux)
	s.registerOrganizations(mux)
	s.registerMembers(mux)
	s.registerInvitations(mux)
	s.registerSites(mux)
	s.registerAreas(mux)
	s.registerUnits(mux)
	s.registerAlertRules(mux)
	s.registerEffectivePolicies(mux)
	s.registerPlatform(mux)
	s.registerSensors(mux)
	s.registerReadings(mux)
	s.registerAlerts(mux)
	s.registerDashboard(mux)
	s.registerNotifications(mux)
	s.registerSenderHealth(mux)
	s.registerBilling(mux)
	s.registerContacts(mux)
	s.registerSensorModels(mux)
	s.registerSensorCatalog(mux)
	s.registerSilences(mux)
	s.registerPolicies(mux)
	s.registerOptOuts(mux)
	s.registerManualLogs(mux)
	s.registerAssets(mux)
	s.registerAuditLog(mux)
	s.registerSiteContext(mux)
	s.registerTTNManagement(mux)
	s.registerNetworkConnections(mux)
	s.registerOffboarding(mux)
	s.registerInspectorLinks(mux)
	s.registerLiveScreens(mux)
}

// registerLiveScreens adds what the SPA's dashboard, site and unit screens
// ask for beside the lists above (issue 19).
func (s *Server) registerLiveScreens(mux *http.ServeMux) {
	s.registerProfile(mux)
	s.registerStats(mux)
	s.registerUnitHistory(mux)
	s.registerLayouts(mux)
	s.registerDeviceEdits(mux)
	s.registerPurge(mux)
}

// Routes lists the registered patterns ("METHOD /path"), sorted.
func (s *Server) Routes() []string {
	out := make([]string, 0, len(s.routes))
	for p := range s.routes {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// RoutePermission is the permission a registered pattern requires ("" for
// any signed-in user, PublicRoute for none) and whether it is registered.
func (s *Server) RoutePermission(pattern string) (access.Permission, bool) {
	p, ok := s.routes[pattern]
	return p, ok
}

// The caller of a request and their membership are shared/orgroute's: the
// api and the other functions that serve org-scoped routes guard them alike.
type (
	Caller      = orgroute.Caller
	Member      = orgroute.Member
	UserHandler = orgroute.UserHandler
	OrgHandler  = orgroute.OrgHandler
)

// guard authenticates with the server's current DB and Verifier (tests
// replace the Verifier after New).
func (s *Server) guard() orgroute.Guard { return orgroute.Guard{DB: s.DB, Verifier: s.Verifier} }

// handleUser registers a route for any signed-in user.
func (s *Server) handleUser(mux *http.ServeMux, pattern string, h UserHandler) {
	s.routes[pattern] = ""
	mux.Handle(pattern, web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return s.guard().User(h)(w, r)
	}))
}

// handleOrg registers an org-scoped route: the caller must be an active
// member of {orgId} (else 404) whose role allows perm (else 403).
func (s *Server) handleOrg(mux *http.ServeMux, pattern string, perm access.Permission, h OrgHandler) {
	s.routes[pattern] = perm
	mux.Handle(pattern, web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return s.guard().Org(perm, h)(w, r)
	}))
}

// authenticate is the request's caller, resolved once per request when
// withCaller installed the memo (orgroute.Guard.Caller).
func (s *Server) authenticate(r *http.Request) (Caller, error) { return s.guard().Caller(r) }

// withCaller gives the request a memo for authenticate, once.
func withCaller(r *http.Request) *http.Request { return orgroute.WithCaller(r) }
