//! EHLO and HELO (RFC 5321 §4.1.1.1).

use super::reply::Reply;
use super::session::{Phase, Session};

impl<S: crate::tls::Transport> Session<S> {
    /// Greets the client and lists the extensions (EHLO). Resets any transaction.
    pub(super) fn ehlo(&mut self, host: String, extended: bool) -> Reply {
        if host.is_empty() {
            return Reply::new(501, "5.5.4", "Syntax: EHLO domain");
        }
        self.phase = Phase::Ready;
        let cfg = &self.ctx.config;
        let hello = format!("{} Hello {host} [{}]", cfg.general.host_name, self.peer.ip());
        self.helo = Some((host, extended));
        if !extended {
            return Reply::new(250, "2.0.0", hello);
        }
        let mut lines = vec![hello.into()];
        lines.push(match cfg.general.max_message_size {
            Some(max) => format!("SIZE {max}").into(),
            None => "SIZE".into(),
        });
        lines.push("8BITMIME".into());
        lines.push("PIPELINING".into());
        lines.push("ENHANCEDSTATUSCODES".into());
        lines.push("DSN".into());
        if self.ctx.tls.is_some() && !self.encrypted() {
            lines.push("STARTTLS".into());
        }
        if self.auth.is_none() && self.may_authenticate() {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        lines.push("HELP".into());
        Reply::plain(250, lines)
    }
}
