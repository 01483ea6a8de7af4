// Package printable renders a report's document as one self-contained HTML
// page laid out for printing (A4 landscape, a page per section, table
// headers repeated on every printed page). Like the PDF it is its own
// package: only the reports binary links it.
//
// The page is written directly, every value escaped (html.EscapeString),
// rather than through html/template: the templates' reflection (method
// lookup by name) keeps every exported method of the binary alive, which
// cost the reports function 3 MB of its size budget.
package printable

import (
	"fmt"
	"html"
	"strings"

	"github.com/frostguard/functions/shared/report"
)

// style is the page's only styling: no script, no external resource (the
// answer's Content-Security-Policy forbids both).
const style = `<style>
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
</style>`

// Render renders the document as an HTML page.
func Render(doc report.Document) ([]byte, error) {
	var b strings.Builder
	esc := html.EscapeString
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n%s\n</head>\n<body>\n", esc(doc.Title), style)
	fmt.Fprintf(&b, "<header class=\"doc\"><h1>%s</h1><p>%s</p></header>\n", esc(doc.Title), esc(doc.Meta))
	if len(doc.Sections) == 0 {
		fmt.Fprintf(&b, "<p>%s</p>\n", esc(doc.Empty))
	}
	for _, sec := range doc.Sections {
		fmt.Fprintf(&b, "<section>\n<h2>%s</h2>\n", esc(sec.Heading))
		for _, p := range sec.Paragraphs {
			class := ""
			if p.Bold {
				class = ` class="bold"`
			}
			fmt.Fprintf(&b, "<p%s>%s</p>\n", class, esc(p.Text))
		}
		if t := sec.Table; t != nil {
			writeTable(&b, *t)
		}
		if sec.ListHeading != "" || len(sec.List) > 0 {
			fmt.Fprintf(&b, "<h3>%s</h3>\n", esc(sec.ListHeading))
			if len(sec.List) == 0 {
				fmt.Fprintf(&b, "<p>%s</p>\n", esc(sec.ListEmpty))
			} else {
				b.WriteString("<ul>\n")
				for _, item := range sec.List {
					fmt.Fprintf(&b, "<li>%s</li>\n", esc(item))
				}
				b.WriteString("</ul>\n")
			}
		}
		b.WriteString("</section>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return []byte(b.String()), nil
}

// writeTable writes a table: its columns' widths as proportions of the
// PDF's millimetres, the header (repeated on every printed page), the rows
// (flagged ones shaded) or the table's Empty line.
func writeTable(b *strings.Builder, t report.Table) {
	total := 0.0
	for _, c := range t.Columns {
		total += c.Width
	}
	b.WriteString("<table>\n<colgroup>")
	for _, c := range t.Columns {
		width := "auto"
		if total != 0 {
			width = fmt.Sprintf("%.2f%%", 100*c.Width/total)
		}
		fmt.Fprintf(b, `<col style="width: %s">`, width)
	}
	b.WriteString("</colgroup>\n<thead><tr>")
	for _, c := range t.Columns {
		fmt.Fprintf(b, "<th>%s</th>", html.EscapeString(c.Title))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, r := range t.Rows {
		if r.Flag {
			b.WriteString(`<tr class="flag">`)
		} else {
			b.WriteString("<tr>")
		}
		for i, c := range t.Columns {
			cell := ""
			if i < len(r.Cells) {
				cell = r.Cells[i]
			}
			if c.Right {
				fmt.Fprintf(b, `<td class="num">%s</td>`, html.EscapeString(cell))
			} else {
				fmt.Fprintf(b, "<td>%s</td>", html.EscapeString(cell))
			}
		}
		b.WriteString("</tr>\n")
	}
	if len(t.Rows) == 0 {
		fmt.Fprintf(b, "<tr><td colspan=\"%d\">%s</td></tr>\n", len(t.Columns), html.EscapeString(t.Empty))
	}
	b.WriteString("</tbody>\n</table>\n")
}
