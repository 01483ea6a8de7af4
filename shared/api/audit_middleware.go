package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/logging"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

const (
	// auditBodyLimit: larger request bodies are summarised (size and
	// top-level field names), not stored.
	auditBodyLimit = 16 << 10
	// auditReadLimit bounds what the middleware buffers; beyond it the
	// rest of the body streams to the handler unread.
	auditReadLimit = 1 << 20
	// auditResponseLimit bounds the response kept to find a created
	// organisation's id.
	auditResponseLimit = 64 << 10
	auditTimeout       = 3 * time.Second
	createOrgPattern   = "POST /api/v1/orgs"
	redacted           = "[redacted]"
)

// Audit wraps the api's router (wire it outermost, around the
// subscription check: srv.Audit(srv.EnforceSubscriptions(mux)), after
// srv.Register) so that every successful write (POST, PUT, PATCH or DELETE
// answering 2xx) lands in audit_log: who (the caller's user), what (action
// "<METHOD> <route pattern>", the entity named by the pattern's last path
// parameter, the request body as `after` with secrets redacted, and for
// PATCH/PUT/DELETE of an entity and its acknowledge/resolve/restore actions
// the row as it was before), when, and the request id.
//
// Writes outside an organisation are skipped, except creating one. Failed
// writes (4xx/5xx, 402 from the subscription check) are not recorded.
//
// The line is written in the handler's own transaction: the middleware puts
// it in the request's context (store.WithAudit) and the first transaction
// the handler commits through store.DB.InTx reads `before` and writes the
// line with the change, so the two commit together or not at all. A write
// that committed no transaction through InTx gets its line written apart
// afterwards (logged: every store write of the api goes through InTx, and
// TestAuditLineCommitsWithTheChange proves the rule on a route).
func (s *Server) Audit(next http.Handler) http.Handler {
	var once sync.Once
	var router *http.ServeMux
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = withCaller(r)
		if !isWrite(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		// The registered routes are only complete once Register ran: build
		// the matcher at the first request, not when Audit is called.
		once.Do(func() { router = s.auditRouter() })
		rt, ok := s.matchAuditRoute(router, r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		orgID := strings.ToLower(rt.values["orgId"])
		if (orgID == "" || !domain.IsUUID(orgID)) && rt.pattern != createOrgPattern {
			next.ServeHTTP(w, r)
			return
		}
		caller, err := s.authenticate(r)
		if err != nil {
			next.ServeHTTP(w, r) // the route answers 401 (or 503): nothing is written
			return
		}
		body, size, complete := captureBody(r)
		rec := store.AuditRecord{OrgID: orgID, ActorSubject: caller.Subject, Action: rt.pattern,
			RequestID: logging.RequestID(r.Context())}
		if name := rt.last(); name != "" {
			rec.EntityType, rec.EntityID = auditEntityType(name), strings.ToLower(rt.values[name])
			if !domain.IsUUID(rec.EntityID) {
				rec.EntityType, rec.EntityID = "", ""
			}
		}
		// The line travels with the request: the first transaction the
		// handler commits (store.DB.InTx) reads the row before and writes
		// the line with the change, so they commit together or not at all.
		rec.After = auditAfter(body, size, complete)
		rec.At = s.Now().UTC()
		ctx, pending := store.WithAudit(r.Context(), rec, rec.EntityID != "" && rt.wantsBefore(), redactJSON)
		aw := &web.StatusRecorder{ResponseWriter: w}
		next.ServeHTTP(aw, r.WithContext(ctx))
		if aw.Status == 0 {
			aw.Status = http.StatusOK // nothing written: net/http answers 200
		}
		if aw.Status < 200 || aw.Status > 299 || pending.Written() {
			return
		}
		// A successful write that committed no transaction through InTx:
		// the line is written now, apart (and the gap is logged).
		rec = pending.Record()
		if rec.OrgID == "" {
			return
		}
		slog.WarnContext(r.Context(), "audit: the write committed no transaction that carried its line; written apart",
			"action", rec.Action)
		wctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditTimeout)
		defer cancel()
		if err := s.DB.InsertAudit(wctx, rec); err != nil {
			slog.ErrorContext(wctx, "audit: could not record a successful write", "err", err,
				"action", rec.Action, "organization_id", rec.OrgID, "entity_id", rec.EntityID)
		}
	})
}

// auditRouter is a private router holding every registered write pattern:
// it finds a request's pattern and path values before the request runs,
// with exactly the api router's matching rules.
func (s *Server) auditRouter() *http.ServeMux {
	mux := http.NewServeMux()
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for pattern := range s.routes {
		method, _, _ := strings.Cut(pattern, " ")
		if isWrite(method) {
			mux.Handle(pattern, noop)
		}
	}
	return mux
}

