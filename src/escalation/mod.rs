//! What cannot be fixed goes to people: the escalation, its reasons, the quota it is about, and its
//! pages (`crate::notify` renders and sends them).

mod case;
mod page;
mod reason;
mod subject;

pub use crate::notify::{Notification, Notifier, NotifyError, Rendering, Route, Severity};
pub use case::Escalation;
pub use page::{escalation_page, resolution_page};
pub use reason::EscalationReason;
pub use subject::QuotaSubject;
