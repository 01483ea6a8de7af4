package alerting

import "fmt"

// TestPage renders a test page a manager sends to prove a contact is
// reachable before an incident: clearly marked as a test on every channel
// (an SMS and an e-mail say TEST first; a call says it twice, then asks for
// key 1 to confirm), naming the organisation and the contact. subject is ""
// except for e-mail.
func TestPage(channel, orgName, contactName string) (subject, body string) {
	org, who := oneLine(orgName, 80), oneLine(contactName, 80)
	switch channel {
	case ChannelVoice:
		return "", VoiceTest(orgName)
	case ChannelEmail:
		return "[TEST] FrostGuard test page for " + who,
			fmt.Sprintf("TEST - this is not an alarm.\n\nThis is a test page from FrostGuard for %s, sent to %s to check that alarms reach them by e-mail.\nNo action is needed.\n", org, who)
	}
	return "", fmt.Sprintf("FrostGuard TEST for %s: this is not an alarm. It checks that alarms reach %s by SMS. No action needed.", org, who)
}
