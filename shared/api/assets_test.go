package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/testenv"
)

// assetHarness is a harness whose Files is the bucket of the S3 server the
// test stack runs (versitygw, checking signatures like S3).
type assetHarness struct {
	*harness
	owner *testUser
	org   string
	unit  unitFixture
	alert string
}

func assetsBucket(t *testing.T) *objects.Bucket {
	cfg := config.Storage{
		Endpoint:  testenv.Require(t, "MINIO_ENDPOINT"),
		AccessKey: testenv.Require(t, "MINIO_ROOT_USER"),
		SecretKey: testenv.Require(t, "MINIO_ROOT_PASSWORD"),
		Region:    "us-east-1",
	}
	return objects.Open(cfg, testenv.Require(t, "MINIO_BUCKET_ASSETS"))
}

func newAssetHarness(t *testing.T) *assetHarness {
	files := assetsBucket(t)
	h := &assetHarness{harness: newHarness(t)}
	h.srv.Files = files
	h.owner = h.user("owner")
	h.org = h.harness.org("Alpha", h.owner)
	h.unit = h.harness.unit(h.org)
	h.alert = h.alertIn(h.org, h.unit.UnitID)
	return h
}

func (h *assetHarness) alertIn(orgID, unitID string) string {
	var id string
	h.queryRow([]any{&id}, `INSERT INTO alerts (organization_id, unit_id, type, severity, status, title, triggered_at)
		VALUES ($1, $2, 'temp_excursion', 'critical', 'active', 'Too warm', now()) RETURNING id`, orgID, unitID)
	return id
}

type createdAssetBody struct {
	Asset  domain.Asset       `json:"asset"`
	Upload uploadInstructions `json:"upload"`
}

func (h *assetHarness) create(t *testing.T, u *testUser, body map[string]any) createdAssetBody {
	t.Helper()
	var c createdAssetBody
	h.do(u, "POST", "/api/v1/orgs/"+h.org+"/assets", body).must(t, http.StatusCreated).JSON(t, &c)
	return c
}

func (h *assetHarness) path(id string) string { return "/api/v1/orgs/" + h.org + "/assets/" + id }

