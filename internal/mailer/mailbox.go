package mailer

// MailboxGone says that a permanent failure reported after the SMTP
// conversation (a delivery status notification, a sending service's bounce
// event) is about the recipient's mailbox, by the same tables as an SMTP
// reply: its RFC 3463 enhanced status code when it has one, else its text.
// A 5.1.0 that speaks of the sender is not one, as for a reply.
func MailboxGone(enhanced, text string) bool {
	if enhanced != "" {
		if enhanced == "5.1.0" && senderText.MatchString(text) {
			return false
		}
		return mailboxCodes[enhanced]
	}
	return mailboxText.MatchString(text)
}
