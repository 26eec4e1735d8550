package bounce

import "strings"

// arf makes the event of an RFC 5965 feedback report: feedback type abuse
// is a complaint; other types (fraud, virus, not-spam, auth-failure…) are
// not applied, and the report is kept.
func (r report) arf(feedback []byte) Result {
	res := Result{Format: ARF}
	blocks := fields(feedback, 1)
	if len(blocks) == 0 {
		res.Reason = "the feedback report has no fields"
		return res
	}
	f := blocks[0]
	if t := strings.ToLower(strings.TrimSpace(f.Get("Feedback-Type"))); t != "abuse" {
		res.Reason = "feedback type " + shorten(t) + " is not applied: only abuse is a complaint"
		return res
	}
	// A feedback loop sends to its own address (fbl@ the bounce domain);
	// the report quotes herald's return path as Original-Mail-From.
	delivery, why := r.delivery(f.Get("Original-Mail-From"))
	if why != "" {
		res.Reason = why
		return res
	}
	// No Recipient: feedback loops redact the complainant's address
	// (Original-Rcpt-To, To), often by rewriting it, and a redacted one
	// would not match the delivery's. The verified reference names it.
	res.Events = []Event{{
		Kind:     Complaint,
		Delivery: delivery,
		At:       date(f.Get("Arrival-Date")),
		EventID:  r.id,
	}}
	return res
}
