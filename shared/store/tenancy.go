package store

import (
	"context"
	"fmt"
	"strings"
)

// Entity types an id query filter may name (the audit trail's names).
const (
	EntitySite    = "site"
	EntityArea    = "area"
	EntityUnit    = "unit"
	EntityAlert   = "alert"
	EntitySensor  = "sensor" // registered or not
	EntityContact = "contact"
	EntityUser    = "user"  // a member of the organisation, or an actor of its audit trail
	EntityAudit   = "audit" // any entity of the organisation, or one its audit trail names
	EntityOrgRow  = "organization"
)

// InOrganization reports whether id names a row of the organisation of one
// of the given entity types, soft-deleted rows included: the check every id
// filter of a list passes before the list runs, so that another
// organisation's id answers 404 like it does in a path.
func (db *DB) InOrganization(ctx context.Context, orgID, id string, entities ...string) (_ bool, err error) {
	defer wrap(&err, "store.InOrganization")
	var exists []string
	for _, e := range entities {
		switch e {
		case EntityOrgRow:
			exists = append(exists, `$1::uuid = $2::uuid`)
		case EntityUser:
			exists = append(exists, `EXISTS (SELECT 1 FROM memberships WHERE organization_id = $1 AND user_id = $2)`,
				`EXISTS (SELECT 1 FROM audit_log WHERE organization_id = $1 AND actor_user_id = $2)`)
		case EntityAudit:
			exists = append(exists, `$1::uuid = $2::uuid`, `EXISTS (SELECT 1 FROM audit_log WHERE organization_id = $1 AND entity_id = $2)`)
			for _, table := range auditTables {
				exists = append(exists, `EXISTS (SELECT 1 FROM `+table+` WHERE organization_id = $1 AND id = $2)`)
			}
		default:
			table, ok := auditTables[e]
			if !ok {
				return false, fmt.Errorf("unknown entity type %q", e)
			}
			exists = append(exists, `EXISTS (SELECT 1 FROM `+table+` WHERE organization_id = $1 AND id = $2)`)
		}
	}
	if len(exists) == 0 {
		return false, nil
	}
	var ok bool
	if err := db.pool.QueryRow(ctx, `SELECT `+strings.Join(exists, " OR "), orgID, id).Scan(&ok); err != nil {
		return false, Classify(err)
	}
	return ok, nil
}