// s3Do sends a request straight to the S3 server, as a browser would.
func s3Do(t *testing.T, method, url string, headers map[string]string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Content-Length" {
			continue // net/http sends the body's real length
		}
		req.Header.Set(k, v)
	}
	req.ContentLength = int64(len(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

var pngBytes = []byte("\x89PNG\r\n\x1a\n fake image bytes for the test")

func pngUpload(kind domain.AssetKind, entity string) map[string]any {
	b := map[string]any{"kind": kind, "content_type": "image/png", "size_bytes": len(pngBytes)}
	if entity != "" {
		b["entity_id"] = entity
	}
	return b
}

func TestAssetFullFlow(t *testing.T) {
	h := newAssetHarness(t)
	c := h.create(t, h.owner, pngUpload(domain.AssetUnitPhoto, h.unit.UnitID))
	if c.Asset.Status != domain.AssetPending || c.Asset.Kind != domain.AssetUnitPhoto || *c.Asset.EntityID != h.unit.UnitID ||
		c.Asset.SizeBytes != int64(len(pngBytes)) || *c.Asset.CreatedBy != h.owner.ID {
		t.Fatalf("asset %+v", c.Asset)
	}
	if c.Upload.Method != "PUT" || c.Upload.Headers["Content-Type"] != "image/png" ||
		c.Upload.Headers["Content-Length"] != strconv.Itoa(len(pngBytes)) || c.Upload.Headers["Host"] != "" {
		t.Fatalf("upload %+v", c.Upload)
	}
	if d := time.Until(c.Upload.ExpiresAt); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("upload expires in %v, want 15 min", d)
	}
	var key string
	h.queryRow([]any{&key}, `SELECT s3_key FROM assets WHERE id = $1`, c.Asset.ID)
	if !regexp.MustCompile(`^` + h.org + `/unit_photo/` + h.unit.UnitID + `/[0-9a-f]{16}\.png$`).MatchString(key) {
		t.Fatalf("key %q", key)
	}
	if !strings.Contains(c.Upload.URL, key) {
		t.Fatalf("url %q does not name key %q", c.Upload.URL, key)
	}

	// Pending assets are not listed, and have no download link.
	var list List[domain.Asset]
	h.do(h.owner, "GET", "/api/v1/orgs/"+h.org+"/assets", nil).must(t, 200).JSON(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("pending asset listed: %+v", list.Items)
	}
	var got assetWithDownload
	h.do(h.owner, "GET", h.path(c.Asset.ID), nil).must(t, 200).JSON(t, &got)
	if got.Download != nil {
		t.Fatalf("pending asset has a download link")
	}

	if st, b := s3Do(t, c.Upload.Method, c.Upload.URL, c.Upload.Headers, pngBytes); st != 200 {
		t.Fatalf("upload: %d %s", st, b)
	}
	var ready domain.Asset
	h.do(h.owner, "POST", h.path(c.Asset.ID)+"/confirm", nil).must(t, 200).JSON(t, &ready)
	if ready.Status != domain.AssetReady || ready.SizeBytes != int64(len(pngBytes)) {
		t.Fatalf("confirmed %+v", ready)
	}
	// A retried confirm answers the same.
	h.do(h.owner, "POST", h.path(c.Asset.ID)+"/confirm", nil).must(t, 200)

	for _, q := range []string{"", "?kind=unit_photo", "?entity_id=" + h.unit.UnitID, "?kind=unit_photo&entity_id=" + h.unit.UnitID} {
		h.do(h.owner, "GET", "/api/v1/orgs/"+h.org+"/assets"+q, nil).must(t, 200).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != c.Asset.ID {
			t.Fatalf("list%s: %+v", q, list.Items)
		}
	}
	for _, q := range []string{"?kind=org_logo", "?entity_id=" + h.unit.SiteID} {
		h.do(h.owner, "GET", "/api/v1/orgs/"+h.org+"/assets"+q, nil).must(t, 200).JSON(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("list%s: %+v", q, list.Items)
		}
	}
	h.do(h.owner, "GET", "/api/v1/orgs/"+h.org+"/assets?kind=svg", nil).must(t, 400)
	h.do(h.owner, "GET", "/api/v1/orgs/"+h.org+"/assets?entity_id=nope", nil).must(t, 400)

	// Every member reads, inspectors included.
	insp := h.user("inspector")
	h.member(h.org, insp, access.Inspector)
	h.do(insp, "GET", h.path(c.Asset.ID), nil).must(t, 200).JSON(t, &got)
	if got.Download == nil || got.ID != c.Asset.ID {
		t.Fatalf("ready asset without a download link: %+v", got)
	}
	if d := time.Until(got.Download.ExpiresAt); d < 4*time.Minute || d > 6*time.Minute {
		t.Errorf("download expires in %v, want 5 min", d)
	}
	if st, b := s3Do(t, "GET", got.Download.URL, nil, nil); st != 200 || !bytes.Equal(b, pngBytes) {
		t.Fatalf("download: %d %q", st, b)
	}

	h.do(h.owner, "DELETE", h.path(c.Asset.ID), nil).must(t, http.StatusNoContent)
	if _, err := h.srv.Files.Stat(context.Background(), key); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("object after delete: %v", err)
	}
	if st, _ := s3Do(t, "GET", got.Download.URL, nil, nil); st != http.StatusNotFound {
		t.Errorf("download after delete: %d", st)
	}
	h.do(h.owner, "GET", h.path(c.Asset.ID), nil).must(t, 404)
	h.do(h.owner, "DELETE", h.path(c.Asset.ID), nil).must(t, 404)
}

