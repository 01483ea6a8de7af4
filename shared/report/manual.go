package report

// ManualEntry is a hand reading as the manual-entries report lists it.
type ManualEntry struct {
	ManualLog
	Date    string `json:"date"`
	InRange bool   `json:"in_range"`
}

// ManualEntriesUnit is one unit's hand readings, and the entries it
// missed (its missed_manual_entry alerts) when hand logs are required.
type ManualEntriesUnit struct {
	Unit    UnitInfo      `json:"unit"`
	Entries []ManualEntry `json:"entries"`
	Missed  []Alert       `json:"missed"`
}

// ManualEntryTotals count the report's entries.
type ManualEntryTotals struct {
	Entries    int `json:"entries"`
	OutOfRange int `json:"out_of_range"`
	Missed     int `json:"missed"`
}

// ManualEntries is the manual-entries report: every hand reading of the
// period with who took it, its notes and corrective action, and the
// entries that were due and not made.
type ManualEntries struct {
	Header
	Totals ManualEntryTotals   `json:"totals"`
	Units  []ManualEntriesUnit `json:"units"`
}

// MissedManualEntry is the alert type of an entry that was due and not made.
const MissedManualEntry = "missed_manual_entry"

// NewManualEntries derives the manual-entries report from a computed
// report.
func NewManualEntries(rep Report) ManualEntries {
	out := ManualEntries{Header: rep.header(KindManualEntries), Units: make([]ManualEntriesUnit, 0, len(rep.Units))}
	for _, ur := range rep.Units {
		u := ManualEntriesUnit{Unit: ur.Unit, Entries: []ManualEntry{}, Missed: []Alert{}}
		for _, d := range ur.Days {
			for _, l := range d.ManualLogs {
				e := ManualEntry{ManualLog: l, Date: d.Date, InRange: withinLimits(l.TemperatureC, ur.Unit)}
				u.Entries = append(u.Entries, e)
				out.Totals.Entries++
				if !e.InRange {
					out.Totals.OutOfRange++
				}
			}
			for _, a := range d.Alerts {
				if a.Type == MissedManualEntry {
					u.Missed = append(u.Missed, a)
					out.Totals.Missed++
				}
			}
		}
		out.Units = append(out.Units, u)
	}
	return out
}
