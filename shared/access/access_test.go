package access

import "testing"

// The whole matrix, written out: a change to who may do what must change
// this table too.
func TestMatrix(t *testing.T) {
	allowed := map[Permission][]Role{
		Offboard:            {Owner},
		ReadOrganization:    {Owner, Admin, Manager, Staff, Viewer, Inspector},
		ExportReports:       {Owner, Admin, Manager, Staff, Viewer, Inspector},
		ReadAuditLog:        {Owner, Admin, Inspector},
		UpdateOrgSettings:   {Owner, Admin},
		ManageMembers:       {Owner, Admin},
		ManageSites:         {Owner, Admin},
		ManagePolicies:      {Owner, Admin},
		ManageBilling:       {Owner, Admin},
		ManageIntegration:   {Owner, Admin},
		ShareInspectorLinks: {Owner, Admin},
		ManageAlertRules:    {Owner, Admin},
		ManageUnits:         {Owner, Admin, Manager},
		ManageSensors:       {Owner, Admin, Manager},
		ManageContacts:      {Owner, Admin, Manager},
		ResolveAlerts:       {Owner, Admin, Manager},
		SilenceAlarms:       {Owner, Admin, Manager},
		AcknowledgeAlerts:   {Owner, Admin, Manager, Staff},
		LogTemperatures:     {Owner, Admin, Manager, Staff},
		Annotate:            {Owner, Admin, Manager, Staff},
	}
	if len(allowed) != len(matrix) {
		t.Fatalf("the test covers %d permissions, the matrix has %d", len(allowed), len(matrix))
	}
	for p, roles := range allowed {
		want := map[Role]bool{}
		for _, r := range roles {
			want[r] = true
		}
		for _, r := range Roles {
			if got := Can(r, p); got != want[r] {
				t.Errorf("Can(%s, %s) = %v", r, p, got)
			}
		}
	}
	if Can("superuser", ReadOrganization) || Can(Owner, "unknown") {
		t.Error("unknown roles and permissions must be denied")
	}
}

func TestCanSetRole(t *testing.T) {
	cases := []struct {
		actor, from, to Role
		ok              bool
	}{
		{Owner, "", Owner, true},
		{Owner, Admin, Owner, true},
		{Owner, Owner, Admin, true}, // the last-owner rule is the database's
		{Admin, "", Admin, true},
		{Admin, "", Owner, false},     // nobody grants above their role
		{Admin, Owner, Viewer, false}, // nor touches someone who outranks them
		{Admin, Manager, Inspector, true},
		{Manager, "", Staff, false}, // managers do not manage members
		{Viewer, "", Viewer, false},
		{Inspector, "", Viewer, false},
		{Admin, "", "root", false},
	}
	for _, c := range cases {
		if got := CanSetRole(c.actor, c.from, c.to); got != c.ok {
			t.Errorf("CanSetRole(%s, %q -> %s) = %v", c.actor, c.from, c.to, got)
		}
	}
}

func TestCanRemove(t *testing.T) {
	if !CanRemove(Owner, Owner) || CanRemove(Admin, Owner) || !CanRemove(Admin, Admin) || CanRemove(Manager, Viewer) {
		t.Error("removal rules")
	}
}
