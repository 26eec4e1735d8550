package bounce

import (
	"net/mail"
	"regexp"
	"strings"

	"github.com/heraldhq/herald/internal/mailer"
)

// Bounces written for people: their sender, their subject, and the words
// in their body.
var (
	daemonSender   = regexp.MustCompile(`(?i)^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@`)
	bounceSubject  = regexp.MustCompile(`(?i)(undeliver|undelivered|delivery (status notification|failure|has failed|failed)|mail delivery (failed|failure|subsystem)|failure notice|returned mail|could not be delivered|delivery problem|non[- ]?delivery|delayed mail|warning: message)`)
	bounceWords    = regexp.MustCompile(`(?i)(this message was created automatically by mail delivery software|delivery to the following recipients? failed|i'm afraid i wasn't able to deliver|could not be delivered to|message could not be delivered|permanent (fatal )?errors?|this is a permanent error|undeliverable|delivery has failed|the following addresses? had permanent fatal errors|mail delivery failed|your message (was not|wasn't|could not be) delivered)`)
	delayWords     = regexp.MustCompile(`(?i)(has not yet been delivered|not been delivered yet|will (continue|keep) (trying|to try)|still (be )?trying|delivery (is )?delayed|delayed delivery|this is (only )?a warning)`)
	permanentWords = regexp.MustCompile(`(?i)(permanent(ly)?|fatal|gave up|giving up|has failed|failed permanently)`)
	// smtpReply is an SMTP reply quoted in a bounce: a 4xx or 5xx code,
	// maybe followed by a status code.
	smtpReply = regexp.MustCompile(`(?m)\b([45][0-5][0-9])[ -]((?:[45]\.\d{1,3}\.\d{1,3})?.*)$`)
	// quotedStart is where a bounce begins quoting the original: a
	// separator line that says so, or the first header field.
	quotedStart = regexp.MustCompile(`(?im)^[ \t]*(-{2,}[^\n]*(copy of|original message|returned message|below this line|message header)|(Return-Path|Received|DKIM-Signature|Message-ID|From|Subject|Date|MIME-Version|Content-Type):[ \t])`)
	// failedAddress finds the address a bounce is about, as qmail
	// ("<ann@acme.test>:"), Exim ("following address(es) failed:") and
	// Gmail ("following recipient failed permanently:") write it.
	failedAddress = regexp.MustCompile(`(?im)(?:^<([^<>\s@]+@[^<>\s]+)>:[ \t]*$|following (?:address\(es\)|addresses|address) failed:\s*\n\s*<?([^<>\s@]+@[^<>\s:]+)>?|following recipients? failed permanently:\s*\n\s*<?([^<>\s@]+@[^<>\s:]+)>?)`)
)

// isTextBounce says a message that is no report is a bounce written for
// people: from a mailer daemon, or with a bounce's subject or words.
func isTextBounce(h mail.Header, text []byte) bool {
	if from, err := mail.ParseAddress(h.Get("From")); err == nil && daemonSender.MatchString(from.Address) {
		return true
	}
	return bounceSubject.MatchString(h.Get("Subject")) || bounceWords.Match(text)
}

// text makes the event of a bounce written for people: the status code
// or SMTP reply it quotes says hard or soft, its words a delay; its
// Message-ID is in the original headers it quotes (or the return path it
// was sent to).
func (r report) text(body []byte) Result {
	res := Result{Format: Text}
	if r.original == nil {
		// The original headers are quoted in the text itself.
		r.original = body
	}
	delivery, why := r.delivery()
	if why != "" {
		res.Reason = why
		return res
	}
	// Only what comes before the quoted original is the bounce's own:
	// the original's subject may hold anything, a version number too.
	own := string(body)
	if i := quotedStart.FindStringIndex(own); i != nil {
		own = own[:i[0]]
	}
	e := Event{Delivery: delivery, EventID: r.id}
	reply := smtpReply.FindStringSubmatch(own)
	if m := enhanced.FindString(own); m != "" {
		e.Code = m
	}
	if reply != nil {
		e.Diagnostic = Diagnostic(reply[0])
	}
	switch {
	case e.Code != "" && e.Code[0] == '5', e.Code == "" && reply != nil && reply[1][0] == '5':
		e.Kind, e.Mailbox = failure(e.Code, cmpOr(e.Diagnostic, own))
	case delayWords.MatchString(own) && !permanentWords.MatchString(own):
		e.Kind = Delay
	case e.Code != "" || reply != nil:
		e.Kind = Soft // a 4xx the sender gave up on
	default:
		// No code at all: a failure notice says only that it failed, and
		// its words say whether the mailbox is gone.
		e.Kind, e.Mailbox = Hard, mailer.MailboxGone("", own)
	}
	if m := failedAddress.FindStringSubmatch(own); m != nil {
		e.Recipient = strings.ToLower(cmpOr(m[1], m[2], m[3]))
	}
	res.Events = []Event{e}
	return res
}
