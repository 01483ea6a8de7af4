package report_test

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	pdfreader "github.com/ledongthuc/pdf"

	"github.com/frostguard/functions/shared/report"
	"github.com/frostguard/functions/shared/report/pdf"
)

func TestPDF(t *testing.T) {
	rep := report.SampleReport(t)
	b, err := pdf.Render(rep, pdf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b[:20])
	}
	text := PDFText(t, b)
	for _, want := range []string{"Dairy Cooler", "Café Central", "8.25", "Alice Martin", "moved stock to freezer 2"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	if n := PDFPageCount(t, b); n < 1 {
		t.Errorf("%d pages", n)
	}
}

// PDFText extracts a PDF's text (all pages).
func PDFText(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdfreader.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the PDF does not open: %v", err)
	}
	var sb strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		rows, err := p.GetTextByRow()
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		for _, row := range rows {
			for _, w := range row.Content {
				sb.WriteString(w.S)
			}
			sb.WriteString("\n")
		}
	}
	return sb.String()
}

var pagesCount = regexp.MustCompile(`/Type /Pages\s*/Kids \[[^\]]*\]\s*/Count (\d+)`)

// PDFPageCount reads the page tree's count, and checks the reader agrees.
func PDFPageCount(t *testing.T, b []byte) int {
	t.Helper()
	r, err := pdfreader.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the PDF does not open: %v", err)
	}
	if m := pagesCount.FindSubmatch(b); m != nil {
		if n, _ := strconv.Atoi(string(m[1])); n != r.NumPage() {
			t.Errorf("/Count %d, reader %d", n, r.NumPage())
		}
	}
	return r.NumPage()
}

func TestVariantPDFs(t *testing.T) {
	rep := report.VariantsFixture(t)
	wants := map[report.Kind][]string{
		report.KindHACCP:         {"HACCP temperature compliance report", "Core temperature checked: 4.5 °C"},
		report.KindDailyLog:      {"Daily temperature log", "Sam", "moved to walk-in", "no data"},
		report.KindExceptions:    {"Exceptions report", "Food discarded", "none recorded", "out of range, logged by Sam"},
		report.KindManualEntries: {"Manual temperature entries", "Manual log overdue", "7.00"},
	}
	for _, k := range report.Kinds {
		b, err := pdf.RenderDocument(report.NewVariant(k, rep, report.Options{}).Document(), pdf.Options{})
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		text := PDFText(t, b)
		for _, want := range wants[k] {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the PDF's text lacks %q", k, want)
			}
		}
	}
}
