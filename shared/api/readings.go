package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerReadings(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/units/{unitId}/readings", access.ReadOrganization, s.unitReadings)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/readings/latest", access.ReadOrganization, s.latestReadings)
}

const (
	// defaultReadingsRange is the range when `from` is not given: a day,
	// the chart's default view.
	defaultReadingsRange = 24 * time.Hour
	// maxReadingsRange bounds a request to a bit over a year (a HACCP
	// audit looks back twelve months).
	maxReadingsRange = 400 * 24 * time.Hour
	// maxReadingBuckets bounds a bucketed answer (a chart is a few hundred
	// pixels wide: thousands of points are already plenty).
	maxReadingBuckets = 5000
	// Raw readings page larger than other lists: a day at the usual
	// 5-minute spacing (288 readings) fits in the default page, so the
	// default chart needs one request.
	defaultReadingsLimit = 500
	maxReadingsLimit     = 1000
)

// readingsResponse is GET .../units/{unitId}/readings. Items are
// []domain.Reading (raw, Bucket nil) or []domain.ReadingBucket.
type readingsResponse struct {
	Unit       store.ReadingUnit `json:"unit"`
	From       time.Time         `json:"from"`
	To         time.Time         `json:"to"`
	Bucket     *string           `json:"bucket"`
	Items      any               `json:"items"`
	NextCursor string            `json:"next_cursor"`
}

func (s *Server) unitReadings(w http.ResponseWriter, r *http.Request, m Member) error {
	unitID, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	q, err := readingsQueryFrom(r, s.Now())
	if err != nil {
		return err
	}
	unit, err := s.DB.ReadingUnit(r.Context(), m.OrgID, unitID)
	if err != nil {
		return err
	}
	return s.answerReadings(w, r, m.OrgID, unit, q)
}

// readingsQuery is a readings request: its range, bucket and page.
type readingsQuery struct {
	from, to  time.Time
	bucket    string
	limit     int
	afterTime time.Time
	afterID   int64
}

// readingsQueryFrom reads and checks a readings request's parameters.
func readingsQueryFrom(r *http.Request, now time.Time) (readingsQuery, error) {
	var rq readingsQuery
	var err error
	rq.from, rq.to, err = readingsRange(r, now)
	if err != nil {
		return rq, err
	}
	rq.bucket, err = QueryEnum(r, "bucket", "5m", "1h", "1d")
	if err != nil {
		return rq, err
	}
	q := r.URL.Query()
	if rq.bucket != "" {
		if q.Has("limit") || q.Has("cursor") {
			return rq, apperr.Validation(apperr.FieldError{Field: "bucket", Message: "bucketed readings are not paginated: drop limit and cursor"})
		}
		if err := checkBucketCount(rq.from, rq.to, rq.bucket); err != nil {
			return rq, err
		}
	}
	rq.limit, rq.afterTime, rq.afterID, err = readingsPage(r)
	return rq, err
}

// checkBucketCount refuses a bucketed answer too large for a chart.
func checkBucketCount(from, to time.Time, bucket string) error {
	width := domain.ReadingBucketSizes[bucket]
	if n := domain.BucketCount(from, to, width); n > maxReadingBuckets {
		return apperr.Validation(apperr.FieldError{Field: "bucket", Message: fmt.Sprintf(
			"%s buckets over this range make %d points, more than %d: choose a larger bucket or a shorter range", bucket, n, maxReadingBuckets)})
	}
	return nil
}

// answerReadings answers a unit's readings (raw and paged, or bucketed).
func (s *Server) answerReadings(w http.ResponseWriter, r *http.Request, orgID string, unit store.ReadingUnit, q readingsQuery) error {
	rg := store.ReadingRange{OrgID: orgID, UnitID: unit.ID, From: q.from, To: q.to, RawFrom: unit.RawFrom}
	resp := readingsResponse{Unit: unit, From: q.from, To: q.to}
	if q.bucket != "" {
		items, err := s.DB.ReadingBuckets(r.Context(), rg, domain.ReadingBucketSizes[q.bucket], unit.TimeZone)
		if err != nil {
			return err
		}
		if items == nil {
			items = []domain.ReadingBucket{}
		}
		bucket := q.bucket
		resp.Bucket, resp.Items = &bucket, items
		web.JSON(w, http.StatusOK, resp)
		return nil
	}
	items, err := s.DB.Readings(r.Context(), rg, q.afterTime, q.afterID, q.limit+1)
	if err != nil {
		return err
	}
	page := NewList(items, q.limit, func(x domain.Reading) Cursor {
		return Cursor{Time: x.RecordedAt, ID: strconv.FormatInt(x.ID, 10)}
	})
	resp.Items, resp.NextCursor = page.Items, page.NextCursor
	web.JSON(w, http.StatusOK, resp)
	return nil
}

// readingsRange reads `from` and `to`: to defaults to now, from to a day
// before to; from must be before to, at most 400 days apart.
func readingsRange(r *http.Request, now time.Time) (from, to time.Time, err error) {
	from, err = QueryTime(r, "from")
	if err != nil {
		return
	}
	to, err = QueryTime(r, "to")
	if err != nil {
		return
	}
	if to.IsZero() {
		to = now.UTC()
	}
	if from.IsZero() {
		from = to.Add(-defaultReadingsRange)
	}
	switch {
	case !from.Before(to):
		err = apperr.Validation(apperr.FieldError{Field: "from", Message: "must be before to"})
	case to.Sub(from) > maxReadingsRange:
		err = apperr.Validation(apperr.FieldError{Field: "from", Message: "the range may span at most 400 days"})
	}
	return
}

// readingsPage reads `limit` (1..1000, default 500) and `cursor`. Readings
// have bigint ids, so their cursor carries one instead of a UUID and
// PageFrom cannot decode it.
func readingsPage(r *http.Request) (limit int, afterTime time.Time, afterID int64, err error) {
	q := r.URL.Query()
	limit = defaultReadingsLimit
	if v := q.Get("limit"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 1 || n > maxReadingsLimit {
			return 0, time.Time{}, 0, apperr.Validation(apperr.FieldError{Field: "limit", Message: "must be an integer from 1 to 1000"})
		}
		limit = n
	}
	if v := q.Get("cursor"); v != "" {
		var c Cursor
		b, decErr := base64.RawURLEncoding.DecodeString(v)
		if decErr == nil && json.Unmarshal(b, &c) == nil {
			afterID, decErr = strconv.ParseInt(c.ID, 10, 64)
		}
		if decErr != nil || afterID <= 0 || c.Time.IsZero() {
			return 0, time.Time{}, 0, apperr.Validation(apperr.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
		afterTime = c.Time.UTC()
	}
	return limit, afterTime, afterID, nil
}

func (s *Server) latestReadings(w http.ResponseWriter, r *http.Request, m Member) error {
	siteID, err := QueryUUID(r, "site_id")
	if err != nil {
		return err
	}
	since, err := QueryTime(r, "updated_since")
	if err != nil {
		return err
	}
	p, err := PageFrom(r)
	if err != nil {
		return err
	}
	if err := s.checkFilters(r.Context(), m.OrgID, idFilter{"site_id", siteID, []string{store.EntitySite}}); err != nil {
		return err
	}
	items, err := s.DB.LatestReadings(r.Context(), m.OrgID, store.LatestFilter{
		SiteID: siteID, UpdatedSince: since, AfterTime: p.After.Time, AfterID: p.After.ID, Limit: p.Limit + 1,
	})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(items, p.Limit, func(x domain.LatestReading) Cursor {
		return Cursor{Time: x.CreatedAt, ID: x.UnitID}
	}))
	return nil
}
