package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/report"
	"github.com/frostguard/functions/shared/report/pdf"
	"github.com/frostguard/functions/shared/report/printable"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/tracing"
	"github.com/frostguard/functions/shared/web"
)

// RegisterReports adds the reports function's routes to mux: every report
// variant for members, and for the holders of an inspector link.
func (s *Server) RegisterReports(mux *http.ServeMux) {
	for _, k := range report.Kinds {
		s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/reports/"+string(k), access.ExportReports, s.memberReport(k))
		s.handleInspector(mux, "GET /api/v1/inspect/reports/"+string(k), s.inspectorReport(k))
	}
}

const (
	// maxReportSpan: an audit looks back a year (a leap year included).
	maxReportSpan = 366 * 24 * time.Hour
	// maxInlineUnitDays is the largest report answered in the response
	// (a month of 20 units); larger ones go through file storage, where a
	// download link does not hold a Lambda response open on megabytes.
	maxInlineUnitDays = 31 * 20
	// reportLinkTTL is how long a report's download link works.
	reportLinkTTL = 15 * time.Minute
)

// reportFormats: content type and file extension per format.
var reportFormats = map[string]struct{ contentType, ext string }{
	"json": {"application/json", "json"},
	"csv":  {"text/csv; charset=utf-8", "csv"},
	"pdf":  {"application/pdf", "pdf"},
	"html": {"text/html; charset=utf-8", "html"},
}

// printableCSP locks the printable HTML down: no script, no resource from
// anywhere, styles only inline (the page is self-contained).
const printableCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// reportUploadClient uploads rendered reports: an S3 PUT of a few
// megabytes needs longer than the third-party client's timeout, but must
// give up well inside the reports function's 29 s Lambda timeout, so that a
// hung S3 is answered with our 503 rather than the gateway's bare timeout.
var reportUploadClient = tracing.Client(15 * time.Second)

// reportDownload is the answer for a report rendered to file storage.
type reportDownload struct {
	Download reportLink `json:"download"`
}

type reportLink struct {
	URL         string    `json:"url"`
	ExpiresAt   time.Time `json:"expires_at"`
	Format      string    `json:"format"`
	ContentType string    `json:"content_type"`
	Filename    string    `json:"filename"`
	SizeBytes   int       `json:"size_bytes"`
}

// reportRequest is a report's query: what, over when, in which form.
type reportRequest struct {
	kind     report.Kind
	rg       report.Range
	format   string
	delivery string
	amCheck  time.Duration
	pmCheck  time.Duration
	scope    store.ReportScope
}

func (s *Server) memberReport(k report.Kind) OrgHandler {
	return func(w http.ResponseWriter, r *http.Request, m Member) error {
		req, err := reportParams(r, k, nil)
		if err != nil {
			return err
		}
		return s.serveReport(w, r, m.OrgID, req)
	}
}

// inspectorReport serves a variant to a link holder: the link's sites
// only (site_id and unit_id narrow them), over the link's period unless
// from and to narrow it.
func (s *Server) inspectorReport(k report.Kind) InspectorHandler {
	return func(w http.ResponseWriter, r *http.Request, sc domain.InspectorScope) error {
		req, err := reportParams(r, k, &sc)
		if err != nil {
			return err
		}
		req.scope.Sites = sc.SiteIDs
		return s.serveReport(w, r, sc.OrgID, req)
	}
}

// serveReport computes the report and answers it inline or as a link.
func (s *Server) serveReport(w http.ResponseWriter, r *http.Request, orgID string, req reportRequest) error {
	ctx := r.Context()
	org, err := s.DB.ReportOrg(ctx, orgID)
	if err != nil {
		return err
	}
	units, err := s.DB.ReportUnits(ctx, orgID, req.scope)
	if err != nil {
		return err
	}
	link := req.delivery == "link" || (req.delivery == "" && req.rg.UnitDays(len(units)) > maxInlineUnitDays)
	if link && s.Files == nil {
		return apperr.New(apperr.Unavailable, "file storage is not configured: ask for a shorter range or fewer units to get the report inline")
	}
	o := report.Options{Organization: org.Organization, TempUnit: domain.TempUnit(org.TempUnit), Range: req.rg, Now: s.Now(),
		AMCheck: req.amCheck, PMCheck: req.pmCheck}
	rep, err := s.buildReport(ctx, orgID, o, units)
	if err != nil {
		return err
	}
	v := report.NewVariant(req.kind, rep, o)
	if !link && req.format == "json" {
		web.JSON(w, http.StatusOK, v)
		return nil
	}
	body, err := renderReport(v, req.format)
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "the report could not be rendered")
	}
	f := reportFormats[req.format]
	name := report.Filename(req.kind, rep.From, rep.To, rep.Organization.TimeZone, f.ext)
	if !link {
		w.Header().Set("Content-Type", f.contentType)
		disposition := "attachment"
		if req.format == "html" {
			// a page to print from the browser, locked down
			disposition = "inline"
			w.Header().Set("Content-Security-Policy", printableCSP)
		}
		w.Header().Set("Content-Disposition", fmt.Sprintf("%s; filename=%q", disposition, name))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return nil
	}
	key := fmt.Sprintf("%s%s/%s.%s", objects.ReportsPrefix, orgID, randomHex(16), f.ext)
	if err := s.uploadReport(ctx, key, f.contentType, body); err != nil {
		return err
	}
	get, err := s.Files.PresignGet(ctx, key, reportLinkTTL)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, reportDownload{Download: reportLink{URL: get.URL, ExpiresAt: get.Expires.UTC(), Format: req.format,
		ContentType: f.contentType, Filename: name, SizeBytes: len(body)}})
	return nil
}

