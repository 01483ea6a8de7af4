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
	"github.com/frostguard/functions/shared/tracing"
	"github.com/frostguard/functions/shared/web"
)

// RegisterReports adds the reports function's routes to mux.
func (s *Server) RegisterReports(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/reports/haccp", access.ExportReports, s.haccpReport)
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
}

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

func (s *Server) haccpReport(w http.ResponseWriter, r *http.Request, m Member) error {
	rg, format, delivery, err := reportParams(r)
	if err != nil {
		return err
	}
	siteID, err := QueryUUID(r, "site_id")
	if err != nil {
		return err
	}
	unitID, err := QueryUUID(r, "unit_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	org, err := s.DB.ReportOrg(ctx, m.OrgID)
	if err != nil {
		return err
	}
	units, err := s.DB.ReportUnits(ctx, m.OrgID, siteID, unitID)
	if err != nil {
		return err
	}
	link := delivery == "link" || (delivery == "" && rg.UnitDays(len(units)) > maxInlineUnitDays)
	if link && s.Files == nil {
		return apperr.New(apperr.Unavailable, "file storage is not configured: ask for a shorter range or fewer units to get the report inline")
	}
	rep, err := s.buildReport(ctx, m.OrgID, org.Organization, domain.TempUnit(org.TempUnit), rg, units)
	if err != nil {
		return err
	}
	if !link && format == "json" {
		web.JSON(w, http.StatusOK, rep)
		return nil
	}
	body, err := renderReport(rep, format)
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "the report could not be rendered")
	}
	f := reportFormats[format]
	name := reportFilename(rep, f.ext)
	if !link {
		w.Header().Set("Content-Type", f.contentType)
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return nil
	}
	key := fmt.Sprintf("%s%s/%s.%s", objects.ReportsPrefix, m.OrgID, randomHex(16), f.ext)
	if err := s.uploadReport(ctx, key, f.contentType, body); err != nil {
		return err
	}
	get, err := s.Files.PresignGet(ctx, key, reportLinkTTL)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, reportDownload{Download: reportLink{URL: get.URL, ExpiresAt: get.Expires.UTC(), Format: format,
		ContentType: f.contentType, Filename: name, SizeBytes: len(body)}})
	return nil
}

// reportParams reads from, to (dates or RFC 3339 times), format and
// delivery, reporting every invalid one at once.
func reportParams(r *http.Request) (rg report.Range, format, delivery string, err error) {
	q := r.URL.Query()
	var fields []apperr.FieldError
	bound := func(name string, end bool) report.Bound {
		v := q.Get(name)
		if v == "" {
			fields = append(fields, apperr.FieldError{Field: name, Message: "is required: a date (2026-01-31) or an RFC 3339 time"})
			return report.Bound{}
		}
		b, perr := report.ParseBound(v, end)
		if perr != nil {
			fields = append(fields, apperr.FieldError{Field: name, Message: perr.Error()})
		}
		return b
	}
	rg.From, rg.To = bound("from", false), bound("to", true)
	if len(fields) == 0 {
		switch span := rg.Span(); {
		case span <= 0:
			fields = append(fields, apperr.FieldError{Field: "to", Message: "must be after from"})
		case span > maxReportSpan:
			fields = append(fields, apperr.FieldError{Field: "to", Message: "the range is at most 366 days"})
		}
	}
	format = q.Get("format")
	if format == "" {
		format = "json"
	}
	if _, ok := reportFormats[format]; !ok {
		fields = append(fields, apperr.FieldError{Field: "format", Message: "must be one of json, csv, pdf"})
	}
	delivery = q.Get("delivery")
	if delivery != "" && delivery != "inline" && delivery != "link" {
		fields = append(fields, apperr.FieldError{Field: "delivery", Message: "must be one of inline, link"})
	}
	if len(fields) > 0 {
		return rg, "", "", apperr.Validation(fields...)
	}
	return rg, format, delivery, nil
}

// buildReport loads each unit's readings (streamed into its builder), and
// the alerts and manual logs of all of them, and computes the report.
func (s *Server) buildReport(ctx context.Context, orgID string, org report.Organization, tu domain.TempUnit,
	rg report.Range, units []report.Unit) (report.Report, error) {
	o := report.Options{Organization: org, TempUnit: tu, Range: rg, Now: s.Now()}
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
	from, to := rg.Outer()
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

func renderReport(rep report.Report, format string) ([]byte, error) {
	switch format {
	case "csv":
		return report.RenderCSV(rep)
	case "pdf":
		return pdf.Render(rep, pdf.Options{})
	default:
		return json.Marshal(rep)
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

// reportFilename names the file after the organisation's dates.
func reportFilename(rep report.Report, ext string) string {
	loc := domain.Location(rep.Organization.TimeZone)
	// the range's end is exclusive: name its last day
	return fmt.Sprintf("haccp-report-%s-to-%s.%s", rep.From.In(loc).Format("20060102"),
		rep.To.Add(-time.Nanosecond).In(loc).Format("20060102"), ext)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