func TestAssetTamperedURLsAreRefusedByS3(t *testing.T) {
	h := newAssetHarness(t)
	c := h.create(t, h.owner, pngUpload(domain.AssetOrgLogo, ""))
	if c.Asset.EntityID != nil {
		t.Fatalf("logo with an entity: %+v", c.Asset)
	}
	var key string
	h.queryRow([]any{&key}, `SELECT s3_key FROM assets WHERE id = $1`, c.Asset.ID)
	if !regexp.MustCompile(`^` + h.org + `/org_logo/org/[0-9a-f]{16}\.png$`).MatchString(key) {
		t.Fatalf("key %q", key)
	}
	// Another key (e.g. another tenant's prefix) or a forged signature.
	otherKey := strings.Replace(c.Upload.URL, h.org, "00000000-0000-4000-8000-000000000000", 1)
	forged := c.Upload.URL[:len(c.Upload.URL)-4] + "0000"
	for name, url := range map[string]string{"key": otherKey, "signature": forged} {
		if st, _ := s3Do(t, "PUT", url, c.Upload.Headers, pngBytes); st != http.StatusForbidden {
			t.Errorf("upload with a tampered %s: %d, want 403", name, st)
		}
	}
	if st, b := s3Do(t, "PUT", c.Upload.URL, c.Upload.Headers, pngBytes); st != 200 {
		t.Fatalf("upload: %d %s", st, b)
	}
	h.do(h.owner, "POST", h.path(c.Asset.ID)+"/confirm", nil).must(t, 200)
	var got assetWithDownload
	h.do(h.owner, "GET", h.path(c.Asset.ID), nil).must(t, 200).JSON(t, &got)
	otherKey = strings.Replace(got.Download.URL, key, h.org+"/org_logo/org/0123456789abcdef.png", 1)
	forged = got.Download.URL[:len(got.Download.URL)-4] + "0000"
	for name, url := range map[string]string{"key": otherKey, "signature": forged} {
		if st, _ := s3Do(t, "GET", url, nil, nil); st != http.StatusForbidden {
			t.Errorf("download with a tampered %s: %d, want 403", name, st)
		}
	}
	// An unsigned URL (the bucket is private).
	if st, _ := s3Do(t, "GET", strings.Split(got.Download.URL, "?")[0], nil, nil); st != http.StatusForbidden {
		t.Errorf("unsigned download: %d, want 403", st)
	}
}

