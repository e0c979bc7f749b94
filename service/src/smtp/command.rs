//! SMTP command parsing, apart from any I/O.
//!
//! MAIL, RCPT, EHLO and HELO with their ESMTP parameters are parsed by `smtp-proto`
//! (the parser Stalwart uses). This module adds what Mailroom needs around it:
//! AUTH with its mechanism name, the parameters Mailroom does not advertise refused,
//! and errors mapped to reply codes. Input is one complete line including its CRLF;
//! line length limits are enforced by the caller, which owns the buffer.

use smtp_proto::{
    MAIL_BODY_7BIT, MAIL_BODY_8BITMIME, MAIL_RET_FULL, MAIL_RET_HDRS, RCPT_NOTIFY_DELAY, RCPT_NOTIFY_FAILURE,
    RCPT_NOTIFY_NEVER, RCPT_NOTIFY_SUCCESS,
};

use mailroom_shared::address::LiteralAddress;

use super::reply::Reply;

/// The body type declared with `MAIL … BODY=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Not declared, or `7BIT`.
    SevenBit,
    /// `8BITMIME` (RFC 6152).
    EightBitMime,
}

/// DSN `RET=` (RFC 3461): how much of the message an NDR returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    /// The whole message.
    Full,
    /// Only the headers.
    Headers,
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `EHLO domain`.
    Ehlo(String),
    /// `HELO domain`.
    Helo(String),
    /// `MAIL FROM:<…>`.
    Mail {
        /// The reverse path; empty for the null sender `<>`.
        from: String,
        /// `SIZE=`, if given.
        size: Option<u64>,
        /// `BODY=`.
        body: Body,
        /// DSN `RET=`.
        ret: Option<Ret>,
        /// DSN `ENVID=`.
        envid: Option<String>,
    },
    /// `RCPT TO:<…>`.
    Rcpt {
        /// The forward path; empty for `<Postmaster>`. Without a source route; with
        /// [`RoutingSyntax::ExtraAt`], the path as given (it is not an address).
        to: String,
        /// DSN `NOTIFY=` as a comma list (`SUCCESS,FAILURE`), if given.
        notify: Option<String>,
        /// DSN `ORCPT=` as `rfc822;address`, if given.
        orcpt: Option<String>,
        /// Routing syntax in the path as given, if any.
        routing: Option<RoutingSyntax>,
    },
    /// `DATA`.
    Data,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `HELP`.
    Help,
    /// `VRFY`.
    Vrfy,
    /// `EXPN`.
    Expn,
    /// `AUTH mechanism [initial-response]`.
    Auth {
        /// Upper-cased mechanism name.
        mechanism: String,
        /// The initial response, if given (`=` for an empty one).
        initial: Option<String>,
    },
    /// `STARTTLS`.
    StartTls,
    /// A command this server knows but does not offer (BDAT, ETRN, …).
    NotImplemented(&'static str),
}

/// An address form that routes mail by itself. Relay attacks use these to get a
/// remote recipient past a check made on the domain after the last `@`; Mailroom
/// never interprets them, and refuses them from clients that may not relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingSyntax {
    /// `<@hop.test:user@domain>` (RFC 5321 §4.1.1.3, obsolete).
    SourceRoute,
    /// `user%remote.test@domain`.
    PercentHack,
    /// `remote.test!user@domain` (UUCP).
    BangPath,
    /// `"user@remote.test"@domain`: routing characters inside a quoted local part.
    QuotedRouting,
    /// `user@remote.test@domain`: more than one `@`.
    ExtraAt,
}

impl RoutingSyntax {
    /// What it is, for a reply.
    pub fn describe(self) -> &'static str {
        match self {
            RoutingSyntax::SourceRoute => "a source route",
            RoutingSyntax::PercentHack => "a '%' route",
            RoutingSyntax::BangPath => "a '!' (UUCP) route",
            RoutingSyntax::QuotedRouting => "routing characters in a quoted local part",
            RoutingSyntax::ExtraAt => "more than one '@'",
        }
    }
}

