package bounce

import "strings"

// dsn makes the events of an RFC 3464 delivery status notification: one
// per recipient block whose action is failed (a hard or soft bounce, by
// its status class) or delayed; delivered, relayed and expanded need none.
func (r report) dsn(status []byte) Result {
	res := Result{Format: DSN}
	blocks := fields(status, maxRecipients+1)
	if len(blocks) < 2 {
		res.Reason = "the delivery status names no recipient"
		return res
	}
	perMessage, recipients := blocks[0], blocks[1:]
	var failed []Event
	var actions []string
	for _, b := range recipients {
		action := strings.ToLower(strings.TrimSpace(b.Get("Action")))
		// A comment may follow the action ("failed (bad address)").
		action, _, _ = strings.Cut(action, " ")
		actions = append(actions, action)
		e := Event{
			Recipient:  cmpOr(address(b.Get("Original-Recipient")), address(b.Get("Final-Recipient"))),
			Code:       statusCode(b.Get("Status")),
			Diagnostic: Diagnostic(typed(b.Get("Diagnostic-Code"))),
			At:         date(cmpOr(b.Get("Last-Attempt-Date"), perMessage.Get("Arrival-Date"))),
		}
		switch action {
		case "failed":
			e.Kind, e.Mailbox = failure(e.Code, e.Diagnostic)
		case "delayed":
			e.Kind = Delay
		default:
			continue
		}
		failed = append(failed, e)
	}
	if len(failed) == 0 {
		res.Reason = "the notification reports no failure or delay (action " + shorten(strings.Join(actions, ", ")) + ")"
		return res
	}
	delivery, why := r.delivery()
	if why != "" {
		res.Reason = why
		return res
	}
	for i, e := range failed {
		e.Delivery = delivery
		e.EventID = indexed(r.id, i, len(failed))
		res.Events = append(res.Events, e)
	}
	return res
}

// cmpOr returns the first of its arguments that is not empty.
func cmpOr(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
