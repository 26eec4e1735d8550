package mailer

import (
	"errors"
	"net/textproto"
	"regexp"
	"strings"
)

// Stage is the step of the SMTP conversation a reply answers.
type Stage string

// Stages of a conversation.
const (
	StageConnect Stage = "connect" // dial, greeting, EHLO, STARTTLS, AUTH
	StageMail    Stage = "mail"    // MAIL FROM
	StageRcpt    Stage = "rcpt"    // RCPT TO
	StageData    Stage = "data"    // DATA, before the message
	StageMessage Stage = "message" // the message and its final "."
)

// Reply is an SMTP server's answer: its code, its RFC 3463 enhanced status
// code when it gave one, and its text.
type Reply struct {
	Code     int
	Enhanced string // "5.1.1"; empty when the reply has none
	Text     string
}

// enhancedCode is an RFC 3463 status code at the start of a reply's text.
var enhancedCode = regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})\b`)

// replyOf finds the server's reply in err, if err is one.
func replyOf(err error) (Reply, bool) {
	var tp *textproto.Error
	if !errors.As(err, &tp) {
		return Reply{}, false
	}
	r := Reply{Code: tp.Code, Text: strings.TrimSpace(tp.Msg)}
	// A multi-line reply repeats the code on each line; the first says it.
	if m := enhancedCode.FindString(r.Text); m != "" {
		r.Enhanced = m
		r.Text = strings.TrimSpace(strings.TrimPrefix(r.Text, m))
	}
	return r, true
}

// mailboxCodes are the RFC 3463 codes that say the recipient's mailbox does
// not exist or takes no mail: the only ones that suppress an address.
var mailboxCodes = map[string]bool{
	"5.1.0":  true, // other address status
	"5.1.1":  true, // bad destination mailbox address
	"5.1.3":  true, // bad destination mailbox address syntax
	"5.1.10": true, // recipient address has null MX (RFC 7505)
	"5.2.1":  true, // mailbox disabled, not accepting messages
}

// mailboxText says, for a reply without an enhanced code, that the mailbox
// does not exist, as Postfix, Exim, Sendmail and Exchange write it.
var mailboxText = regexp.MustCompile(`(?i)(unknown (user|recipient|mailbox)|user unknown|recipient unknown|no such (user|mailbox|recipient|address)|mailbox (does not|doesn't) exist|(user|address|recipient|account) (does not|doesn't) exist|does not exist|mailbox not found|mailbox unavailable: user|invalid (mailbox|recipient)|mailbox (is )?disabled|account (is |has been )?disabled)`)

// throttleText says a temporary reply asks the sender to slow down. Not
// "quota exceeded": without more, that is a recipient's full mailbox
// (SES's daily quota says "Throttling failure" too).
var throttleText = regexp.MustCompile(`(?i)(\brate\b|too many (messages|mails|emails|connections|requests|concurrent)|throttl|slow down|(server|system|too) busy)`)

// classify says what a reply means for the delivery it answers: whether it
// may work later, whether the recipient's mailbox is gone (suppress it),
// whether the relay asks to slow down, and whether the relay refuses the
// message whoever it is for.
func classify(stage Stage, r Reply, err error) *Error {
	e := &Error{Code: r.Code, Enhanced: r.Enhanced, Stage: stage, Err: err}
	switch {
	case r.Code >= 400 && r.Code < 500:
		e.Temporary = true
		e.Throttled = throttled(r)
	case r.Code == 530 || r.Code == 535, r.Code >= 500 && (stage == StageConnect || stage == StageMail):
		// Refused before any message (authentication, STARTTLS required),
		// or herald's sender refused: herald sends every message from the
		// same HERALD_FROM, so a refused MAIL FROM refuses them all. The
		// relay's configuration, not the message, and no recipient's.
		e.Relay, e.Temporary = true, true
	case r.Code >= 500:
		e.Mailbox = mailboxGone(stage, r)
	default:
		e.Temporary = true
	}
	return e
}

// throttled says a temporary reply is the relay slowing herald down: 421
// (the relay closing the connection, as it does at its limits), 454 4.7.0,
// and 450, 451 or 452 that say so. A reply about one mailbox (a 4.2.x such
// as Gmail's "receiving mail at a rate that prevents additional messages")
// is that recipient's, not the relay's.
func throttled(r Reply) bool {
	if strings.HasPrefix(r.Enhanced, "4.1.") || strings.HasPrefix(r.Enhanced, "4.2.") {
		return false
	}
	switch {
	case r.Code == 421:
		return true
	case r.Code == 454 && (r.Enhanced == "4.7.0" || throttleText.MatchString(r.Text)):
		return true
	case r.Code >= 450 && r.Code <= 452:
		return throttleText.MatchString(r.Text)
	}
	return strings.Contains(strings.ToLower(r.Text), "maximum sending rate exceeded")
}

// senderText says a reply speaks of the envelope sender, as Postfix's
// "Sender address rejected" (with 5.1.0, its code for a bad sender domain)
// and "From address" refusals do.
var senderText = regexp.MustCompile(`(?i)(sender|from address)`)

// idleText says a 421 hangs up on a connection left idle too long, as
// Postfix ("4.4.2 … Error: timeout exceeded") and others write it.
var idleText = regexp.MustCompile(`(?i)(time[- ]?out|timed out|idle)`)

// closedIdle says a connection broke for having been idle: with no reply
// (the server hung up without a word), or with a 421 that says so rather
// than asking herald to slow down.
func closedIdle(e *Error) bool {
	if e.Code == 0 {
		return true
	}
	r, ok := replyOf(e.Err)
	return ok && r.Code == 421 && (r.Enhanced == "4.4.2" || idleText.MatchString(r.Text))
}

// mailboxGone says a permanent reply is about the recipient's mailbox: by
// its enhanced code, or without one by a 550, 551 or 553 to RCPT whose text
// says the mailbox does not exist. A refusal of MAIL FROM is never one: it
// is about herald's sender, and taking it for the recipient's would
// suppress every address herald sends to.
func mailboxGone(stage Stage, r Reply) bool {
	if stage == StageMail {
		return false
	}
	if r.Enhanced != "" {
		return MailboxGone(r.Enhanced, r.Text)
	}
	switch r.Code {
	case 550, 551, 553:
		return stage == StageRcpt && MailboxGone("", r.Text)
	}
	return false
}

// MailboxGone says a permanent failure means the recipient's mailbox does
// not exist or takes no mail: by its RFC 3463 status code (enhanced, such
// as "5.1.1") when it has one, else by its text as Postfix, Exim, Sendmail
// and Exchange write it. SMTP replies and the bounces that come back later
// are classified alike, so that both suppress the same addresses. A 5.1.0
// that speaks of the sender is about herald's address, not the
// recipient's.
func MailboxGone(enhanced, text string) bool {
	if enhanced != "" {
		if enhanced == "5.1.0" && senderText.MatchString(text) {
			return false
		}
		return mailboxCodes[enhanced]
	}
	return mailboxText.MatchString(text)
}
