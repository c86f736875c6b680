//! What the texts depend on besides the page: where the runbooks are, and how much of an SMS is ours.

/// SMS parts are 140 bytes; one part is all we send.
pub const SMS_MAX_BYTES: usize = 140;
/// What SNS puts between a topic's display name and the text of an SMS sent through the topic: "Amazon
/// SNS prepends the display name followed by a right angle bracket (>) and a space" (SNS developer
/// guide, "Publishing to a topic", SMS).
const SMS_DISPLAY_NAME_SEPARATOR: &str = "> ";

/// What the texts depend on besides the page: where the runbooks are, and the topic's display name,
/// which SNS puts before every SMS.
pub struct Rendering<'a> {
    pub runbook_base_url: &'a str,
    /// The SNS topic's `DisplayName`; empty when it has none.
    pub topic_display_name: &'a str,
}

impl Rendering<'_> {
    /// Bytes left for our text in one SMS part once SNS has put the display name before it.
    pub fn sms_budget(&self) -> usize {
        let name = self.topic_display_name.trim();
        if name.is_empty() {
            return SMS_MAX_BYTES;
        }
        SMS_MAX_BYTES.saturating_sub(name.len() + SMS_DISPLAY_NAME_SEPARATOR.len())
    }

    /// A runbook's link.
    pub fn runbook(&self, name: &str) -> String {
        format!("{}/{name}.md", self.runbook_base_url.trim_end_matches('/'))
    }
}