func TestAssetUploadOtherThanDeclared(t *testing.T) {
	h := newAssetHarness(t)
	c := h.create(t, h.owner, pngUpload(domain.AssetUnitPhoto, h.unit.UnitID))
	confirm := h.path(c.Asset.ID) + "/confirm"
	if r := h.do(h.owner, "POST", confirm, nil).must(t, http.StatusConflict); !strings.Contains(string(r.Body), "upload not found") {
		t.Fatalf("confirm before upload: %s", r.Body)
	}

	svg := map[string]string{"Content-Type": "image/svg+xml"}
	larger := append(append([]byte{}, pngBytes...), "<script>alert(1)</script>"...)
	for name, try := range map[string]struct {
		headers map[string]string
		body    []byte
	}{
		"another content type": {svg, pngBytes},
		"no content type":      {map[string]string{}, pngBytes},
		"a larger body":        {c.Upload.Headers, larger},
		"a smaller body":       {c.Upload.Headers, pngBytes[:4]},
	} {
		if st, _ := s3Do(t, "PUT", c.Upload.URL, try.headers, try.body); st != http.StatusForbidden {
			t.Errorf("upload of %s: %d, want 403", name, st)
		}
	}
	h.do(h.owner, "POST", confirm, nil).must(t, http.StatusConflict)

	// Should a different object get there anyway (here: written through
	// another presigned URL for the same key), confirm catches and removes it.
	var key string
	h.queryRow([]any{&key}, `SELECT s3_key FROM assets WHERE id = $1`, c.Asset.ID)
	put, err := h.srv.Files.PresignPut(context.Background(), key, "image/png", int64(len(larger)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if st, b := s3Do(t, "PUT", put.URL, map[string]string{"Content-Type": "image/png"}, larger); st != 200 {
		t.Fatalf("direct upload: %d %s", st, b)
	}
	h.do(h.owner, "POST", confirm, nil).must(t, http.StatusConflict)
	if _, err := h.srv.Files.Stat(context.Background(), key); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a mismatching object is kept: %v", err)
	}
	var status string
	h.queryRow([]any{&status}, `SELECT status FROM assets WHERE id = $1`, c.Asset.ID)
	if status != "pending" {
		t.Fatalf("status %q", status)
	}
	// The original URL still works while it is valid.
	if st, b := s3Do(t, "PUT", c.Upload.URL, c.Upload.Headers, pngBytes); st != 200 {
		t.Fatalf("upload: %d %s", st, b)
	}
	h.do(h.owner, "POST", confirm, nil).must(t, 200)
}

func TestAssetCreateValidation(t *testing.T) {
	h := newAssetHarness(t)
	other := h.user("other")
	orgB := h.harness.org("Beta", other)
	unitB := h.harness.unit(orgB)
	alertB := h.alertIn(orgB, unitB.UnitID)
	h.exec(`UPDATE units SET deleted_at = now() WHERE id = $1`, h.harness.unit(h.org).UnitID)
	var deletedUnit string
	h.queryRow([]any{&deletedUnit}, `SELECT id FROM units WHERE organization_id = $1 AND deleted_at IS NOT NULL`, h.org)

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"svg", map[string]any{"kind": "unit_photo", "entity_id": h.unit.UnitID, "content_type": "image/svg+xml", "size_bytes": 100}, "content_type"},
		{"html", map[string]any{"kind": "unit_photo", "entity_id": h.unit.UnitID, "content_type": "text/html", "size_bytes": 100}, "content_type"},
		{"pdf as a photo", map[string]any{"kind": "unit_photo", "entity_id": h.unit.UnitID, "content_type": "application/pdf", "size_bytes": 100}, "content_type"},
		{"image over 5 MiB", map[string]any{"kind": "unit_photo", "entity_id": h.unit.UnitID, "content_type": "image/jpeg", "size_bytes": 5<<20 + 1}, "size_bytes"},
		{"pdf over 10 MiB", map[string]any{"kind": "site_floor_plan", "entity_id": h.unit.SiteID, "content_type": "application/pdf", "size_bytes": 10<<20 + 1}, "size_bytes"},
		{"empty", map[string]any{"kind": "unit_photo", "entity_id": h.unit.UnitID, "content_type": "image/jpeg", "size_bytes": 0}, "size_bytes"},
		{"no size", map[string]any{"kind": "unit_photo", "entity_id": h.unit.UnitID, "content_type": "image/jpeg"}, "size_bytes"},
		{"unknown kind", map[string]any{"kind": "user_avatar", "content_type": "image/jpeg", "size_bytes": 10}, "kind"},
		{"no entity", map[string]any{"kind": "unit_photo", "content_type": "image/jpeg", "size_bytes": 10}, "entity_id"},
		{"malformed entity", map[string]any{"kind": "unit_photo", "entity_id": "unit-1", "content_type": "image/jpeg", "size_bytes": 10}, "entity_id"},
		{"logo with an entity", map[string]any{"kind": "org_logo", "entity_id": h.unit.UnitID, "content_type": "image/png", "size_bytes": 10}, "entity_id"},
		{"unit of another org", map[string]any{"kind": "unit_photo", "entity_id": unitB.UnitID, "content_type": "image/png", "size_bytes": 10}, "entity_id"},
		{"site of another org", map[string]any{"kind": "site_floor_plan", "entity_id": unitB.SiteID, "content_type": "image/png", "size_bytes": 10}, "entity_id"},
		{"alert of another org", map[string]any{"kind": "corrective_action_photo", "entity_id": alertB, "content_type": "image/png", "size_bytes": 10}, "entity_id"},
		{"a site as a unit", map[string]any{"kind": "unit_photo", "entity_id": h.unit.SiteID, "content_type": "image/png", "size_bytes": 10}, "entity_id"},
		{"deleted unit", map[string]any{"kind": "unit_photo", "entity_id": deletedUnit, "content_type": "image/png", "size_bytes": 10}, "entity_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(h.owner, "POST", "/api/v1/orgs/"+h.org+"/assets", tc.body).must(t, 400)
			if !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
				t.Fatalf("want a %s field error: %s", tc.field, r.Body)
			}
		})
	}
	h.do(h.owner, "POST", "/api/v1/orgs/"+h.org+"/assets", `{"kind":"org_logo","content_type":"image/png","size_bytes":10,"url":"x"}`).must(t, 400)
	var n int
	h.queryRow([]any{&n}, `SELECT count(*) FROM assets`)
	if n != 0 {
		t.Fatalf("%d rows after refused requests", n)
	}
	// The limits themselves are allowed.
	h.create(t, h.owner, map[string]any{"kind": "site_floor_plan", "entity_id": h.unit.SiteID, "content_type": "application/pdf", "size_bytes": 10 << 20})
	h.create(t, h.owner, map[string]any{"kind": "corrective_action_photo", "entity_id": h.alert, "content_type": "image/webp", "size_bytes": 5 << 20})
	h.create(t, h.owner, map[string]any{"kind": "unit_photo", "entity_id": strings.ToUpper(h.unit.UnitID), "content_type": "IMAGE/JPEG", "size_bytes": 1})
}

