//! The messages of the control protocol: the handshake and the envelopes a session
//! is made of (here), and what travels in them — requests, responses, events, errors
//! and the data they carry — one file each.

mod error;
mod event;
mod request;
mod response;
mod types;

pub use error::*;
pub use event::*;
pub use request::*;
pub use response::*;
pub use types::*;

use serde::{Deserialize, Serialize};

/// First line a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientHello {
    /// The handshake itself.
    pub hello: Hello,
}

/// The client's half of the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`super::PROTOCOL_VERSION`] of the client.
    pub version: u32,
    /// Who is asking, for the service's log (`mailroomctl 0.1.0`).
    pub client: String,
}

/// A request line: an id chosen by the client, echoed in the reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestEnvelope {
    /// Echoed in the reply.
    pub id: u64,
    /// What is asked.
    pub request: Request,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerMessage {
    /// Handshake accepted.
    Welcome {
        /// The server's protocol version.
        version: u32,
        /// Server name and version.
        server: String,
    },
    /// The answer to one request.
    Reply(Reply),
    /// Something happened (after [`Request::Subscribe`]).
    Event(Event),
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The request's id; `None` when the line could not be read far enough to know it.
    pub id: Option<u64>,
    /// Success or failure.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Success or failure of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It worked.
    Ok(Response),
    /// It did not.
    Error(IpcError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Page;

    #[test]
    fn a_refused_configuration_with_every_kind_of_problem_reaches_the_client() {
        use crate::config::{ConfigError, Problem};
        let problems = vec![
            Problem::Empty,
            Problem::inconsistent("a certificate needs its key"),
            Problem::OutOfRange { value: 0, min: 1, max: 365 },
            Problem::OpenRelayNotConfirmed,
        ];
        let errors = problems.into_iter().map(|problem| ConfigError { field: "backup.keep".into(), problem }).collect();
        let reply =
            ServerMessage::Reply(Reply { id: Some(1), outcome: Outcome::Error(IpcError::InvalidConfig { errors }) });
        let line = crate::ipc::framing::encode_line(&reply).expect("a refusal can be sent");
        let back: ServerMessage = serde_json::from_slice(&line).expect("and read");
        assert_eq!(back, reply);
    }

    #[test]
    fn wire_shapes_are_stable() {
        let req = RequestEnvelope { id: 7, request: Request::Status };
        assert_eq!(serde_json::to_string(&req).expect("json"), r#"{"id":7,"request":{"type":"status"}}"#);
        let reply = ServerMessage::Reply(Reply { id: Some(7), outcome: Outcome::Ok(Response::Pong) });
        assert_eq!(serde_json::to_string(&reply).expect("json"), r#"{"reply":{"id":7,"ok":{"type":"pong"}}}"#);
        let err = ServerMessage::Reply(Reply {
            id: None,
            outcome: Outcome::Error(IpcError::UnknownRequest { name: "fly".into() }),
        });
        let json = serde_json::to_string(&err).expect("json");
        assert_eq!(json, r#"{"reply":{"id":null,"error":{"kind":"unknown_request","name":"fly"}}}"#);
        assert_eq!(serde_json::from_str::<ServerMessage>(&json).expect("parses"), err);
    }

    /// Regression: `Certificate(None)` as a newtype variant of an internally tagged
    /// enum could not be serialized, and the service dropped the connection.
    #[test]
    fn replies_serialize_and_round_trip() {
        let certificate = CertificateInfo {
            self_signed: true,
            path: "/data/tls/localhost.crt.pem".into(),
            subject: "CN=localhost".into(),
            issuer: "CN=localhost".into(),
            names: vec!["localhost".into()],
            not_before: 0,
            not_after: 1,
            sha256_fingerprint: "AB:CD".into(),
        };
        for response in [
            Response::Pong,
            Response::Done,
            Response::Certificate { certificate: None, acme: None },
            Response::Lockouts { lockouts: Vec::new() },
            Response::DnsRecords {
                records: vec![DnsRecord {
                    domain: "corp.test".into(),
                    name: "corp.test".into(),
                    kind: "TXT".into(),
                    value: "v=spf1 mx -all".into(),
                    purpose: "SPF".into(),
                    check: Some(RecordCheck::Different { found: vec!["v=spf1 -all".into()] }),
                }],
            },
            Response::Certificate {
                certificate: Some(Box::new(certificate)),
                acme: Some(Box::new(AcmeStatus {
                    directory_url: "https://127.0.0.1:14000/dir".into(),
                    names: vec!["mail.corp.test".into()],
                    state: AcmeState::Failed,
                    last_error: Some("connection refused".into()),
                    last_attempt: Some(1),
                    next_attempt: Some(2),
                })),
            },
            Response::Tracking { events: Vec::new() },
            Response::Queue { messages: Vec::new() },
            Response::ConfigSaved { revision: 3, pending_pages: vec![Page::Security] },
        ] {
            let msg = ServerMessage::Reply(Reply { id: Some(1), outcome: Outcome::Ok(response) });
            let json = serde_json::to_string(&msg).expect("serializes");
            assert_eq!(serde_json::from_str::<ServerMessage>(&json).expect("parses"), msg);
        }
    }

    #[test]
    fn every_request_name_is_listed() {
        let samples = [
            Request::Ping,
            Request::Status,
            Request::Monitor,
            Request::Backup { path: String::new() },
            Request::ImportMessage {
                address: String::new(),
                folder: String::new(),
                key: String::new(),
                flags: Vec::new(),
                received_at: None,
                offset: 0,
                total: 0,
                data: String::new(),
            },
            Request::ImportCheck { address: String::new(), keys: Vec::new() },
            Request::ExportList { address: String::new(), after: 0, limit: 0 },
            Request::ExportRead { address: String::new(), id: 0, offset: 0 },
            Request::ImportObject {
                address: String::new(),
                collection: String::new(),
                offset: 0,
                total: 0,
                data: String::new(),
            },
            Request::ExportObjects { address: String::new(), collection: String::new(), start: 0 },
            Request::ExportObject { address: String::new(), collection: String::new(), name: String::new(), offset: 0 },
            Request::Start,
            Request::Stop,
            Request::Restart,
            Request::GetConfig,
            Request::SetConfig { config: Box::default(), base_revision: None },
            Request::ListMailboxes,
            Request::AddList {
                address: String::new(),
                display_name: String::new(),
                senders: ListSenders::Anyone,
                hide_members: false,
            },
            Request::UpdateList { address: String::new(), display_name: None, senders: None, hide_members: None },
            Request::ListMembers { address: String::new(), add: Vec::new(), remove: Vec::new() },
            Request::RemoveList { address: String::new() },
            Request::AddContact { address: String::new(), display_name: String::new(), target: String::new() },
            Request::UpdateContact { address: String::new(), new_address: None, display_name: None, target: None },
            Request::SetHidden { address: String::new(), hidden: true },
            Request::RemoveContact { address: String::new() },
            Request::AddMailbox { display_name: String::new(), addresses: vec![], password: String::new() },
            Request::UpdateMailbox { address: String::new(), display_name: None, addresses: None, password: None },
            Request::AddSharedMailbox { display_name: String::new(), addresses: vec![] },
            Request::Permissions { address: String::new() },
            Request::SetPermission {
                address: String::new(),
                grantee: String::new(),
                rights: crate::rights::Rights::NONE,
                folder: None,
                collection: None,
            },
            Request::PublicFolders,
            Request::AddPublicFolder { name: String::new(), address: None },
            Request::UpdatePublicFolder { name: String::new(), address: None, quota_kb: None },
            Request::RemovePublicFolder { name: String::new() },
            Request::SetFolderPermission {
                folder: String::new(),
                grantee: String::new(),
                rights: crate::rights::Rights::NONE,
            },
            Request::RemoveMailbox { address: String::new() },
            Request::SetForwarding { address: String::new(), forwarding: None },
            Request::SetAutoReply { address: String::new(), reply: None },
            Request::SetLimits { address: String::new(), limits: StorageLimits::default() },
            Request::SetCatchAll { domain: String::new(), mailbox: None },
            Request::TestAddress { recipient: String::new(), authenticated_as: None, client_ip: String::new() },
            Request::QueueList { state: None, sender: None, recipient: None },
            Request::QueueMessage { queue_id: String::new() },
            Request::QueueRetry { queue_id: None },
            Request::QueueDelete { queue_id: String::new(), ndr: false },
            Request::Track { sender: None, recipient: None, message_id: None, since: None, until: None },
            Request::Certificate,
            Request::RenewCertificate,
            Request::Lockouts,
            Request::Unlock { client: String::new() },
            Request::DnsRecords { domain: None, check: false },
            Request::DkimRotate { domain: String::new() },
            Request::DkimRetire { domain: String::new(), selector: String::new() },
            Request::QuarantineList,
            Request::QuarantineMessage { id: 0 },
            Request::QuarantineRelease { id: 0 },
            Request::QuarantineDelete { id: 0 },
            Request::TestFilter { url: None },
            Request::SendingHolds,
            Request::SendingUnlock { account: String::new() },
            Request::Subscribe { logs: false },
        ];
        let names: Vec<String> = samples
            .iter()
            .map(|r| serde_json::to_value(r).expect("json")["type"].as_str().expect("tagged").to_owned())
            .collect();
        assert_eq!(names, Request::NAMES);
    }
}
