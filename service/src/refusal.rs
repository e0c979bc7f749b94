//! What a defence answers when it refuses a message or a recipient: the three parts of
//! an SMTP reply, decided outside the SMTP session — by the mail checks (SPF, DMARC),
//! the content filter, the sending limits — and turned into the session's reply there.
//!
//! A leaf, so that the defences need nothing of the SMTP session that calls them.

use std::borrow::Cow;

/// A refusal: the reply's code, enhanced status (RFC 3463) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `550` (for good) or `451` (try again later).
    pub code: u16,
    /// `5.7.1`, `4.7.24`…
    pub status: &'static str,
    /// Why, for the sender.
    pub text: Cow<'static, str>,
}

impl Refusal {
    /// A refusal with `code`, `status` and `text`.
    pub fn new(code: u16, status: &'static str, text: impl Into<Cow<'static, str>>) -> Refusal {
        Refusal { code, status, text: text.into() }
    }

    /// True when the sender should not try again (5xx).
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.code, self.status, self.text)
    }
}