func TestAssetPermissionsByKind(t *testing.T) {
	h := newAssetHarness(t)
	users := map[access.Role]*testUser{access.Owner: h.owner}
	for _, role := range []access.Role{access.Admin, access.Manager, access.Staff, access.Viewer, access.Inspector} {
		users[role] = h.user(string(role))
		h.member(h.org, users[role], role)
	}
	bodies := map[domain.AssetKind]map[string]any{
		domain.AssetUnitPhoto:             pngUpload(domain.AssetUnitPhoto, h.unit.UnitID),
		domain.AssetSiteFloorPlan:         pngUpload(domain.AssetSiteFloorPlan, h.unit.SiteID),
		domain.AssetCorrectiveActionPhoto: pngUpload(domain.AssetCorrectiveActionPhoto, h.alert),
		domain.AssetOrgLogo:               pngUpload(domain.AssetOrgLogo, ""),
	}
	minimum := map[domain.AssetKind]access.Role{
		domain.AssetUnitPhoto:             access.Manager,
		domain.AssetSiteFloorPlan:         access.Admin,
		domain.AssetCorrectiveActionPhoto: access.Staff,
		domain.AssetOrgLogo:               access.Admin,
	}
	for kind, body := range bodies {
		// One asset of the kind made by the owner, to confirm and delete.
		owned := h.create(t, h.owner, body)
		for role, u := range users {
			t.Run(string(kind)+"/"+string(role), func(t *testing.T) {
				want := http.StatusForbidden
				if role != access.Inspector && role.AtLeast(minimum[kind]) {
					want = http.StatusCreated
				}
				h.do(u, "POST", "/api/v1/orgs/"+h.org+"/assets", body).must(t, want)
				h.do(u, "GET", h.path(owned.Asset.ID), nil).must(t, 200)
				if want == http.StatusForbidden {
					h.do(u, "POST", h.path(owned.Asset.ID)+"/confirm", nil).must(t, http.StatusForbidden)
					h.do(u, "DELETE", h.path(owned.Asset.ID), nil).must(t, http.StatusForbidden)
				} else {
					h.do(u, "POST", h.path(owned.Asset.ID)+"/confirm", nil).must(t, http.StatusConflict)
				}
			})
		}
		if minimum[kind] == access.Staff {
			h.do(users[access.Staff], "DELETE", h.path(owned.Asset.ID), nil).must(t, http.StatusNoContent)
		}
	}
	// A forbidden kind is refused before the body is looked at further.
	r := h.do(users[access.Staff], "POST", "/api/v1/orgs/"+h.org+"/assets",
		map[string]any{"kind": "site_floor_plan", "content_type": "image/svg+xml"}).must(t, http.StatusForbidden)
	if !strings.Contains(string(r.Body), "manage_sites") {
		t.Errorf("body %s", r.Body)
	}
}

func TestAssetCrossTenant(t *testing.T) {
	h := newAssetHarness(t)
	c := h.create(t, h.owner, pngUpload(domain.AssetOrgLogo, ""))
	other := h.user("other")
	orgB := h.harness.org("Beta", other)
	pathB := "/api/v1/orgs/" + orgB + "/assets/" + c.Asset.ID
	for _, req := range []struct{ method, path string }{
		{"GET", pathB}, {"POST", pathB + "/confirm"}, {"DELETE", pathB},
		{"GET", h.path(c.Asset.ID)}, {"POST", h.path(c.Asset.ID) + "/confirm"}, {"DELETE", h.path(c.Asset.ID)},
		{"GET", "/api/v1/orgs/" + h.org + "/assets"},
		{"GET", "/api/v1/orgs/" + orgB + "/assets/not-a-uuid"},
	} {
		h.do(other, req.method, req.path, nil).must(t, http.StatusNotFound)
	}
	var list List[domain.Asset]
	h.exec(`UPDATE assets SET status = 'ready'`)
	h.do(other, "GET", "/api/v1/orgs/"+orgB+"/assets", nil).must(t, 200).JSON(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("another tenant's asset listed: %+v", list.Items)
	}
	h.do(h.owner, "GET", h.path(c.Asset.ID), nil).must(t, 200)
}

