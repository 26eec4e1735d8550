package mailer

import (
	"net/textproto"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// meaning is what a reply means for the delivery it answers.
type meaning struct {
	Temporary, Mailbox, Throttled, Relay bool
}

// TestClassifyReplies reads replies as relays write them (from their
// documented formats) at the step of the conversation where they come.
func TestClassifyReplies(t *testing.T) {
	t.Parallel()
	var (
		failed    = meaning{}
		mailbox   = meaning{Mailbox: true}
		retry     = meaning{Temporary: true}
		throttled = meaning{Temporary: true, Throttled: true}
		relay     = meaning{Temporary: true, Relay: true}
	)
	for _, tt := range []struct {
		name  string
		stage Stage
		code  int
		text  string
		want  meaning
	}{
		// Postfix
		{"PostfixUserUnknown", StageRcpt, 550, "5.1.1 <nobody@acme.test>: Recipient address rejected: User unknown in virtual mailbox table", mailbox},
		{"PostfixRelayDenied", StageRcpt, 554, "5.7.1 <ann@elsewhere.test>: Relay access denied", failed},
		{"PostfixGreylisted", StageRcpt, 450, "4.2.0 <ann@acme.test>: Recipient address rejected: Greylisted, see https://postgrey.test", retry},
		{"PostfixDataRestriction", StageData, 554, "5.7.1 <DATA>: Data command rejected: Improper use of SMTP command pipelining", failed},
		{"PostfixTooManyErrors", StageMail, 421, "4.7.0 mail.acme.test Error: too many errors", throttled},
		{"PostfixMailboxFull", StageMessage, 552, "5.2.2 <ann@acme.test>: mailbox full", failed},
		{"PostfixBadSyntax", StageRcpt, 501, "5.1.3 Bad recipient address syntax", mailbox},
		{"PostfixSenderDomainNotFound", StageMail, 550, "5.1.0 <noreply@example.com>: Sender address rejected: Domain not found", relay},
		{"PostfixSenderDomainUnresolved", StageMail, 553, "5.1.8 <noreply@example.com>: Sender address rejected: Domain not found", relay},
		{"PostfixSenderDomainLookupFailed", StageMail, 451, "4.1.8 <noreply@example.com>: Sender address rejected: Domain not found", retry},
		{"PostfixSenderNotOwned", StageMail, 553, "5.7.1 <noreply@example.com>: Sender address rejected: not owned by user herald", relay},
		{"PostfixSenderDomainNotFoundOnRcpt", StageRcpt, 550, "5.1.0 <noreply@example.com>: Sender address rejected: Domain not found", failed},
		{"PostfixRecipient510", StageRcpt, 550, "5.1.0 <nobody@acme.test>: Recipient address rejected: undeliverable address", mailbox},
		{"FromAddressRefusedOnRcpt", StageRcpt, 550, "5.1.0 From address not allowed for this account", failed},
		// Exim, which gives no enhanced code by default
		{"EximNoSuchUser", StageRcpt, 550, "No Such User Here", mailbox},
		{"EximUnrouteable", StageRcpt, 550, "Unrouteable address", failed},
		{"EximAdministrativeProhibition", StageRcpt, 550, "Administrative prohibition", failed},
		{"EximRateLimited", StageMail, 451, "ratelimit exceeded, please slow down", throttled},
		{"EximMailboxUnavailableOnData", StageMessage, 550, "Requested action not taken: mailbox unavailable", failed},
		{"EximLocalProblem", StageMessage, 451, "Temporary local problem - please try later", retry},
		// Gmail
		{"GmailDoesNotExist", StageRcpt, 550, "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address", mailbox},
		{"GmailDisabled", StageRcpt, 550, "5.2.1 The email account that you tried to reach is disabled.", mailbox},
		{"GmailUnauthenticated", StageMessage, 550, "5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users", failed},
		{"GmailOverQuota", StageRcpt, 452, "4.2.2 The email account that you tried to reach is over quota.", retry},
		{"GmailMailboxRate", StageRcpt, 450, "4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.", retry},
		{"GmailUnusualRate", StageMessage, 421, "4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your IP address.", throttled},
		// Outlook and Microsoft 365
		{"OutlookRecipientNotFound", StageRcpt, 550, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", mailbox},
		{"OutlookAccessDenied", StageRcpt, 550, "5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.", failed},
		{"OutlookSendAsDenied", StageMessage, 554, "5.2.252 SendAsDenied; updates@vendor.test not allowed to send as herald@vendor.test", failed},
		{"OutlookServerBusy", StageMessage, 451, "4.7.500 Server busy. Please try again later from [192.0.2.1]", throttled},
		{"Microsoft365NotAuthenticated", StageMail, 530, "5.7.57 Client not authenticated to send mail. [AM0PR01CA0001.eurprd01.prod.exchangelabs.com 2026-03-14T09:30:00.000Z 08DC0000000000]", relay},
		{"OutlookAuthDisabled", StageConnect, 535, "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.", relay},
		// Amazon SES
		{"SESMaximumRate", StageMessage, 454, "Throttling failure: Maximum sending rate exceeded.", throttled},
		{"SESDailyQuota", StageMessage, 454, "Throttling failure: Daily message quota exceeded.", throttled},
		{"SESNotVerified", StageMessage, 554, "Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: updates@vendor.test", failed},
		{"SESBadCredentials", StageConnect, 535, "Authentication Credentials Invalid", relay},
		{"SESTemporaryServiceFailure", StageMessage, 451, "Temporary service failure", retry},
		// Postmark
		{"PostmarkInactiveRecipient", StageMessage, 550, "Error (406): Inactive recipient", failed},
		{"PostmarkNoSenderSignature", StageMessage, 550, "Error (400): Sender signature not defined for From address", failed},
		{"PostmarkBadToken", StageConnect, 535, "5.7.8 Authentication failed", relay},
		// RFC 3463 and RFC 5321 in general
		{"NullMX", StageRcpt, 556, "5.1.10 Recipient address has null MX", mailbox},
		{"StartTLSRequired", StageConnect, 530, "5.7.0 Must issue a STARTTLS command first", relay},
		{"StartTLSRequiredAtMail", StageMail, 530, "5.7.0 Must issue a STARTTLS command first", relay},
		{"AuthRequiredAtRcpt", StageRcpt, 530, "5.7.0 Authentication required", relay},
		{"AuthFailedAfterMessage", StageMessage, 535, "5.7.8 Authentication credentials invalid", relay},
		{"SyntaxErrorAtMail", StageMail, 501, "5.1.7 Bad sender address syntax", relay},
		{"TooManyConnections", StageConnect, 421, "4.7.0 Too many concurrent SMTP connections", throttled},
		{"MailboxBusyWithoutCode", StageRcpt, 450, "mailbox busy", retry},
		{"MailboxQuotaExceededWithoutCode", StageRcpt, 452, "Mailbox quota exceeded", retry},
		{"MailboxQuotaExceededAfterMessage", StageMessage, 452, "Mailbox quota exceeded", retry},
		{"UnknownMailboxOnlyOnRcpt", StageMessage, 550, "No such user here", failed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := replyOf(&textproto.Error{Code: tt.code, Msg: tt.text})
			if !ok {
				t.Fatal("no reply found")
			}
			e := classify(tt.stage, r, nil)
			got := meaning{Temporary: e.Temporary, Mailbox: e.Mailbox, Throttled: e.Throttled, Relay: e.Relay}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%d %s at %s (-want +got):\n%s", tt.code, tt.text, tt.stage, diff)
			}
			if e.Code != tt.code {
				t.Errorf("code %d, want %d", e.Code, tt.code)
			}
		})
	}
}

