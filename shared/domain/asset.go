package domain

import (
	"slices"
	"time"
)

// AssetKind says what an uploaded file belongs to, and so which row
// entity_id names and who may upload it.
type AssetKind string

const (
	AssetUnitPhoto             AssetKind = "unit_photo"              // entity: a unit
	AssetSiteFloorPlan         AssetKind = "site_floor_plan"         // entity: a site
	AssetCorrectiveActionPhoto AssetKind = "corrective_action_photo" // entity: an alert
	AssetOrgLogo               AssetKind = "org_logo"                // no entity: the organisation
)

// AssetKinds lists every kind.
var AssetKinds = []AssetKind{AssetUnitPhoto, AssetSiteFloorPlan, AssetCorrectiveActionPhoto, AssetOrgLogo}

// Valid reports whether k is a known kind.
func (k AssetKind) Valid() bool { return slices.Contains(AssetKinds, k) }

// NeedsEntity reports whether an asset of this kind names a row of the
// organisation (everything but the logo).
func (k AssetKind) NeedsEntity() bool { return k.Valid() && k != AssetOrgLogo }

// AssetStatus is 'pending' from the presigned upload until the confirm step
// has seen the object, then 'ready'.
type AssetStatus string

const (
	AssetPending AssetStatus = "pending"
	AssetReady   AssetStatus = "ready"
)

// Upload limits. Photos from phones stay well under 5 MiB once the browser
// has resized them; floor plans as PDF can be larger.
const (
	MaxImageBytes int64 = 5 << 20
	MaxPDFBytes   int64 = 10 << 20
)

// assetTypes is the content-type allow-list with the file extension each
// gets. SVG is deliberately absent: it can carry script (stored XSS).
var assetTypes = map[string]string{
	"image/jpeg":      "jpg",
	"image/png":       "png",
	"image/webp":      "webp",
	"application/pdf": "pdf",
}

// AssetContentTypes lists the allowed content types.
var AssetContentTypes = []string{"image/jpeg", "image/png", "image/webp", "application/pdf"}

// AssetExtension is the file extension for an allowed content type.
func AssetExtension(contentType string) (string, bool) {
	ext, ok := assetTypes[contentType]
	return ext, ok
}

// AllowsContentType reports whether an asset of kind k may have the given
// content type: images for every kind, PDF only for floor plans (a logo or
// a photo that is a PDF would not display).
func (k AssetKind) AllowsContentType(contentType string) bool {
	if _, ok := assetTypes[contentType]; !ok {
		return false
	}
	return contentType != "application/pdf" || k == AssetSiteFloorPlan
}

// MaxAssetBytes is the size limit for a content type.
func MaxAssetBytes(contentType string) int64 {
	if contentType == "application/pdf" {
		return MaxPDFBytes
	}
	return MaxImageBytes
}

// Asset is a file in the private assets bucket (a row of assets). Its
// object key never leaves the server; clients get presigned URLs.
type Asset struct {
	ID          string      `json:"id"`
	Kind        AssetKind   `json:"kind"`
	EntityID    *string     `json:"entity_id"`
	ContentType string      `json:"content_type"`
	SizeBytes   int64       `json:"size_bytes"`
	Status      AssetStatus `json:"status"`
	CreatedBy   *string     `json:"created_by"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	Key         string      `json:"-"`
}
