package api

import "testing"

// liveScreenProcedures are the fresh-staged SPA's procedures of the
// "Dashboard & widgets", "Sites / areas / units", "Unit detail: readings &
// logs" and "Alerts" sections of reference/spa-calls.md (issue 19's done
// criterion), with the profile write, sensor restore and gateway edit that
// issue also covers.
var liveScreenProcedures = []string{
	// Dashboard & widgets
	"organizations.stats", "dashboardLayouts.list", "dashboardLayouts.create", "dashboardLayouts.update",
	"dashboardLayouts.remove", "dashboardLayouts.setDefault",
	// Sites / areas / units
	"sites.list", "sites.get", "sites.create", "sites.update", "sites.delete", "sites.restore", "sites.permanentlyDelete",
	"areas.list", "areas.listWithUnitCount", "areas.get", "areas.create", "areas.update", "areas.delete", "areas.restore",
	"areas.permanentlyDelete",
	"units.list", "units.listByOrg", "units.get", "units.create", "units.update", "units.delete", "units.restore",
	"units.permanentlyDelete",
	// Unit detail: readings & logs
	"readings.list", "readings.latest", "readings.listDoorEvents", "readings.listManual", "readings.createManual",
	"readings.logManualTemperature", "readings.listEventLogs", "readings.createEventLog", "readings.deleteEventLog",
	// Alerts
	"alerts.list", "alerts.listByOrg", "alerts.get", "alerts.acknowledge", "alerts.resolve",
	// Also in issue 19
	"users.updateProfile", "ttnDevices.restore", "ttnGateways.update",
}

// TestSPALiveScreenProceduresHaveARoute: every procedure of those sections
// is named by the x-spa extension of a documented (hence served) route.
func TestSPALiveScreenProceduresHaveARoute(t *testing.T) {
	served := map[string]bool{}
	for _, op := range documented(t) {
		for _, proc := range op.SPA {
			served[proc] = true
		}
	}
	for _, proc := range liveScreenProcedures {
		if !served[proc] {
			t.Errorf("%s: no route names it in x-spa", proc)
		}
	}
}