type auditRoute struct {
	pattern string
	names   []string // path parameters, in order
	values  map[string]string
}

// last is the pattern's last path parameter ("" when it has none).
func (rt auditRoute) last() string {
	if len(rt.names) == 0 {
		return ""
	}
	return rt.names[len(rt.names)-1]
}

// wantsBefore: the write changes the entity its last parameter names (not
// a new child of it), so the row before the write is worth keeping.
func (rt auditRoute) wantsBefore() bool {
	method, path, _ := strings.Cut(rt.pattern, " ")
	segs := strings.Split(path, "/")
	end := segs[len(segs)-1]
	if strings.HasPrefix(end, "{") {
		return method != http.MethodPost
	}
	switch end {
	case "acknowledge", "resolve", "restore":
		return strings.HasPrefix(segs[len(segs)-2], "{")
	}
	return false
}

func (s *Server) matchAuditRoute(router *http.ServeMux, r *http.Request) (auditRoute, bool) {
	probe := r.WithContext(r.Context()) // ServeHTTP writes Pattern and path values onto the probe
	router.ServeHTTP(discardWriter{}, probe)
	if _, ok := s.routes[probe.Pattern]; !ok {
		return auditRoute{}, false // no route (404/405) or a redirect: nothing is written
	}
	rt := auditRoute{pattern: probe.Pattern, values: map[string]string{}}
	_, path, _ := strings.Cut(probe.Pattern, " ")
	for _, seg := range strings.Split(path, "/") {
		if !strings.HasPrefix(seg, "{") || seg == "{$}" {
			continue
		}
		name := strings.TrimSuffix(strings.Trim(seg, "{}"), "...")
		rt.names = append(rt.names, name)
		rt.values[name] = probe.PathValue(name)
	}
	return rt, true
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

// auditEntityType names an entity after its path parameter (unitId ->
// unit), as the alert engine's own audit rows do.
func auditEntityType(param string) string {
	switch param {
	case "orgId":
		return "organization"
	case "policyId":
		return "notification_policy"
	}
	name := strings.TrimSuffix(param, "Id")
	var b strings.Builder
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// captureBody reads the request body (up to auditReadLimit) and puts it
// back for the handler, with any read error (413 from the body limit)
// replayed after the bytes read.
func captureBody(r *http.Request) (body []byte, size int, complete bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, 0, true
	}
	orig := r.Body
	body, err := io.ReadAll(io.LimitReader(orig, auditReadLimit+1))
	var rest io.Reader = orig
	switch {
	case err != nil:
		rest = errReader{err}
	case len(body) <= auditReadLimit:
		complete = true
	}
	r.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(body), rest), Closer: orig}
	return body, len(body), complete
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// auditAfter is the stored form of a request body: the JSON with secrets
// redacted, or a summary when it is large or not JSON.
func auditAfter(body []byte, size int, complete bool) json.RawMessage {
	if size == 0 {
		return nil
	}
	var v any
	parsed := complete && decodeJSONNumbers(body, &v) == nil
	if parsed && size <= auditBodyLimit {
		out, _ := json.Marshal(redact(v))
		return out
	}
	summary := map[string]any{"bytes": size}
	switch {
	case !complete:
		summary["summary"] = "request body too large to keep"
	case !parsed:
		summary["summary"] = "request body is not JSON"
	default:
		summary["summary"] = "request body over 16 KB: only its field names are kept"
		if m, ok := v.(map[string]any); ok {
			fields := make([]string, 0, len(m))
			for k := range m {
				fields = append(fields, k)
			}
			sort.Strings(fields)
			summary["fields"] = fields
		}
	}
	out, _ := json.Marshal(summary)
	return out
}

func decodeJSONNumbers(b []byte, v *any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep numbers exactly as sent
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return io.ErrUnexpectedEOF
	}
	return nil
}

func redactJSON(row json.RawMessage) json.RawMessage {
	var v any
	if decodeJSONNumbers(row, &v) != nil {
		return nil
	}
	out, _ := json.Marshal(redact(v))
	return out
}

// redact replaces the value of every field named like a credential, at any
// depth.
func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if sensitiveField(k) {
				x[k] = redacted
				continue
			}
			x[k] = redact(val)
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}

func sensitiveField(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"secret", "token", "password", "passwd", "key", "authorization", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// keepStart returns a body observer that keeps the first
// auditResponseLimit bytes of a response in buf.
func keepStart(buf *bytes.Buffer) func([]byte) {
	return func(b []byte) {
		if n := auditResponseLimit - buf.Len(); n > 0 {
			buf.Write(b[:min(len(b), n)])
		}
	}
}
