package console

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/heraldhq/herald/contacts"
)

// maxCSV bounds an uploaded contacts file, as the API does.
const maxCSV = 32 << 20

// exportCSV downloads every license's contacts as the CSV that import
// takes.
func (c *Console) exportCSV(v *visit) error {
	// Buffered, so that a database error is an error page and not a
	// truncated file.
	var buf bytes.Buffer
	cw := contacts.NewCSVWriter(&buf)
	if err := c.Contacts.Export(v.ctx(), cw.Write); err != nil {
		return err
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	v.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	v.w.Header().Set("Content-Disposition", `attachment; filename="herald-contacts.csv"`)
	v.w.Header().Set("Cache-Control", "no-store")
	_, err := v.w.Write(buf.Bytes())
	return err
}

type importView struct {
	CSRF     string
	Problems *contacts.ImportError
	Result   *contacts.ImportResult
	File     string
}

func (c *Console) importPage(v *visit) error {
	return c.render(v, http.StatusOK, pageImport, "Import contacts", "import", importView{CSRF: c.csrf(v)})
}

// importCSV applies a contacts file all or nothing: a file with any bad
// line changes nothing, and the page lists the lines and what is wrong.
func (c *Console) importCSV(v *visit) error {
	f, hdr, err := v.r.FormFile("file")
	if err != nil {
		v.flash = &webFlash{Kind: "error", Text: "file: choose a CSV file to import."}
		return c.render(v, http.StatusBadRequest, pageImport, "Import contacts", "import", importView{CSRF: c.csrf(v)})
	}
	defer f.Close()
	view := importView{CSRF: c.csrf(v), File: hdr.Filename}
	rows, err := contacts.ReadCSV(f)
	var problems *contacts.ImportError
	if errors.As(err, &problems) {
		view.Problems = problems
		v.flash = &webFlash{Kind: "error", Text: "Nothing was imported: the file has bad lines, listed below."}
		return c.render(v, http.StatusBadRequest, pageImport, "Import contacts", "import", view)
	}
	if err != nil {
		return err
	}
	res, err := c.Contacts.Import(v.ctx(), v.actor(), rows)
	if err != nil {
		return c.importRefused(v, view, err)
	}
	c.Logger.Info("console: contacts imported", "by", v.me.Email, "rows", len(rows))
	view.Result = &res
	v.flash = &webFlash{Kind: "ok", Text: "Imported " + hdr.Filename + "."}
	return c.render(v, http.StatusOK, pageImport, "Import contacts", "import", view)
}

// importRefused shows why the store refused a whole file (its rules over
// the rows together), changing nothing.
func (c *Console) importRefused(v *visit, view importView, err error) error {
	var problems *contacts.ImportError
	if errors.As(err, &problems) {
		view.Problems = problems
		v.flash = &webFlash{Kind: "error", Text: "Nothing was imported: the file has bad lines, listed below."}
		return c.render(v, http.StatusBadRequest, pageImport, "Import contacts", "import", view)
	}
	return c.refusalOn(v, pageImport, "Import contacts", view, err)
}
