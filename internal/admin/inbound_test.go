package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/dbtest"
)

// TestKeptInbound lists the inbound mail kept for staff, pages through
// it, and downloads one as the message it was.
func TestKeptInbound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		raw := "From: Ann <ann@acme.test>\r\nSubject: Re: Jira 9.4\r\n\r\n<script>alert(1)</script>\r\n"
		var ids []int64
		for i := range 3 {
			id, err := b.Kept().Keep(ctx, bounce.KeptMessage{MailFrom: "ann@acme.test", RcptTo: "postmaster@bounces.vendor.test",
				Format: bounce.Unknown, Reason: fmt.Sprint("reason ", i), Raw: []byte(raw)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}

		type keptJSON struct {
			ID       int64  `json:"id"`
			MailFrom string `json:"mail_from"`
			RcptTo   string `json:"rcpt_to"`
			Size     int    `json:"size"`
			Format   string `json:"format"`
			Reason   string `json:"reason"`
		}
		type listJSON struct {
			Items []keptJSON `json:"items"`
			Next  *string    `json:"next"`
		}
		first := decodeInto[listJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/inbound/kept?limit=2"}))
		if len(first.Items) != 2 || first.Next == nil || first.Items[0].ID != ids[2] || first.Items[0].Reason != "reason 2" ||
			first.Items[0].Size != len(raw) || first.Items[0].Format != "unknown" || first.Items[0].RcptTo != "postmaster@bounces.vendor.test" {
			t.Fatalf("first page %+v, want the two newest", first)
		}
		rest := decodeInto[listJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/inbound/kept?limit=2&after=" + *first.Next}))
		if len(rest.Items) != 1 || rest.Next != nil || rest.Items[0].ID != ids[0] {
			t.Fatalf("second page %+v, want the oldest, last", rest)
		}

		res := b.mustDo(t, http.StatusOK, request{method: "GET", path: fmt.Sprintf("/api/v1/inbound/kept/%d", ids[0])})
		if string(res.body) != raw || res.header.Get("Content-Type") != "message/rfc822" || res.header.Get("Content-Disposition") == "" {
			t.Errorf("GET kept = %q as %s (%s), want the raw message as an attachment", res.body, res.header.Get("Content-Type"), res.header.Get("Content-Disposition"))
		}
		for _, path := range []string{"/api/v1/inbound/kept/999999", "/api/v1/inbound/kept/x", "/api/v1/inbound/kept/0"} {
			b.mustDo(t, http.StatusNotFound, request{method: "GET", path: path})
		}
		b.mustDo(t, http.StatusBadRequest, request{method: "GET", path: "/api/v1/inbound/kept?status=x"})
		none := ""
		b.mustDo(t, http.StatusUnauthorized, request{method: "GET", path: "/api/v1/inbound/kept", token: &none})
	})
}
