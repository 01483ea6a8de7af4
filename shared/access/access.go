// Package access is the one place that says who may do what in an
// organisation: the roles, their order and the permission matrix. It is
// pure; the api checks it server-side on every route.
package access

// Role is a member's role in one organisation.
type Role string

const (
	Owner     Role = "owner"
	Admin     Role = "admin"
	Manager   Role = "manager"
	Staff     Role = "staff"
	Viewer    Role = "viewer"
	Inspector Role = "inspector" // an auditor: reads everything, exports, writes nothing
)

// Roles lists every role, highest first.
var Roles = []Role{Owner, Admin, Manager, Staff, Viewer, Inspector}

var rank = map[Role]int{Owner: 5, Admin: 4, Manager: 3, Staff: 2, Viewer: 1, Inspector: 1}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := rank[r]; return ok }

// AtLeast reports whether r ranks at or above min. Inspector ranks with
// viewer: it never satisfies a write permission.
func (r Role) AtLeast(min Role) bool { return r.Valid() && rank[r] >= rank[min] }

// Permission is something a member may be allowed to do.
type Permission string

const (
	ReadOrganization  Permission = "read"               // every member
	ExportReports     Permission = "export_reports"     // every member, inspectors included
	ReadAuditLog      Permission = "read_audit_log"     // admins and inspectors
	UpdateOrgSettings Permission = "update_org"         // name, timezone, temperature unit
	ManageMembers     Permission = "manage_members"     // invite, change role, remove
	ManageSites       Permission = "manage_sites"       // sites and areas
	ManageUnits       Permission = "manage_units"       // units and their thresholds
	ManageSensors     Permission = "manage_sensors"     // register, assign, unassign
	ManageContacts    Permission = "manage_contacts"    // escalation contacts
	ManagePolicies    Permission = "manage_policies"    // notification policies
	AcknowledgeAlerts Permission = "acknowledge_alert"  // stops escalation
	ResolveAlerts     Permission = "resolve_alert"      // closes an alert with a note
	SilenceAlarms     Permission = "silence_alarms"     // snooze a unit's paging for a bounded window
	LogTemperatures   Permission = "log_temperature"    // manual temperature logs
	Annotate          Permission = "annotate"           // notes on a unit's chart (one's own; ManageUnits: anyone's)
	ManageBilling     Permission = "manage_billing"     // checkout and billing portal
	ManageIntegration Permission = "manage_integration" // TTN connection and its secret
	Offboard          Permission = "offboard"           // export everything, delete the organisation
	// ShareInspectorLinks: make, list and revoke the share links that let
	// an inspector without an account read reports of some sites.
	ShareInspectorLinks Permission = "share_inspector_links"
	// ManageAlertRules: the thresholds and timings the organisation or a
	// site sets for all its units (a unit's own rule is ManageUnits).
	ManageAlertRules Permission = "manage_alert_rules"
)

// matrix is the minimum role per permission. Inspector is handled apart.
var matrix = map[Permission]Role{
	Offboard:            Owner,
	ReadOrganization:    Viewer,
	ExportReports:       Viewer,
	ReadAuditLog:        Admin,
	UpdateOrgSettings:   Admin,
	ManageMembers:       Admin,
	ManageSites:         Admin,
	ManagePolicies:      Admin,
	ManageBilling:       Admin,
	ManageIntegration:   Admin,
	ShareInspectorLinks: Admin,
	ManageAlertRules:    Admin,
	ManageUnits:         Manager,
	ManageSensors:       Manager,
	ManageContacts:      Manager,
	ResolveAlerts:       Manager,
	SilenceAlarms:       Manager,
	AcknowledgeAlerts:   Staff,
	LogTemperatures:     Staff,
	Annotate:            Staff,
}

// inspectorMay is everything an inspector may do: read and export.
var inspectorMay = map[Permission]bool{ReadOrganization: true, ExportReports: true, ReadAuditLog: true}

// Can reports whether a member with role may do p.
func Can(role Role, p Permission) bool {
	if role == Inspector {
		return inspectorMay[p]
	}
	min, ok := matrix[p]
	return ok && role.AtLeast(min)
}

// CanSetRole reports whether actor may give target the role `to`, where
// target's current role is `from` ("" for a new invite). Nobody grants a
// role above their own, touches someone who outranks them, or (below owner)
// makes an owner; only members who may manage members assign roles at all.
// The last-owner rule needs the database and is checked there.
func CanSetRole(actor, from, to Role) bool {
	if !Can(actor, ManageMembers) || !to.Valid() {
		return false
	}
	if from != "" && !actor.AtLeast(from) {
		return false
	}
	if to == Owner || from == Owner {
		return actor == Owner
	}
	return actor.AtLeast(to)
}

// CanRemove reports whether actor may remove a member whose role is target
// (members may always leave themselves; that is checked by the caller).
func CanRemove(actor, target Role) bool {
	if !Can(actor, ManageMembers) {
		return false
	}
	if target == Owner {
		return actor == Owner
	}
	return actor.AtLeast(target)
}
