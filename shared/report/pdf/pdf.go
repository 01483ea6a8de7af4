// Package pdf renders reports as PDF. It is its own package so that only
// the binary that serves reports links the PDF library: shared/store
// imports the report types, and with them every function would carry it.
package pdf

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/go-pdf/fpdf"

	"github.com/frostguard/functions/shared/report"
)

// Options tune the rendering (tests turn compression off to read the
// page content as text).
type Options struct {
	NoCompression bool
}

// Render renders the HACCP report: a page per unit with its summary, the
// daily table and the period's events (excursions, gaps, alerts with their
// notes and corrective actions, manual logs).
func Render(rep report.Report, o Options) ([]byte, error) {
	return RenderDocument(rep.Document(), o)
}

// RenderDocument renders any report variant's document on A4 landscape: a
// page per section, the title and meta line on every page, table headers
// repeated after a page break, flagged rows shaded. Times are as the
// document gives them (local to each unit). The core fonts cover
// Windows-1252: other characters print as "?".
func RenderDocument(doc report.Document, o Options) ([]byte, error) {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCompression(!o.NoCompression)
	// resources in a fixed order: the same report renders the same bytes
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(doc.GeneratedAt)
	pdf.SetModificationDate(doc.GeneratedAt)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetTitle(tr(doc.Title), false)
	pdf.SetAuthor("FrostGuard", false)
	pdf.SetAutoPageBreak(true, 15)
	pdf.AliasNbPages("")
	pdf.SetHeaderFunc(func() {
		pdf.SetFont("Helvetica", "B", 9)
		pdf.CellFormat(0, 5, tr(doc.Title), "", 1, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 8)
		pdf.CellFormat(0, 4, tr(doc.Meta), "B", 1, "L", false, 0, "")
		pdf.Ln(2)
	})
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "I", 8)
		pdf.CellFormat(0, 5, fmt.Sprintf("Page %d/{nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
	})
	if len(doc.Sections) == 0 {
		pdf.AddPage()
		pdf.SetFont("Helvetica", "", 10)
		pdf.CellFormat(0, 6, tr(doc.Empty), "", 1, "L", false, 0, "")
	}
	for _, s := range doc.Sections {
		section(pdf, tr, s)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func section(pdf *fpdf.Fpdf, tr func(string) string, s report.Section) {
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 13)
	pdf.CellFormat(0, 7, tr(s.Heading), "", 1, "L", false, 0, "")
	for _, p := range s.Paragraphs {
		style := ""
		if p.Bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 9)
		pdf.MultiCell(0, 5, tr(p.Text), "", "L", false)
	}
	pdf.Ln(2)
	if s.Table != nil {
		table(pdf, tr, *s.Table)
	}
	if s.ListHeading == "" && len(s.List) == 0 {
		return
	}
	pdf.Ln(3)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(0, 6, tr(s.ListHeading), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 8)
	if len(s.List) == 0 {
		pdf.CellFormat(0, 5, tr(s.ListEmpty), "", 1, "L", false, 0, "")
	}
	for _, line := range s.List {
		pdf.MultiCell(0, 4.5, tr(line), "", "L", false)
	}
}

// lineHeight is a table row's line height (mm).
const lineHeight = 4.5

func table(pdf *fpdf.Fpdf, tr func(string) string, t report.Table) {
	header := func() {
		pdf.SetFont("Helvetica", "B", 8)
		pdf.SetFillColor(225, 232, 240)
		for _, c := range t.Columns {
			pdf.CellFormat(c.Width, 6, tr(c.Title), "1", 0, "C", true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont("Helvetica", "", 8)
	}
	header()
	if len(t.Rows) == 0 && t.Empty != "" {
		pdf.CellFormat(0, 5, tr(t.Empty), "", 1, "L", false, 0, "")
		return
	}
	_, pageH := pdf.GetPageSize()
	for _, r := range t.Rows {
		// a row is as tall as its longest wrapped cell
		lines := 1
		cells := make([][]string, len(t.Columns))
		for i, c := range t.Columns {
			text := ""
			if i < len(r.Cells) {
				text = r.Cells[i]
			}
			cells[i] = wrap(pdf, tr, text, c.Width-2)
			lines = max(lines, len(cells[i]))
		}
		h := float64(lines) * lineHeight
		if pdf.GetY()+h > pageH-15 {
			pdf.AddPage()
			header()
		}
		if r.Flag {
			pdf.SetFillColor(253, 236, 234)
		}
		x, y := pdf.GetXY()
		for i, c := range t.Columns {
			align := "L"
			if c.Right {
				align = "R"
			}
			pdf.Rect(x, y, c.Width, h, styleOf(r.Flag))
			for j, line := range cells[i] {
				pdf.SetXY(x, y+float64(j)*lineHeight)
				pdf.CellFormat(c.Width, lineHeight, line, "", 0, align, false, 0, "")
			}
			x += c.Width
		}
		pdf.SetXY(leftMargin(pdf), y+h)
	}
}

// styleOf draws a cell's border, filled when the row is flagged.
func styleOf(flag bool) string {
	if flag {
		return "FD"
	}
	return "D"
}

func leftMargin(pdf *fpdf.Fpdf) float64 {
	l, _, _, _ := pdf.GetMargins()
	return l
}

// wrap breaks UTF-8 text into lines no wider than width in the current
// font, at spaces (a word wider than a line is cut), and translates each
// line for the core fonts. fpdf's SplitText reads widths by rune and would
// index past its table on translated (Windows-1252) bytes.
func wrap(pdf *fpdf.Fpdf, tr func(string) string, text string, width float64) []string {
	fits := func(s string) bool { return pdf.GetStringWidth(tr(s)) <= width }
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			cand := word
			if line != "" {
				cand = line + " " + word
			}
			if fits(cand) {
				line = cand
				continue
			}
			if line != "" {
				lines = append(lines, tr(line))
			}
			// a word wider than the line is cut where it must be
			for !fits(word) {
				runes := []rune(word)
				n := len(runes) - 1
				for n > 1 && !fits(string(runes[:n])) {
					n--
				}
				lines = append(lines, tr(string(runes[:n])))
				word = string(runes[n:])
			}
			line = word
		}
		lines = append(lines, tr(line))
	}
	return lines
}