// reportParams reads from, to (dates or RFC 3339 times), format,
// delivery, site_id, unit_id and the daily log's am_check and pm_check,
// reporting every invalid one at once. For an inspector (link not nil)
// from and to are optional dates, default the link's period and may not
// leave it.
func reportParams(r *http.Request, k report.Kind, link *domain.InspectorScope) (reportRequest, error) {
	q := r.URL.Query()
	req := reportRequest{kind: k}
	var fields []apperr.FieldError
	bad := func(field, msg string) { fields = append(fields, apperr.FieldError{Field: field, Message: msg}) }
	bound := func(name string, end bool) report.Bound {
		v := q.Get(name)
		if v == "" {
			if link == nil {
				bad(name, "is required: a date (2026-01-31) or an RFC 3339 time")
				return report.Bound{}
			}
			if end {
				return report.Bound{At: link.To.AddDate(0, 0, 1), Date: true}
			}
			return report.Bound{At: link.From, Date: true}
		}
		b, perr := report.ParseBound(v, end)
		switch {
		case perr != nil:
			bad(name, perr.Error())
		case link != nil && !b.Date:
			bad(name, "must be a date (2026-01-31)")
		case link != nil && (b.At.Before(link.From) || b.At.After(link.To.AddDate(0, 0, 1))):
			bad(name, fmt.Sprintf("must be within the link's period, %s to %s", link.From.Format(time.DateOnly), link.To.Format(time.DateOnly)))
		}
		return b
	}
	req.rg.From, req.rg.To = bound("from", false), bound("to", true)
	if len(fields) == 0 {
		switch span := req.rg.Span(); {
		case span <= 0:
			bad("to", "must be after from")
		case span > maxReportSpan:
			bad("to", "the range is at most 366 days")
		}
	}
	req.format = q.Get("format")
	if req.format == "" {
		req.format = "json"
	}
	if _, ok := reportFormats[req.format]; !ok {
		bad("format", "must be one of json, csv, pdf, html")
	}
	req.delivery = q.Get("delivery")
	if req.delivery != "" && req.delivery != "inline" && req.delivery != "link" {
		bad("delivery", "must be one of inline, link")
	}
	for _, c := range []struct {
		name string
		dst  *time.Duration
		am   bool
	}{{"am_check", &req.amCheck, true}, {"pm_check", &req.pmCheck, false}} {
		v := q.Get(c.name)
		if v == "" {
			continue
		}
		d, ok := report.ParseClock(v)
		switch {
		case k != report.KindDailyLog:
			bad(c.name, "is only for the daily log")
		case !ok:
			bad(c.name, "must be a time of day, HH:MM")
		case c.am && d >= report.Noon:
			bad(c.name, "must be before 12:00")
		case !c.am && d < report.Noon:
			bad(c.name, "must be 12:00 or later")
		default:
			*c.dst = d
		}
	}
	var err error
	for _, p := range []struct {
		name string
		dst  *string
	}{{"site_id", &req.scope.SiteID}, {"unit_id", &req.scope.UnitID}} {
		if *p.dst, err = QueryUUID(r, p.name); err != nil {
			fields = append(fields, apperr.From(err).Details...)
		}
	}
	if len(fields) > 0 {
		return req, apperr.Validation(fields...)
	}
	return req, nil
}

// buildReport loads each unit's readings (streamed into its builder), and
// the alerts (with their corrective actions) and manual logs of all of
// them, and computes the report.
func (s *Server) buildReport(ctx context.Context, orgID string, o report.Options, units []report.Unit) (report.Report, error) {
	rep := report.NewReport(o)
	builders := make(map[string]*report.UnitBuilder, len(units))
	ids := make([]string, 0, len(units))
	for _, u := range units {
		b := report.NewUnitBuilder(o, u)
		from, to := b.LoadWindow()
		if err := s.DB.EachReportReading(ctx, orgID, u.ID, from, to, b.Add); err != nil {
			return rep, err
		}
		builders[u.ID] = b
		ids = append(ids, u.ID)
	}
	// the widest bounds: each builder keeps what falls in its own days
	from, to := o.Range.Outer()
	alerts, err := s.DB.ReportAlerts(ctx, orgID, ids, from, to)
	if err != nil {
		return rep, err
	}
	for _, a := range alerts {
		builders[a.UnitID].AddAlert(a)
	}
	logs, err := s.DB.ReportManualLogs(ctx, orgID, ids, from, to)
	if err != nil {
		return rep, err
	}
	for _, l := range logs {
		builders[l.UnitID].AddManualLog(l)
	}
	for _, u := range units {
		rep.Units = append(rep.Units, builders[u.ID].Finish())
	}
	return rep, nil
}

func renderReport(v report.Variant, format string) ([]byte, error) {
	switch format {
	case "csv":
		return v.CSV()
	case "pdf":
		return pdf.RenderDocument(v.Document(), pdf.Options{})
	case "html":
		return printable.Render(v.Document())
	default:
		return json.Marshal(v)
	}
}

// uploadReport PUTs the rendered report through a presigned URL (the
// storage adapter signs; the content type and length are part of the
// signature).
func (s *Server) uploadReport(ctx context.Context, key, contentType string, body []byte) error {
	put, err := s.Files.PresignPut(ctx, key, contentType, int64(len(body)), 5*time.Minute)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, put.Method, put.URL, bytes.NewReader(body))
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "the report could not be stored")
	}
	for k, vs := range put.Headers {
		if strings.EqualFold(k, "Host") || strings.EqualFold(k, "Content-Length") {
			continue
		}
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", contentType)
	req.ContentLength = int64(len(body))
	resp, err := reportUploadClient.Do(req)
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, err, "file storage is unavailable, retry later")
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return apperr.New(apperr.BadGateway, "file storage refused the report (status %d)", resp.StatusCode)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
