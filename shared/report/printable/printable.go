// Package printable renders a report's document as one self-contained HTML
// page laid out for printing (A4 landscape, a page per section, table
// headers repeated on every printed page). Like the PDF it is its own
// package: only the reports binary links it.
package printable

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/frostguard/functions/shared/report"
)

// page is the template: no script, no external resource (the answer's
// Content-Security-Policy forbids both), every value escaped by
// html/template.
var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"width": func(t report.Table, c report.Column) string {
		total := 0.0
		for _, x := range t.Columns {
			total += x.Width
		}
		if total == 0 {
			return "auto"
		}
		return fmt.Sprintf("%.2f%%", 100*c.Width/total)
	},
	"cell": func(cells []string, i int) string {
		if i < len(cells) {
			return cells[i]
		}
		return ""
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
@page { size: A4 landscape; margin: 12mm; }
body { font-family: Helvetica, Arial, sans-serif; font-size: 10pt; color: #111; margin: 0 auto; max-width: 270mm; }
header.doc { border-bottom: 1px solid #888; margin-bottom: 4mm; }
header.doc h1 { font-size: 13pt; margin: 0 0 1mm 0; }
header.doc p { font-size: 8pt; margin: 0 0 2mm 0; }
section { page-break-before: always; break-before: page; }
section:first-of-type { page-break-before: auto; break-before: auto; }
h2 { font-size: 12pt; margin: 4mm 0 2mm 0; }
h3 { font-size: 10pt; margin: 3mm 0 1mm 0; }
p { margin: 0 0 2mm 0; }
p.bold { font-weight: bold; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; font-size: 8pt; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
th { background: #e1e8f0; border: 1px solid #555; padding: 1mm; }
td { border: 1px solid #555; padding: 1mm; vertical-align: top; overflow-wrap: anywhere; }
td.num { text-align: right; }
tr.flag td { background: #fdecea; }
ul { font-size: 8pt; padding-left: 5mm; }
@media print { .noprint { display: none; } }
</style>
</head>
<body>
<header class="doc"><h1>{{.Title}}</h1><p>{{.Meta}}</p></header>
{{if not .Sections}}<p>{{.Empty}}</p>{{end}}
{{range .Sections}}<section>
<h2>{{.Heading}}</h2>
{{range .Paragraphs}}<p{{if .Bold}} class="bold"{{end}}>{{.Text}}</p>
{{end}}{{with .Table}}{{$t := .}}<table>
<colgroup>{{range .Columns}}<col style="width: {{width $t .}}">{{end}}</colgroup>
<thead><tr>{{range .Columns}}<th>{{.Title}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}{{$r := .}}<tr{{if .Flag}} class="flag"{{end}}>{{range $i, $c := $t.Columns}}<td{{if $c.Right}} class="num"{{end}}>{{cell $r.Cells $i}}</td>{{end}}</tr>
{{else}}<tr><td colspan="{{len .Columns}}">{{.Empty}}</td></tr>
{{end}}</tbody>
</table>
{{end}}{{if or .ListHeading .List}}<h3>{{.ListHeading}}</h3>
{{if .List}}<ul>
{{range .List}}<li>{{.}}</li>
{{end}}</ul>{{else}}<p>{{.ListEmpty}}</p>{{end}}
{{end}}</section>
{{end}}</body>
</html>
`))

// Render renders the document as an HTML page.
func Render(doc report.Document) ([]byte, error) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
