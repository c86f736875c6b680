//! What cannot be fixed goes to people: the escalation, its reasons, the messages, their route, and
//! the capability that sends them.

mod case;
mod message;
mod notifier;
mod reason;
mod route;
mod subject;

pub use case::Escalation;
pub use message::{
    render_escalation, render_request_news, render_resolution, Notification, Rendering, RequestNews,
};
pub use notifier::{Notifier, NotifyError};
pub use reason::EscalationReason;
pub use route::{Route, Severity};
pub use subject::QuotaSubject;
