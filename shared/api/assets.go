package api

import (
	"crypto/rand"
	"encoding/hex"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// Uploads and downloads go straight between the browser and the private
// bucket through presigned URLs; the api only decides keys, signs, and
// checks what arrived.
func (s *Server) registerAssets(mux *http.ServeMux) {
	// The routes are open to staff and above (the lowest role that may upload
	// anything, a corrective-action photo); each handler then checks the
	// permission of the asset's kind (assetPermission).
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/assets", access.LogTemperatures, s.createAsset)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/assets/{assetId}/confirm", access.LogTemperatures, s.confirmAsset)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/assets", access.ReadOrganization, s.listAssets)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/assets/{assetId}", access.ReadOrganization, s.getAsset)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/assets/{assetId}", access.LogTemperatures, s.deleteAsset)
}

const (
	uploadTTL   = 15 * time.Minute
	downloadTTL = 5 * time.Minute
)

// assetPermission is what uploading, confirming or deleting an asset of a
// kind takes: the same as changing the thing it illustrates.
var assetPermission = map[domain.AssetKind]access.Permission{
	domain.AssetUnitPhoto:             access.ManageUnits,
	domain.AssetSiteFloorPlan:         access.ManageSites,
	domain.AssetCorrectiveActionPhoto: access.AcknowledgeAlerts,
	domain.AssetOrgLogo:               access.UpdateOrgSettings,
}

func canWriteAsset(m Member, k domain.AssetKind) error {
	p, ok := assetPermission[k]
	if !ok {
		return apperr.New(apperr.Internal, "no permission for asset kind %q", k)
	}
	if !m.Can(p) {
		return forbidden(p)
	}
	return nil
}

func (s *Server) files() (*objects.Bucket, error) {
	if s.Files == nil {
		return nil, apperr.New(apperr.Unavailable, "file storage is not configured")
	}
	return s.Files, nil
}

type assetInput struct {
	Kind        string  `json:"kind"`
	EntityID    *string `json:"entity_id"`
	ContentType string  `json:"content_type"`
	SizeBytes   *int64  `json:"size_bytes"`
}

func kindNames() string {
	names := make([]string, len(domain.AssetKinds))
	for i, k := range domain.AssetKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// validate fills a (kind, entity, type, size) from in. The kind comes
// first and alone: without it neither the permission nor the limits are
// known.
func (in assetInput) validate(a *domain.Asset) []apperr.FieldError {
	var fe []apperr.FieldError
	a.Kind = domain.AssetKind(in.Kind)
	if !a.Kind.Valid() {
		return append(fe, apperr.FieldError{Field: "kind", Message: "must be one of " + kindNames()})
	}
	switch {
	case !a.Kind.NeedsEntity():
		if in.EntityID != nil {
			fe = append(fe, apperr.FieldError{Field: "entity_id", Message: "must be omitted for " + in.Kind})
		}
	case in.EntityID == nil:
		fe = append(fe, apperr.FieldError{Field: "entity_id", Message: "is required for " + in.Kind})
	case !domain.IsUUID(*in.EntityID):
		fe = append(fe, apperr.FieldError{Field: "entity_id", Message: "must be a UUID"})
	default:
		id := strings.ToLower(*in.EntityID)
		a.EntityID = &id
	}
	a.ContentType = strings.ToLower(strings.TrimSpace(in.ContentType))
	if !a.Kind.AllowsContentType(a.ContentType) {
		allowed := "image/jpeg, image/png or image/webp"
		if a.Kind == domain.AssetSiteFloorPlan {
			allowed = "image/jpeg, image/png, image/webp or application/pdf"
		}
		fe = append(fe, apperr.FieldError{Field: "content_type", Message: "must be " + allowed + " for " + in.Kind})
	}
	limit := domain.MaxAssetBytes(a.ContentType)
	switch {
	case in.SizeBytes == nil:
		fe = append(fe, apperr.FieldError{Field: "size_bytes", Message: "is required"})
	case *in.SizeBytes < 1 || *in.SizeBytes > limit:
		fe = append(fe, apperr.FieldError{Field: "size_bytes", Message: "must be from 1 to " + strconv.FormatInt(limit, 10) + " (" + strconv.FormatInt(limit>>20, 10) + " MiB)"})
	default:
		a.SizeBytes = *in.SizeBytes
	}
	return fe
}

// assetKey is the object key: the organisation first (one prefix per
// tenant), then what it belongs to, then a random name nobody can guess.
func assetKey(orgID string, a domain.Asset) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	owner := "org"
	if a.EntityID != nil {
		owner = *a.EntityID
	}
	ext, _ := domain.AssetExtension(a.ContentType)
	return orgID + "/" + string(a.Kind) + "/" + owner + "/" + hex.EncodeToString(b) + "." + ext, nil
}

// uploadInstructions is the presigned PUT the browser sends the bytes with.
// Headers are the signed ones it must send unchanged (Content-Length is set
// by browsers from the body, which must therefore be exactly size_bytes).
type uploadInstructions struct {
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expires_at"`
}

type createdAsset struct {
	Asset  domain.Asset       `json:"asset"`
	Upload uploadInstructions `json:"upload"`
}

