// Package errreport sends panics, 5xx responses and failed scheduled runs to
// Sentry (github.com/getsentry/sentry-go) when SENTRY_DSN is set, and does
// nothing at all when it is empty: no client, no goroutine, no connection.
//
// Events carry the function name, the stage, the release (host.Version) and
// the request id, never secrets or personal data: the SDK's own collection of
// headers, cookies, bodies, query strings and user data is switched off, and
// a BeforeSend scrubs whatever could still carry a secret (see scrub.go).
//
// Under Lambda the process is frozen as soon as an invocation returns, so
// shared/host calls Flush before returning; elsewhere the SDK's transport
// sends in the background.
package errreport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getsentry/sentry-go"

	"github.com/frostguard/functions/shared/logging"
	"github.com/frostguard/functions/shared/web"
)

// reporter is the enabled state: a client bound to its own hub. nil = off.
type reporter struct {
	hub *sentry.Hub
}

var (
	current atomic.Pointer[reporter]
	initMu  sync.Mutex // serialises Init (tests re-initialise)
)

func init() {
	// web.Error calls this for every 5xx it writes; it only records the cause
	// on requests that went through Middleware (see serverError).
	web.OnServerError = serverError
}

// Init turns reporting on for function when dsn is non-empty. An empty dsn
// turns it off (closing a client a previous Init made). Creating the client
// opens no connection: the transport dials on the first event. The error
// names SENTRY_DSN but never repeats its value.
func Init(dsn, function, stage, version string) (enabled bool, err error) {
	initMu.Lock()
	defer initMu.Unlock()
	if old := current.Swap(nil); old != nil {
		old.hub.Flush(2 * time.Second)
		old.hub.Client().Close()
	}
	if dsn == "" {
		return false, nil
	}
	if version == "" {
		version = "dev" // else the SDK runs `git describe` to guess one
	}
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:         dsn,
		Release:     version,
		Environment: stage,
		// ServerName would otherwise be the host name, which on Lambda says
		// nothing and elsewhere may name a person's machine.
		ServerName:       function,
		Tags:             map[string]string{"function": function, "stage": stage},
		AttachStacktrace: true,
		// No personal data. SendDefaultPII is deprecated in favour of
		// DataCollection (which wins when set): both say "collect nothing".
		SendDefaultPII: false,
		DataCollection: &sentry.DataCollection{
			UserInfo:    sentry.Set(false),
			Cookies:     &sentry.KeyValueCollectionBehavior{Mode: sentry.CollectionOff},
			HTTPHeaders: &sentry.HeaderCollectionConfig{Request: &sentry.KeyValueCollectionBehavior{Mode: sentry.CollectionOff}, Response: &sentry.KeyValueCollectionBehavior{Mode: sentry.CollectionOff}},
			HTTPBodies:  []sentry.BodyType{},
			QueryParams: &sentry.KeyValueCollectionBehavior{Mode: sentry.CollectionOff},
		},
		MaxBreadcrumbs:   -1,
		BeforeSend:       beforeSend,
		BeforeBreadcrumb: func(*sentry.Breadcrumb, *sentry.BreadcrumbHint) *sentry.Breadcrumb { return nil },
		// Client reports would add an extra request to the flush that ends
		// every Lambda invocation.
		DisableClientReports: true,
	})
	if err != nil {
		return false, fmt.Errorf("SENTRY_DSN is not a valid Sentry DSN (want https://PUBLIC_KEY@HOST/PROJECT_ID): %s", dsnProblem(err))
	}
	current.Store(&reporter{hub: sentry.NewHub(client, sentry.NewScope())})
	return true, nil
}

// dsnProblem is the parse error without the DSN itself (url.Parse errors
// quote their input).
func dsnProblem(err error) string {
	msg := strings.TrimPrefix(err.Error(), "[Sentry] DsnParseError: ")
	if strings.HasPrefix(msg, "invalid url") {
		return "invalid url"
	}
	return msg
}

// Enabled reports whether Init turned reporting on.
func Enabled() bool { return current.Load() != nil }