/// The routing syntax in a forward path as written between `<` and `>`, if any.
pub fn routing_syntax(path: &str) -> Option<RoutingSyntax> {
    if path.starts_with('@') {
        return Some(RoutingSyntax::SourceRoute);
    }
    // The '@'s outside quotes, and the quoted parts' contents.
    let (mut ats, mut quoted_routing, mut in_quotes, mut escaped) = (Vec::new(), false, false, false);
    for (i, c) in path.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '@' | '%' | '!' if in_quotes => quoted_routing = true,
            '@' => ats.push(i),
            _ => {}
        }
    }
    if quoted_routing {
        return Some(RoutingSyntax::QuotedRouting);
    }
    if ats.len() > 1 {
        return Some(RoutingSyntax::ExtraAt);
    }
    let local = ats.first().map_or(path, |&i| &path[..i]);
    if local.contains('%') {
        Some(RoutingSyntax::PercentHack)
    } else if local.contains('!') {
        Some(RoutingSyntax::BangPath)
    } else {
        None
    }
}

/// The forward path of a `RCPT TO:` line as written, without the angle brackets.
fn raw_forward_path(line: &[u8]) -> Option<&str> {
    raw_path(line, "RCPT TO:")
}

/// The path after `verb` (`MAIL FROM:` or `RCPT TO:`) as written, without the angle
/// brackets.
fn raw_path<'a>(line: &'a [u8], verb: &str) -> Option<&'a str> {
    let text = std::str::from_utf8(line).ok()?;
    let rest =
        text.get(..verb.len()).filter(|v| v.eq_ignore_ascii_case(verb)).map(|_| text[verb.len()..].trim_start())?;
    let rest = rest.strip_prefix('<')?;
    let (mut in_quotes, mut escaped) = (false, false);
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '>' if !in_quotes => return Some(&rest[..i]),
            _ => {}
        }
    }
    None
}

/// What stands in for an address literal while smtp-proto reads a line: a domain that
/// cannot be anyone's (RFC 2606 `.invalid`).
const LITERAL_STAND_IN: &str = "address-literal.invalid";

/// The address literal of a `MAIL FROM:` or `RCPT TO:` path (`user@[192.0.2.1]`,
/// `user@[IPv6:2001:db8::1]`), if it has one: the address as it will be kept, and
/// where the literal (brackets included) is in the line.
///
/// # Errors
/// `501` when the brackets hold something other than an IPv4 or IPv6 address.
fn address_literal(line: &[u8]) -> Result<Option<(LiteralAddress, std::ops::Range<usize>)>, Reply> {
    let (path, status, what) = match (raw_path(line, "MAIL FROM:"), raw_path(line, "RCPT TO:")) {
        (Some(path), _) => (path, "5.1.7", "sender"),
        (_, Some(path)) => (path, "5.1.3", "recipient"),
        _ => return Ok(None),
    };
    let Some((_, domain)) = path.rsplit_once('@') else { return Ok(None) };
    if !domain.starts_with('[') || routing_syntax(path).is_some() {
        return Ok(None);
    }
    let address = LiteralAddress::parse(path)
        .map_err(|e| Reply::new(501, status, format!("Bad {what} address syntax: <{path}> {e}")))?;
    // `path` borrows from `line`, so its place there is where its domain starts.
    let start = domain.as_ptr() as usize - line.as_ptr() as usize;
    Ok(Some((address, start..start + domain.len())))
}

/// True for lines that start with `AUTH` (which have a longer length limit).
pub fn is_auth(line: &[u8]) -> bool {
    line.len() >= 5 && line[..4].eq_ignore_ascii_case(b"AUTH") && line[4] == b' '
}