func (s *Server) createAsset(w http.ResponseWriter, r *http.Request, m Member) error {
	var in assetInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	var a domain.Asset
	fe := in.validate(&a)
	if a.Kind.Valid() {
		// The role decides before the details: a staff member asking for a
		// floor plan is told no, not how to fix the body.
		if err := canWriteAsset(m, a.Kind); err != nil {
			return err
		}
	}
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	if err := s.DB.CheckAssetEntity(r.Context(), m.OrgID, a.Kind, a.EntityID); err != nil {
		return err
	}
	files, err := s.files()
	if err != nil {
		return err
	}
	if a.Key, err = assetKey(m.OrgID, a); err != nil {
		return err
	}
	// Both the type and the length are signed: S3 refuses any other body.
	put, err := files.PresignPut(r.Context(), a.Key, a.ContentType, a.SizeBytes, uploadTTL)
	if err != nil {
		return err
	}
	a, err = s.DB.CreateAsset(r.Context(), m.OrgID, m.UserID, a)
	if err != nil {
		return err
	}
	up := uploadInstructions{URL: put.URL, Method: put.Method, Headers: map[string]string{}, ExpiresAt: put.Expires.UTC()}
	for k, v := range put.Headers {
		// Host comes from the URL; browsers refuse to set it anyway.
		if !strings.EqualFold(k, "Host") && len(v) > 0 {
			up.Headers[http.CanonicalHeaderKey(k)] = v[0]
		}
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+a.ID)
	web.JSON(w, http.StatusCreated, createdAsset{Asset: a, Upload: up})
	return nil
}

// assetForWrite loads an asset of the organisation and checks that m may
// change assets of its kind (404 before 403, as for any other row).
func (s *Server) assetForWrite(r *http.Request, m Member) (domain.Asset, error) {
	id, err := PathID(r, "assetId")
	if err != nil {
		return domain.Asset{}, err
	}
	a, err := s.DB.GetAsset(r.Context(), m.OrgID, id)
	if err != nil {
		return a, err
	}
	return a, canWriteAsset(m, a.Kind)
}

func sameMediaType(stored, declared string) bool {
	mt, _, err := mime.ParseMediaType(stored)
	return err == nil && strings.EqualFold(mt, declared)
}

func (s *Server) confirmAsset(w http.ResponseWriter, r *http.Request, m Member) error {
	a, err := s.assetForWrite(r, m)
	if err != nil {
		return err
	}
	files, err := s.files()
	if err != nil {
		return err
	}
	if a.Status == domain.AssetReady {
		web.JSON(w, http.StatusOK, a)
		return nil
	}
	obj, err := files.Stat(r.Context(), a.Key)
	if apperr.CodeOf(err) == apperr.NotFound {
		return apperr.New(apperr.Conflict, "upload not found: PUT the file to the upload URL first")
	}
	if err != nil {
		return err
	}
	if obj.Size != a.SizeBytes || !sameMediaType(obj.ContentType, a.ContentType) {
		// The signature should make this impossible; if another body got
		// there anyway it is not kept. The row stays pending so the upload
		// URL can be used again while it is valid.
		if err := files.Delete(r.Context(), a.Key); err != nil {
			return err
		}
		return apperr.New(apperr.Conflict, "the uploaded file is not the declared %s of %d bytes: upload it again", a.ContentType, a.SizeBytes)
	}
	a, err = s.DB.MarkAssetReady(r.Context(), m.OrgID, a.ID, obj.Size)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) listAssets(w http.ResponseWriter, r *http.Request, m Member) error {
	p, err := PageFrom(r)
	if err != nil {
		return err
	}
	f := store.AssetFilter{BeforeCreated: p.After.Time, BeforeID: p.After.ID, Limit: p.Limit + 1}
	kinds := make([]string, len(domain.AssetKinds))
	for i, k := range domain.AssetKinds {
		kinds[i] = string(k)
	}
	kind, err := QueryEnum(r, "kind", kinds...)
	if err != nil {
		return err
	}
	f.Kind = domain.AssetKind(kind)
	if f.EntityID, err = QueryUUID(r, "entity_id"); err != nil {
		return err
	}
	if f.UpdatedSince, err = QueryTime(r, "updated_since"); err != nil {
		return err
	}
	// An asset names a unit, a site, an alert or the organisation itself.
	if err := s.checkFilters(r.Context(), m.OrgID, idFilter{"entity_id", f.EntityID,
		[]string{store.EntityUnit, store.EntitySite, store.EntityAlert, store.EntityOrgRow}}); err != nil {
		return err
	}
	items, err := s.DB.ListAssets(r.Context(), m.OrgID, f)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(items, p.Limit, func(a domain.Asset) Cursor { return Cursor{Time: a.CreatedAt, ID: a.ID} }))
	return nil
}

type downloadLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// assetWithDownload is an asset and, once it is ready, a short-lived link.
type assetWithDownload struct {
	domain.Asset
	Download *downloadLink `json:"download"`
}

func (s *Server) getAsset(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "assetId")
	if err != nil {
		return err
	}
	a, err := s.DB.GetAsset(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	out := assetWithDownload{Asset: a}
	if a.Status == domain.AssetReady {
		files, err := s.files()
		if err != nil {
			return err
		}
		get, err := files.PresignGet(r.Context(), a.Key, downloadTTL)
		if err != nil {
			return err
		}
		out.Download = &downloadLink{URL: get.URL, ExpiresAt: get.Expires.UTC()}
	}
	web.JSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteAsset(w http.ResponseWriter, r *http.Request, m Member) error {
	a, err := s.assetForWrite(r, m)
	if err != nil {
		return err
	}
	files, err := s.files()
	if err != nil {
		return err
	}
	// The object first: a row without an object is harmless, an object
	// without a row would never be cleaned up.
	if err := files.Delete(r.Context(), a.Key); err != nil && apperr.CodeOf(err) != apperr.NotFound {
		return err
	}
	if err := s.DB.DeleteAsset(r.Context(), m.OrgID, a.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
