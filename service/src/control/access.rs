//! Who may administer the service through its control socket.
//!
//! A personal service (the GUI's *Start Service*) admits only its own user and root.
//! A system service started with `--admin-group mailroom` also admits the members of
//! that group, as Postfix's `postdrop` group or Dovecot's `doveadm` socket do: the
//! socket is made `0660` with that group, and each peer's own groups are checked too,
//! because a mode alone does not protect a socket someone has loosened by hand.
//!
//! A peer's groups are read from `/proc/PID/status` (its effective and supplementary
//! groups as the kernel sees them, which is what the socket's mode was checked
//! against), for the pid `SO_PEERCRED` gives.

use std::path::Path;

/// The group whose members administer the service, resolved once at start.
#[derive(Debug, Clone)]
pub struct AdminGroup {
    /// Its name, for messages.
    pub name: String,
    /// Its id.
    pub gid: u32,
}

impl AdminGroup {
    /// Looks the group up by name in the system's group database.
    ///
    /// # Errors
    /// A sentence when no such group exists or the database cannot be read.
    pub fn lookup(name: &str) -> Result<AdminGroup, AccessError> {
        match nix::unistd::Group::from_name(name) {
            Ok(Some(g)) => Ok(AdminGroup { name: name.to_owned(), gid: g.gid.as_raw() }),
            Ok(None) => Err(AccessError::NoSuchGroup(name.to_owned())),
            Err(e) => Err(AccessError::Lookup { name: name.to_owned(), source: e }),
        }
    }
}

/// Why an administrators' group cannot be used, or a peer is refused: each a sentence
/// with the next step.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// `--admin-group` names no group.
    #[error("there is no group '{0}' for --admin-group; create it (addgroup --system {0}) or leave the option out")]
    NoSuchGroup(String),
    /// The group database cannot be read.
    #[error("cannot look up the group '{name}': {source}")]
    Lookup {
        /// The group.
        name: String,
        /// Why.
        source: nix::Error,
    },
    /// The kernel did not say who the peer is.
    #[error("permission denied: the peer's credentials are unknown")]
    Unknown,
    /// Another user, and no administrators' group.
    #[error("permission denied: not the service's user")]
    NotTheServicesUser,
    /// Another user, not in the administrators' group.
    #[error(
        "permission denied: not the service's user nor a member of the group '{0}' (ask an administrator: adduser YOU {0}, then log in again)"
    )]
    NotAMember(String),
}

/// The rule the control socket applies to each connecting peer.
#[derive(Debug, Clone)]
pub struct Access {
    own_uid: u32,
    group: Option<AdminGroup>,
}

/// What the kernel told us about a peer.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// Effective uid.
    pub uid: Option<u32>,
    /// Effective gid.
    pub gid: Option<u32>,
    /// Process id, to read its supplementary groups.
    pub pid: Option<i32>,
}

impl Access {
    /// The rule for a service running as the current user, with an optional group of
    /// administrators.
    pub fn new(group: Option<AdminGroup>) -> Access {
        Access { own_uid: rustix::process::geteuid().as_raw(), group }
    }

    /// The group of administrators, if any.
    pub fn group(&self) -> Option<&AdminGroup> {
        self.group.as_ref()
    }

    /// Whether `peer` may administer the service; the refusal says why.
    ///
    /// # Errors
    /// A sentence for the refused peer.
    pub fn admit(&self, peer: Peer) -> Result<(), AccessError> {
        self.admit_with(peer, |pid| read_groups(&Path::new("/proc").join(pid.to_string()).join("status")))
    }

    fn admit_with(&self, peer: Peer, groups_of: impl FnOnce(i32) -> Option<Vec<u32>>) -> Result<(), AccessError> {
        let Some(uid) = peer.uid else {
            return Err(AccessError::Unknown);
        };
        if uid == self.own_uid || uid == 0 {
            return Ok(());
        }
        let Some(group) = &self.group else {
            return Err(AccessError::NotTheServicesUser);
        };
        if peer.gid == Some(group.gid) {
            return Ok(());
        }
        let member = peer.pid.and_then(groups_of).is_some_and(|groups| groups.contains(&group.gid));
        if member { Ok(()) } else { Err(AccessError::NotAMember(group.name.clone())) }
    }
}

/// The effective and supplementary groups in a `/proc/PID/status` file.
fn read_groups(status: &Path) -> Option<Vec<u32>> {
    let text = std::fs::read_to_string(status).ok()?;
    Some(parse_groups(&text))
}

/// The `Gid:` (its second field, the effective gid) and `Groups:` lines of a status file.
fn parse_groups(status: &str) -> Vec<u32> {
    let mut groups = Vec::new();
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("Groups:") {
            groups.extend(rest.split_whitespace().filter_map(|g| g.parse::<u32>().ok()));
        } else if let Some(rest) = line.strip_prefix("Gid:") {
            groups.extend(rest.split_whitespace().nth(1).and_then(|g| g.parse::<u32>().ok()));
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: u32 = 5000;

    fn access(group: Option<u32>) -> Access {
        Access { own_uid: OWN, group: group.map(|gid| AdminGroup { name: "mailroom".into(), gid }) }
    }

    fn peer(uid: u32, gid: u32) -> Peer {
        Peer { uid: Some(uid), gid: Some(gid), pid: Some(42) }
    }

    #[test]
    fn the_services_own_user_and_root_are_admitted_without_a_group() {
        assert!(access(None).admit_with(peer(OWN, 1), |_| None).is_ok());
        assert!(access(None).admit_with(peer(0, 0), |_| None).is_ok());
        assert!(access(None).admit_with(peer(1001, 1001), |_| Some(vec![1001])).is_err());
    }

    #[test]
    fn a_member_of_the_admin_group_is_admitted_by_its_supplementary_groups() {
        let a = access(Some(120));
        assert!(a.admit_with(peer(1001, 1001), |_| Some(vec![1001, 27, 120])).is_ok());
        assert!(a.admit_with(peer(1001, 120), |_| None).is_ok(), "primary group");
    }

    #[test]
    fn a_stranger_is_refused_with_the_groups_name_and_a_next_step() {
        let err = access(Some(120)).admit_with(peer(1002, 1002), |_| Some(vec![1002, 27])).expect_err("refused");
        let err = err.to_string();
        assert!(err.contains("'mailroom'") && err.contains("adduser"), "{err}");
        assert!(access(Some(120)).admit_with(peer(1002, 1002), |_| None).is_err(), "unreadable groups");
        assert!(
            access(Some(120)).admit_with(Peer { uid: None, gid: Some(120), pid: None }, |_| None).is_err(),
            "unknown uid"
        );
    }

    #[test]
    fn the_status_files_groups_are_read() {
        let status = "Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t121\t1000\t1000\nGroups:\t4 24 27 \n";
        assert_eq!(parse_groups(status), vec![121, 4, 24, 27]);
    }
}
