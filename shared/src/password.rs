//! How strong a mailbox password is, in words a person can act on: the
//! Administrator refuses a password shorter than [`MIN_LENGTH`] or one of the
//! passwords people try first (the most common ones in published breach lists, and
//! runs of one character or of the keyboard). Pure, shared by every client.

/// The fewest characters a new mailbox password may have.
pub const MIN_LENGTH: usize = 8;

/// The passwords attackers try first, of at least [`MIN_LENGTH`] characters, in
/// lower case (shorter ones fail the length rule anyway).
const COMMON: &[&str] = &[
    "12345678",
    "123456789",
    "1234567890",
    "password",
    "password1",
    "password12",
    "password123",
    "iloveyou",
    "qwertyuiop",
    "qwerty123",
    "qwerty12",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1qaz2wsx",
    "zaq12wsx",
    "11111111",
    "00000000",
    "88888888",
    "87654321",
    "abcd1234",
    "abc12345",
    "asdfghjkl",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "welcome123",
    "letmein1",
    "trustno1",
    "superman",
    "starwars",
    "whatever",
    "computer",
    "michelle",
    "jennifer",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "changeme",
    "admin123",
    "administrator",
    "qazwsxedc",
    "1qazxsw2",
    "internet",
    "samsung1",
    "liverpool",
    "chelsea1",
    "corvette",
    "mustang1",
    "shadow12",
    "master12",
    "monkey12",
    "dragon12",
    "11223344",
    "12341234",
    "12121212",
    "123123123",
    "147258369",
    "987654321",
    "q1w2e3r4",
    "secret12",
    "letmein123",
    "mailroom",
    "exchange",
];

/// Why `password` is too weak for a mailbox, as a sentence; `None` when it will do.
pub fn weakness(password: &str) -> Option<String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Some(format!("Use at least {MIN_LENGTH} characters (this one has {length})."));
    }
    let lower = password.to_lowercase();
    let first = lower.chars().next();
    let one_character = lower.chars().all(|c| Some(c) == first);
    let ascending = lower.as_bytes().windows(2).all(|w| w[1] == w[0].wrapping_add(1));
    if COMMON.contains(&lower.as_str()) || one_character || ascending {
        return Some("This password is among the first ones attackers try; choose another.".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_common_and_trivial_passwords_are_refused_with_a_reason() {
        assert_eq!(weakness("x").as_deref(), Some("Use at least 8 characters (this one has 1)."));
        assert!(weakness("Password123").is_some_and(|w| w.contains("attackers")));
        assert!(weakness("aaaaaaaaaa").is_some(), "one character");
        assert!(weakness("abcdefghij").is_some(), "a run");
        assert!(weakness("Grüße-2026").is_none());
        assert!(weakness("correct horse battery").is_none());
        assert_eq!(
            weakness("ääää").as_deref(),
            Some("Use at least 8 characters (this one has 4)."),
            "characters, not bytes"
        );
    }
}
