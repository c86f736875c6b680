//! One path for every page: features build a neutral [`Page`]; one renderer per channel (SMS, email,
//! paging tools' JSON) turns every kind into its text ([`render`]); [`page`] claims the cooldown and
//! publishes through the [`Notifier`] (SNS) on the page's [`Route`].

mod email;
mod notifier;
mod page;
mod pager;
mod pager_json;
mod render;
mod rendering;
mod route;
mod sms;

pub use email::SUBJECT_MAX_CHARS;
pub use notifier::{Notifier, NotifyError};
pub use page::{EventAction, Page, PageKind};
pub use pager::{page, send, Cooldown, Paged};
pub use render::{render, Notification};
pub use rendering::{Rendering, SMS_MAX_BYTES};
pub use route::{Route, Severity};