func TestAssetListPages(t *testing.T) {
	h := newAssetHarness(t)
	for i := 0; i < 5; i++ {
		h.exec(`INSERT INTO assets (organization_id, kind, entity_id, s3_key, content_type, size_bytes, status, created_at)
			VALUES ($1, 'unit_photo', $2, $3, 'image/png', 10, 'ready', now() - make_interval(mins => $4))`,
			h.org, h.unit.UnitID, h.org+"/unit_photo/"+h.unit.UnitID+"/"+strconv.Itoa(i)+".png", i)
	}
	var seen []string
	cursor := ""
	for page := 0; page < 3; page++ {
		var list List[domain.Asset]
		h.do(h.owner, "GET", "/api/v1/orgs/"+h.org+"/assets?limit=2&cursor="+cursor, nil).must(t, 200).JSON(t, &list)
		for _, a := range list.Items {
			seen = append(seen, a.ID)
			if len(seen) > 1 && a.CreatedAt.After(time.Now()) {
				t.Fatal("future asset")
			}
		}
		cursor = list.NextCursor
		if cursor == "" {
			break
		}
	}
	if len(seen) != 5 || cursor != "" {
		t.Fatalf("paged %d assets (cursor %q)", len(seen), cursor)
	}
	var newest string
	h.queryRow([]any{&newest}, `SELECT id FROM assets ORDER BY created_at DESC LIMIT 1`)
	if seen[0] != newest {
		t.Errorf("not newest first")
	}
}

func TestAssetStorageUnavailable(t *testing.T) {
	h := newAssetHarness(t)
	c := h.create(t, h.owner, pngUpload(domain.AssetUnitPhoto, h.unit.UnitID))
	h.exec(`INSERT INTO assets (organization_id, kind, s3_key, content_type, size_bytes, status)
		VALUES ($1, 'org_logo', $2, 'image/png', 10, 'ready')`, h.org, h.org+"/org_logo/org/ready.png")
	var readyID string
	h.queryRow([]any{&readyID}, `SELECT id FROM assets WHERE status = 'ready'`)

	h.srv.Files = objects.Open(config.Storage{Endpoint: "http://127.0.0.1:1", AccessKey: "a", SecretKey: "b", Region: "us-east-1"}, "assets")
	h.do(h.owner, "POST", h.path(c.Asset.ID)+"/confirm", nil).must(t, http.StatusServiceUnavailable)
	h.do(h.owner, "DELETE", h.path(c.Asset.ID), nil).must(t, http.StatusServiceUnavailable)
	h.do(h.owner, "GET", h.path(c.Asset.ID), nil).must(t, 200) // nothing to fetch from storage

	h.srv.Files = nil
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/orgs/" + h.org + "/assets", pngUpload(domain.AssetUnitPhoto, h.unit.UnitID)},
		{"POST", h.path(c.Asset.ID) + "/confirm", nil},
		{"DELETE", h.path(c.Asset.ID), nil},
		{"GET", h.path(readyID), nil},
	} {
		r := h.do(h.owner, req.method, req.path, req.body).must(t, http.StatusServiceUnavailable)
		if !strings.Contains(string(r.Body), "file storage is not configured") {
			t.Errorf("%s %s: %s", req.method, req.path, r.Body)
		}
	}
	// Listing needs only the database; validation still answers 400 first.
	h.do(h.owner, "GET", "/api/v1/orgs/"+h.org+"/assets", nil).must(t, 200)
	h.do(h.owner, "POST", "/api/v1/orgs/"+h.org+"/assets", map[string]any{"kind": "unit_photo", "entity_id": h.unit.UnitID, "content_type": "image/svg+xml", "size_bytes": 10}).must(t, 400)
	// Both files still exist as rows: nothing was deleted while storage was away.
	var n int
	h.queryRow([]any{&n}, `SELECT count(*) FROM assets`)
	if n != 2 {
		t.Fatalf("%d rows", n)
	}
}