/// Parses one command line (CRLF included).
///
/// # Errors
/// The reply to send: `500` unknown command, `501` bad syntax, `555` unsupported
/// parameter.
pub fn parse(line: &[u8]) -> Result<Command, Reply> {
    // RFC 5321 §2.3.8: commands are text, and NUL is not text. Refused before any
    // parser can read a name or an address that ends where a C library would cut it.
    if line.contains(&0) {
        return Err(Reply::new(501, "5.5.2", "Syntax error: NUL characters are not allowed in commands"));
    }
    if is_auth(line) {
        return parse_auth(line);
    }
    let routing = raw_forward_path(line).and_then(routing_syntax);
    // smtp-proto takes no address literal (`user@[192.0.2.1]`): it reads the line with
    // a stand-in domain in its place, and the literal goes back into the address.
    let literal = address_literal(line)?;
    let stand_in;
    let line = match &literal {
        Some((_, range)) => {
            stand_in = [&line[..range.start], LITERAL_STAND_IN.as_bytes(), &line[range.end..]].concat();
            &stand_in[..]
        }
        None => line,
    };
    let restore = |address: String| match &literal {
        Some((written, _)) if address.ends_with(LITERAL_STAND_IN) => written.to_string(),
        _ => address,
    };
    let mut iter = line.iter();
    match smtp_proto::Request::parse(&mut iter) {
        Ok(req) => from_request(req).map(|c| match c {
            Command::Rcpt { to, notify, orcpt, .. } => Command::Rcpt { to: restore(to), notify, orcpt, routing },
            Command::Mail { from, size, body, ret, envid } => {
                Command::Mail { from: restore(from), size, body, ret, envid }
            }
            other => other,
        }),
        // Not an address at all; whether that is a syntax error or a relay attempt
        // depends on the client, which the session knows.
        Err(smtp_proto::Error::InvalidRecipientAddress) if routing == Some(RoutingSyntax::ExtraAt) => {
            let to = raw_forward_path(line).unwrap_or_default().to_owned();
            Ok(Command::Rcpt { to, notify: None, orcpt: None, routing })
        }
        Err(e) => Err(match e {
            smtp_proto::Error::UnknownCommand | smtp_proto::Error::NeedsMoreData { .. } => {
                Reply::new(500, "5.5.2", "Command not recognized")
            }
            smtp_proto::Error::InvalidSenderAddress => Reply::new(501, "5.1.7", "Bad sender address syntax"),
            smtp_proto::Error::InvalidRecipientAddress => Reply::new(501, "5.1.3", "Bad recipient address syntax"),
            smtp_proto::Error::SyntaxError { syntax } => Reply::new(501, "5.5.4", format!("Syntax: {syntax}")),
            smtp_proto::Error::InvalidParameter { param } => {
                Reply::new(501, "5.5.4", format!("Invalid value for parameter {param}"))
            }
            smtp_proto::Error::UnsupportedParameter { param } => {
                Reply::new(555, "5.5.4", format!("Unsupported parameter {param}"))
            }
            smtp_proto::Error::ResponseTooLong | smtp_proto::Error::InvalidResponse { .. } => {
                Reply::new(500, "5.5.2", "Command not recognized")
            }
        }),
    }
}

