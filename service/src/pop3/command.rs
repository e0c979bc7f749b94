//! POP3 command parsing (RFC 1939, RFC 2449, RFC 5034), apart from any I/O.

/// Longest command line, CRLF included (RFC 2449 §4: 255 octets).
pub const MAX_LINE: usize = 255;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `USER name`.
    User(String),
    /// `PASS password` (the rest of the line: passwords may contain spaces).
    Pass(String),
    /// `AUTH [mechanism [initial-response]]`.
    Auth(Option<(String, Option<String>)>),
    /// `APOP` (not offered).
    Apop,
    /// `STLS` (RFC 2595).
    Stls,
    /// `CAPA`.
    Capa,
    /// `STAT`.
    Stat,
    /// `LIST [msg]`.
    List(Option<usize>),
    /// `UIDL [msg]`.
    Uidl(Option<usize>),
    /// `RETR msg`.
    Retr(usize),
    /// `TOP msg lines`.
    Top(usize, usize),
    /// `DELE msg`.
    Dele(usize),
    /// `NOOP`.
    Noop,
    /// `RSET`.
    Rset,
    /// `QUIT`.
    Quit,
}

/// Why a line is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not a POP3 command.
    #[error("unknown command")]
    Unknown,
    /// A command with wrong arguments.
    #[error("syntax: {0}")]
    Syntax(&'static str),
}

/// Parses one line (CRLF may be included).
///
/// # Errors
/// [`ParseError`] for unknown commands and bad arguments.
pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
    let line = std::str::from_utf8(line).map_err(|_| ParseError::Unknown)?;
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    let args: Vec<&str> = rest.split(' ').filter(|a| !a.is_empty()).collect();
    let number = |s: &str| s.parse::<usize>().ok().filter(|n| *n > 0);
    let verb = verb.to_ascii_uppercase();
    match (verb.as_str(), args.as_slice()) {
        ("USER", [name]) => Ok(Command::User((*name).to_owned())),
        ("USER", _) => Err(ParseError::Syntax("USER name")),
        ("PASS", _) if !rest.is_empty() => Ok(Command::Pass(rest.to_owned())),
        ("PASS", _) => Err(ParseError::Syntax("PASS password")),
        ("AUTH", []) => Ok(Command::Auth(None)),
        ("AUTH", [mech]) => Ok(Command::Auth(Some((mech.to_ascii_uppercase(), None)))),
        ("AUTH", [mech, initial]) => Ok(Command::Auth(Some((mech.to_ascii_uppercase(), Some((*initial).to_owned()))))),
        ("AUTH", _) => Err(ParseError::Syntax("AUTH mechanism [initial-response]")),
        ("APOP", _) => Ok(Command::Apop),
        ("STLS", []) => Ok(Command::Stls),
        ("CAPA", []) => Ok(Command::Capa),
        ("STAT", []) => Ok(Command::Stat),
        ("NOOP", []) => Ok(Command::Noop),
        ("RSET", []) => Ok(Command::Rset),
        ("QUIT", []) => Ok(Command::Quit),
        ("LIST", []) => Ok(Command::List(None)),
        ("UIDL", []) => Ok(Command::Uidl(None)),
        ("LIST", [n]) => number(n).map(|n| Command::List(Some(n))).ok_or(ParseError::Syntax("LIST [message-number]")),
        ("UIDL", [n]) => number(n).map(|n| Command::Uidl(Some(n))).ok_or(ParseError::Syntax("UIDL [message-number]")),
        ("RETR", [n]) => number(n).map(Command::Retr).ok_or(ParseError::Syntax("RETR message-number")),
        ("DELE", [n]) => number(n).map(Command::Dele).ok_or(ParseError::Syntax("DELE message-number")),
        ("TOP", [n, l]) => match (number(n), l.parse::<usize>()) {
            (Some(n), Ok(l)) => Ok(Command::Top(n, l)),
            _ => Err(ParseError::Syntax("TOP message-number lines")),
        },
        ("STAT" | "NOOP" | "RSET" | "QUIT" | "CAPA" | "STLS", _) => Err(ParseError::Syntax("no arguments")),
        ("LIST" | "UIDL", _) => Err(ParseError::Syntax("at most one message number")),
        ("RETR" | "DELE", _) => Err(ParseError::Syntax("one message number")),
        ("TOP", _) => Err(ParseError::Syntax("TOP message-number lines")),
        _ => Err(ParseError::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(parse(b"user ann@corp.test\r\n"), Ok(Command::User("ann@corp.test".into())));
        assert_eq!(parse(b"PASS with spaces  inside\r\n"), Ok(Command::Pass("with spaces  inside".into())));
        assert_eq!(parse(b"LIST\r\n"), Ok(Command::List(None)));
        assert_eq!(parse(b"LIST 3\r\n"), Ok(Command::List(Some(3))));
        assert_eq!(parse(b"TOP 2 0\r\n"), Ok(Command::Top(2, 0)));
        assert_eq!(
            parse(b"AUTH PLAIN AGEAYg==\r\n"),
            Ok(Command::Auth(Some(("PLAIN".into(), Some("AGEAYg==".into())))))
        );
        assert_eq!(parse(b"AUTH\r\n"), Ok(Command::Auth(None)));
        assert_eq!(parse(b"QUIT\r\n"), Ok(Command::Quit));
    }

    #[test]
    fn errors() {
        assert_eq!(parse(b"RETR\r\n"), Err(ParseError::Syntax("one message number")));
        assert_eq!(parse(b"RETR 0\r\n"), Err(ParseError::Syntax("RETR message-number")));
        assert_eq!(parse(b"RETR x\r\n"), Err(ParseError::Syntax("RETR message-number")));
        assert_eq!(parse(b"DELE -1\r\n"), Err(ParseError::Syntax("DELE message-number")));
        assert_eq!(parse(b"TOP 1\r\n"), Err(ParseError::Syntax("TOP message-number lines")));
        assert_eq!(parse(b"STAT 1\r\n"), Err(ParseError::Syntax("no arguments")));
        assert_eq!(parse(b"XTND\r\n"), Err(ParseError::Unknown));
        assert_eq!(parse(b"\xff\r\n"), Err(ParseError::Unknown));
    }
}
