package originimport

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Severity says what a problem does to an organisation's import.
type Severity string

const (
	// Blocking: the organisation is not imported (the dry run lists it; fix
	// it in the origin and run again).
	Blocking Severity = "error"
	// Changed: imported with the change the message states.
	Changed Severity = "warning"
	// Noted: imported as is; worth knowing.
	Noted Severity = "info"
)

// Problem is one finding about the origin's data.
type Problem struct {
	Severity Severity `json:"severity"`
	// Code is stable (docs/MIGRATION.md lists them): thresholds_impossible,
	// duplicate_dev_eui, orphan, ...
	Code    string `json:"code"`
	Table   string `json:"table"`        // the origin table
	ID      string `json:"id,omitempty"` // the origin row
	Message string `json:"message"`
	// Rows counts the rows a problem stands for when one line speaks for
	// many (readings).
	Rows int64 `json:"rows,omitempty"`
}

// Report is what a run prints and writes (the -report file, and
// origin_imports.report for each organisation).
type Report struct {
	Origin        string      `json:"origin"`
	DryRun        bool        `json:"dry_run"`
	StartedAt     time.Time   `json:"started_at"`
	FinishedAt    time.Time   `json:"finished_at"`
	Organizations []OrgReport `json:"organizations"`
	// Global are findings about rows that belong to no organisation.
	Global []Problem `json:"global_problems,omitempty"`
}

// OrgReport is one organisation's run.
type OrgReport struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Status: imported (its first complete run: now live), updated (a later
	// run into a live organisation), resumed-and-imported, would-import (dry
	// run), blocked (an error problem), skipped (soft-deleted in the
	// origin), failed (an error stopped the run; run again to resume).
	Status   string         `json:"status"`
	Error    string         `json:"error,omitempty"`
	Tables   []TableReport  `json:"tables"`
	Readings ReadingsReport `json:"readings"`
	Problems []Problem      `json:"problems"`
}

// TableReport balances one origin table against ours: Origin rows read,
// Ours rows of the organisation in our table after the run, and every
// difference with its reason. Balanced is Origin - skipped + added == Ours.
type TableReport struct {
	Origin    string       `json:"origin_table"`
	Ours      string       `json:"our_table"`
	OriginRow int64        `json:"origin_rows"`
	OursRows  int64        `json:"our_rows"`
	Inserted  int64        `json:"inserted"`
	Updated   int64        `json:"updated"`
	Diffs     []Difference `json:"differences,omitempty"`
	Balanced  bool         `json:"balanced"`
}

// Difference is one line explaining rows that are on one side only.
type Difference struct {
	Rows   int64  `json:"rows"` // negative: origin rows not in ours; positive: ours beyond the origin's
	Reason string `json:"reason"`
}

// ReadingsReport is the bulk copy's figures.
type ReadingsReport struct {
	Copied     int64   `json:"copied"`
	Seconds    float64 `json:"seconds"`
	RowsPerSec float64 `json:"rows_per_second"`
	// Scales counts the normalisation verdicts ("celsius by range": n).
	Scales map[string]int64 `json:"scales"`
	// OutsidePartitions counts readings in a month we keep no partition
	// for (more than ten years back or ahead): they land in
	// sensor_readings_default.
	OutsidePartitions int64 `json:"outside_partitions"`
	// CaughtUp counts rows the origin received after the copy had passed
	// them (the delta).
	CaughtUp int64 `json:"caught_up"`
	// Months are the (unit, month) pairs whose counts differ after the run.
	Months []MonthDiff `json:"month_differences,omitempty"`
}

// MonthDiff is one unit's month whose counts differ.
type MonthDiff struct {
	UnitID string `json:"unit_id"`
	Month  string `json:"month"`
	Origin int64  `json:"origin"`
	Ours   int64  `json:"ours"`
}

// table returns the organisation's line for an origin table, creating it.
func (r *OrgReport) table(origin, ours string) *TableReport {
	for i := range r.Tables {
		if r.Tables[i].Origin == origin && r.Tables[i].Ours == ours {
			return &r.Tables[i]
		}
	}
	r.Tables = append(r.Tables, TableReport{Origin: origin, Ours: ours})
	return &r.Tables[len(r.Tables)-1]
}

// diff adds rows to the line's reason (merging equal reasons).
func (t *TableReport) diff(rows int64, reason string) {
	if rows == 0 {
		return
	}
	for i := range t.Diffs {
		if t.Diffs[i].Reason == reason {
			t.Diffs[i].Rows += rows
			return
		}
	}
	t.Diffs = append(t.Diffs, Difference{Rows: rows, Reason: reason})
}

func (t *TableReport) balance() {
	want := t.OriginRow
	for _, d := range t.Diffs {
		want += d.Rows
	}
	t.Balanced = want == t.OursRows
}

// add records a problem.
func (r *OrgReport) add(p Problem) { r.Problems = append(r.Problems, p) }

// blocked reports whether an error problem stops the organisation.
func (r *OrgReport) blocked() bool {
	for _, p := range r.Problems {
		if p.Severity == Blocking {
			return true
		}
	}
	return false
}

// Failed reports whether any organisation was blocked or failed.
func (r *Report) Failed() bool {
	for _, o := range r.Organizations {
		if o.Status == "blocked" || o.Status == "failed" {
			return true
		}
	}
	return false
}

// Print writes the human summary of the report.
func (r *Report) Print(w io.Writer) {
	mode := "import"
	if r.DryRun {
		mode = "dry run (nothing written)"
	}
	fmt.Fprintf(w, "origin %s: %s, %d organisation(s), %s\n", r.Origin, mode, len(r.Organizations), r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	for _, p := range r.Global {
		fmt.Fprintf(w, "  %-7s %s %s: %s\n", p.Severity, p.Code, p.Table, p.Message)
	}
	for _, o := range r.Organizations {
		fmt.Fprintf(w, "\n%s %s: %s", o.ID, o.Name, o.Status)
		if o.Error != "" {
			fmt.Fprintf(w, " (%s)", o.Error)
		}
		fmt.Fprintln(w)
		for _, t := range o.Tables {
			mark := "ok"
			if !t.Balanced {
				mark = "UNBALANCED"
			}
			fmt.Fprintf(w, "  %-26s -> %-24s origin %8d  ours %8d  %s\n", t.Origin, t.Ours, t.OriginRow, t.OursRows, mark)
			for _, d := range t.Diffs {
				fmt.Fprintf(w, "      %+8d  %s\n", d.Rows, d.Reason)
			}
		}
		rr := o.Readings
		if rr.Copied > 0 || len(rr.Scales) > 0 {
			fmt.Fprintf(w, "  readings: %d copied in %.1f s (%.0f rows/s), %d caught up, %d outside partitions\n",
				rr.Copied, rr.Seconds, rr.RowsPerSec, rr.CaughtUp, rr.OutsidePartitions)
			keys := make([]string, 0, len(rr.Scales))
			for k := range rr.Scales {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(w, "      %8d  %s\n", rr.Scales[k], k)
			}
		}
		for _, p := range o.Problems {
			rows := ""
			if p.Rows > 0 {
				rows = fmt.Sprintf(" (%d rows)", p.Rows)
			}
			id := ""
			if p.ID != "" {
				id = " " + p.ID
			}
			fmt.Fprintf(w, "  %-7s %s %s%s: %s%s\n", p.Severity, p.Code, p.Table, id, strings.TrimSpace(p.Message), rows)
		}
	}
}