fn from_request(req: smtp_proto::Request<std::borrow::Cow<'_, str>>) -> Result<Command, Reply> {
    use smtp_proto::Request as R;
    Ok(match req {
        R::Ehlo { host } => Command::Ehlo(host.into_owned()),
        R::Helo { host } => Command::Helo(host.into_owned()),
        R::Lhlo { .. } => return Err(Reply::new(500, "5.5.2", "Command not recognized")),
        R::Mail { from } => {
            let supported = MAIL_BODY_7BIT | MAIL_BODY_8BITMIME | MAIL_RET_FULL | MAIL_RET_HDRS;
            if from.flags & !supported != 0 || from.trans_id.is_some() || from.mtrk.is_some() || from.by != 0 {
                return Err(Reply::new(555, "5.5.4", "Unsupported MAIL parameter"));
            }
            if from.hold_for != 0 || from.hold_until != 0 || from.mt_priority != 0 || from.solicit.is_some() {
                return Err(Reply::new(555, "5.5.4", "Unsupported MAIL parameter"));
            }
            let ret = match (from.flags & MAIL_RET_FULL != 0, from.flags & MAIL_RET_HDRS != 0) {
                (true, false) => Some(Ret::Full),
                (false, true) => Some(Ret::Headers),
                (false, false) => None,
                (true, true) => return Err(Reply::new(501, "5.5.4", "RET given twice")),
            };
            Command::Mail {
                from: from.address.into_owned(),
                size: (from.size > 0).then_some(from.size as u64),
                body: if from.flags & MAIL_BODY_8BITMIME != 0 { Body::EightBitMime } else { Body::SevenBit },
                ret,
                envid: from.env_id.map(|e| e.into_owned()),
            }
        }
        R::Rcpt { to } => {
            let known = RCPT_NOTIFY_SUCCESS | RCPT_NOTIFY_FAILURE | RCPT_NOTIFY_DELAY | RCPT_NOTIFY_NEVER;
            if to.flags & !known != 0 || to.rrvs != 0 {
                return Err(Reply::new(555, "5.5.4", "Unsupported RCPT parameter"));
            }
            if to.flags & RCPT_NOTIFY_NEVER != 0 && to.flags & (known & !RCPT_NOTIFY_NEVER) != 0 {
                return Err(Reply::new(501, "5.5.4", "NOTIFY=NEVER cannot be combined with other values"));
            }
            let names = [
                (RCPT_NOTIFY_SUCCESS, "SUCCESS"),
                (RCPT_NOTIFY_FAILURE, "FAILURE"),
                (RCPT_NOTIFY_DELAY, "DELAY"),
                (RCPT_NOTIFY_NEVER, "NEVER"),
            ];
            let notify: Vec<&str> = names.iter().filter(|(f, _)| to.flags & f != 0).map(|(_, n)| *n).collect();
            Command::Rcpt {
                to: to.address.into_owned(),
                notify: (!notify.is_empty()).then(|| notify.join(",")),
                // smtp-proto keeps the address of `ORCPT=rfc822;addr`, not its type.
                orcpt: to.orcpt.map(|o| format!("rfc822;{o}")),
                routing: None,
            }
        }
        R::Data => Command::Data,
        R::Rset => Command::Rset,
        R::Noop { .. } => Command::Noop,
        R::Quit => Command::Quit,
        R::Help { .. } => Command::Help,
        R::Vrfy { .. } => Command::Vrfy,
        R::Expn { .. } => Command::Expn,
        R::StartTls => Command::StartTls,
        R::Auth { .. } => return Err(Reply::new(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]")),
        R::Bdat { .. } => Command::NotImplemented("BDAT"),
        R::Etrn { .. } => Command::NotImplemented("ETRN"),
        R::Atrn { .. } => Command::NotImplemented("ATRN"),
        R::Burl { .. } => Command::NotImplemented("BURL"),
    })
}

fn parse_auth(line: &[u8]) -> Result<Command, Reply> {
    let text = std::str::from_utf8(line).map_err(|_| Reply::new(501, "5.5.4", "Syntax: AUTH mechanism"))?;
    let mut words = text.trim_end_matches(['\r', '\n']).split(' ').skip(1).filter(|w| !w.is_empty());
    let mechanism = words.next().ok_or_else(|| Reply::new(501, "5.5.4", "Syntax: AUTH mechanism"))?;
    let initial = words.next().map(str::to_owned);
    if words.next().is_some() {
        return Err(Reply::new(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]"));
    }
    Ok(Command::Auth { mechanism: mechanism.to_ascii_uppercase(), initial })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(line: &str) -> u16 {
        match parse(line.as_bytes()) {
            Ok(_) => 0,
            Err(r) => r.code,
        }
    }

    /// Regression (issue 25): `user@[192.0.2.1]` got `501 5.1.7`.
    #[test]
    fn address_literals_are_addresses() {
        let Ok(Command::Mail { from, size, .. }) = parse(b"MAIL FROM:<user@[192.0.2.1]> SIZE=10\r\n") else {
            panic!("MAIL with an address literal was refused");
        };
        assert_eq!((from.as_str(), size), ("user@[192.0.2.1]", Some(10)));
        let Ok(Command::Rcpt { to, notify, routing, .. }) =
            parse(b"RCPT TO:<Bob@[IPv6:2001:DB8::1]> NOTIFY=FAILURE\r\n")
        else {
            panic!("RCPT with an address literal was refused");
        };
        assert_eq!((to.as_str(), notify.as_deref(), routing), ("Bob@[IPv6:2001:db8::1]", Some("FAILURE"), None));
        assert_eq!(parse(b"MAIL FROM:<user@[192.0.2.300]>\r\n").unwrap_err().status, Some("5.1.7"));
        assert_eq!(parse(b"RCPT TO:<user@[tag:content]>\r\n").unwrap_err().status, Some("5.1.3"));
        assert_eq!(code("RCPT TO:<a@b.test@[192.0.2.1]>\r\n"), 0, "routing syntax is the session's to refuse");
    }

    #[test]
    fn commands() {
        assert_eq!(parse(b"EHLO client.test\r\n"), Ok(Command::Ehlo("client.test".into())));
        assert_eq!(parse(b"ehlo client.test\r\n"), Ok(Command::Ehlo("client.test".into())));
        assert_eq!(parse(b"QUIT\r\n"), Ok(Command::Quit));
        assert_eq!(parse(b"RSET\r\n"), Ok(Command::Rset));
        assert_eq!(parse(b"VRFY bob\r\n"), Ok(Command::Vrfy));
        assert_eq!(parse(b"BDAT 10 LAST\r\n"), Ok(Command::NotImplemented("BDAT")));
    }

    /// Regression: an EHLO containing NUL was accepted.
    #[test]
    fn nul_in_a_command_is_refused() {
        assert_eq!(code("EHLO cli\0ent.test\r\n"), 501);
        assert_eq!(code("MAIL FROM:<a@b.test>\0 SIZE=10\r\n"), 501);
        assert_eq!(code("AUTH PLAIN AGEAYgBj\0\r\n"), 501);
    }

    #[test]
    fn mail_parameters() {
        assert_eq!(
            parse(b"MAIL FROM:<a@b.test> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=QQ314159\r\n"),
            Ok(Command::Mail {
                from: "a@b.test".into(),
                size: Some(1000),
                body: Body::EightBitMime,
                ret: Some(Ret::Headers),
                envid: Some("QQ314159".into()),
            })
        );
        assert!(matches!(parse(b"MAIL FROM:<>\r\n"), Ok(Command::Mail { from, .. }) if from.is_empty()));
        assert_eq!(code("MAIL FROM:<a@b.test> SMTPUTF8\r\n"), 555);
        assert_eq!(code("MAIL FROM:<a@b.test> BODY=BINARYMIME\r\n"), 555);
        assert_eq!(code("MAIL FROM:<a@b.test> FOO=BAR\r\n"), 555);
        assert_eq!(code("MAIL FROM:<a@b.test> SIZE=abc\r\n"), 501);
        assert_eq!(code("MAIL FROM a@b.test\r\n"), 501);
    }

    #[test]
    fn rcpt_parameters() {
        assert_eq!(
            parse(b"RCPT TO:<x@y.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y.test\r\n"),
            Ok(Command::Rcpt {
                to: "x@y.test".into(),
                notify: Some("SUCCESS,FAILURE".into()),
                orcpt: Some("rfc822;x@y.test".into()),
                routing: None,
            })
        );
        assert!(matches!(parse(b"RCPT TO:<Postmaster>\r\n"), Ok(Command::Rcpt { to, .. }) if to.is_empty()));
        assert!(matches!(parse(b"RCPT TO:<@hop.test:x@y.test>\r\n"), Ok(Command::Rcpt { to, .. }) if to == "x@y.test"));
        assert_eq!(code("RCPT TO:<x@y.test> NOTIFY=NEVER,SUCCESS\r\n"), 501);
        assert_eq!(code("RCPT TO:x@y.test\r\n"), 501);
    }

    #[test]
    fn routing_syntax_is_recognised() {
        let routing = |line: &str| match parse(line.as_bytes()) {
            Ok(Command::Rcpt { routing, .. }) => routing,
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(routing("RCPT TO:<friend@outside.test>\r\n"), None);
        assert_eq!(routing("RCPT TO:<\"a b\"@corp.test>\r\n"), None, "quotes alone are fine");
        assert_eq!(routing("RCPT TO:<@corp.test:friend@outside.test>\r\n"), Some(RoutingSyntax::SourceRoute));
        assert_eq!(routing("rcpt to: <friend%outside.test@corp.test>\r\n"), Some(RoutingSyntax::PercentHack));
        assert_eq!(routing("RCPT TO:<outside.test!friend@corp.test>\r\n"), Some(RoutingSyntax::BangPath));
        assert_eq!(routing("RCPT TO:<\"friend@outside.test\"@corp.test>\r\n"), Some(RoutingSyntax::QuotedRouting));
        assert_eq!(routing("RCPT TO:<\"x\\\"@y\"@corp.test>\r\n"), Some(RoutingSyntax::QuotedRouting), "escaped quote");
        assert!(matches!(
            parse(b"RCPT TO:<friend@outside.test@corp.test>\r\n"),
            Ok(Command::Rcpt { to, routing: Some(RoutingSyntax::ExtraAt), .. }) if to == "friend@outside.test@corp.test"
        ));
        assert_eq!(routing_syntax("a%b"), Some(RoutingSyntax::PercentHack));
        assert_eq!(routing_syntax("user@dom%ain"), None, "only the local part routes");
    }

    #[test]
    fn auth() {
        assert_eq!(
            parse(b"AUTH PLAIN AGFubgBwdw==\r\n"),
            Ok(Command::Auth { mechanism: "PLAIN".into(), initial: Some("AGFubgBwdw==".into()) })
        );
        assert_eq!(parse(b"auth login\r\n"), Ok(Command::Auth { mechanism: "LOGIN".into(), initial: None }));
        assert_eq!(code("AUTH\r\n"), 501);
        assert_eq!(code("AUTH PLAIN a b\r\n"), 501);
    }

    #[test]
    fn unknown() {
        assert_eq!(code("FROB\r\n"), 500);
        assert_eq!(code("\r\n"), 500);
    }
}