func TestReplyOf(t *testing.T) {
	t.Parallel()
	r, ok := replyOf(&textproto.Error{Code: 550, Msg: "5.1.1 The email account does not exist.\n5.1.1 Please check the address."})
	if want := (Reply{Code: 550, Enhanced: "5.1.1", Text: "The email account does not exist.\n5.1.1 Please check the address."}); !ok || r != want {
		t.Errorf("replyOf = %+v, %v; want %+v", r, ok, want)
	}
	if r, ok := replyOf(&textproto.Error{Code: 550, Msg: "No such user here"}); !ok || r.Enhanced != "" || r.Text != "No such user here" {
		t.Errorf("replyOf without an enhanced code = %+v, %v", r, ok)
	}
}

// TestMailboxGone checks the classification bounces share with SMTP
// replies: by the status code when there is one, else by the words.
func TestMailboxGone(t *testing.T) {
	for _, c := range []struct {
		enhanced, text string
		want           bool
	}{
		{"5.1.1", "", true},
		{"5.1.10", "recipient address has null MX", true},
		{"5.2.1", "The email account that you tried to reach is disabled.", true},
		{"5.2.2", "mailbox full", false},
		{"5.7.1", "user unknown", false}, // the code says policy; the code wins
		{"5.1.0", "Sender address rejected: Domain not found", false},
		{"5.1.0", "Address rejected", true},
		{"", "550 5.1.1 <ann@acme.test>: Recipient address rejected: User unknown in local recipient table", true},
		{"", "No such user here", true},
		{"", "message too large", false},
		{"", "", false},
	} {
		if got := MailboxGone(c.enhanced, c.text); got != c.want {
			t.Errorf("MailboxGone(%q, %q) = %v, want %v", c.enhanced, c.text, got, c.want)
		}
	}
}
