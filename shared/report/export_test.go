package report

import "testing"

// SampleReport is the report the CSV test reads, for the PDF test (an
// external test: the pdf package imports this one).
func SampleReport(t *testing.T) Report { return sampleReport(t) }

// VariantsFixture is variantsFixture for the renderers' tests.
func VariantsFixture(t *testing.T) Report { return variantsFixture(t, Options{}) }