// Flush waits up to timeout for queued events to be delivered and reports
// whether they were. It returns true at once when reporting is off.
func Flush(timeout time.Duration) bool {
	rep := current.Load()
	if rep == nil {
		return true
	}
	return rep.hub.Flush(timeout)
}

// JobError reports a failed scheduled run (the alert-sweeper's task errors,
// joined). A nil err or an ended ctx (shutdown) reports nothing.
func JobError(ctx context.Context, err error) {
	rep := current.Load()
	if rep == nil || err == nil || ctx.Err() != nil {
		return
	}
	hub := rep.scoped(ctx, nil)
	hub.Scope().SetTag("kind", "scheduled")
	hub.CaptureException(err)
}

// scoped clones the hub with this request's identifiers on its scope.
func (rep *reporter) scoped(ctx context.Context, r *http.Request) *sentry.Hub {
	hub := rep.hub.Clone()
	scope := hub.Scope()
	if id := logging.RequestID(ctx); id != "" {
		scope.SetTag("request_id", id)
	}
	if id := logging.LambdaRequestID(ctx); id != "" {
		scope.SetTag("lambda_request_id", id)
	}
	if r != nil {
		req := requestInfo(r)
		scope.SetTag("http.method", r.Method)
		scope.AddEventProcessor(func(e *sentry.Event, _ *sentry.EventHint) *sentry.Event {
			e.Request = req
			return e
		})
	}
	return hub
}

// requestInfo is all an event says about the request: method, URL without
// its query, and the query with secret-looking values filtered. No headers,
// cookies or body.
func requestInfo(r *http.Request) *sentry.Request {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return &sentry.Request{
		URL:         scheme + "://" + r.Host + r.URL.Path,
		Method:      r.Method,
		QueryString: filterQuery(r.URL.RawQuery),
	}
}

// tracker is the per-request state Middleware shares with serverError: the
// status written, and whether this request was already reported.
type tracker struct {
	*web.StatusRecorder
	reported bool
}

type trackerKey struct{}

// Middleware reports a panic in next (then panics again, so that web.Recover,
// further out, still logs it and answers 500) and any 5xx response next
// writes, with the request id, the function name and the cause when it went
// through web.Error. It must run inside web.RequestID and web.Recover:
// host.Standard places it innermost.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := current.Load()
		if rep == nil {
			next.ServeHTTP(w, r)
			return
		}
		t := &tracker{StatusRecorder: &web.StatusRecorder{ResponseWriter: w}}
		r = r.WithContext(context.WithValue(r.Context(), trackerKey{}, t))
		defer func() {
			if v := recover(); v != nil {
				if v != http.ErrAbortHandler && !t.reported {
					t.reported = true
					hub := rep.scoped(r.Context(), r)
					hub.Scope().SetTag("kind", "panic")
					hub.RecoverWithContext(r.Context(), v)
				}
				panic(v)
			}
		}()
		next.ServeHTTP(t, r)
		if t.Status >= 500 && !t.reported {
			t.reported = true
			hub := rep.scoped(r.Context(), r)
			hub.Scope().SetTag("kind", "response")
			hub.Scope().SetTag("http.status_code", fmt.Sprint(t.Status))
			hub.Scope().SetLevel(sentry.LevelError)
			hub.CaptureMessage(fmt.Sprintf("HTTP %d %s %s", t.Status, r.Method, r.URL.Path))
		}
	})
}

// serverError is web.OnServerError: when web.Error answers a 5xx inside
// Middleware, report the cause right away (the stack then points into the
// handler) and mark the request so Middleware does not report it twice.
func serverError(r *http.Request, status int, err error) {
	t, _ := r.Context().Value(trackerKey{}).(*tracker)
	rep := current.Load()
	if t == nil || t.reported || rep == nil {
		return
	}
	t.reported = true
	if err == nil {
		err = errors.New(http.StatusText(status))
	}
	hub := rep.scoped(r.Context(), r)
	hub.Scope().SetTag("kind", "response")
	hub.Scope().SetTag("http.status_code", fmt.Sprint(status))
	hub.CaptureException(err)
}
