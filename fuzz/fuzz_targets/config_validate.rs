//! Configuration validation, on structured drafts: it never panics; a draft is either
//! valid or gets at least one error naming a field; and a valid configuration is a
//! fixed point — its own draft validates to the same configuration, and it survives
//! the JSON round trip the control socket and the store put it through.
//!
//! Each page is either the fuzzer's or the default one, so that valid configurations
//! (which need every page valid at once) are reached often.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mailroom_shared::config::*;

#[derive(Debug, Arbitrary)]
struct Input {
    general: Option<GeneralDraft>,
    connections: Option<ConnectionsDraft>,
    routing: Option<RoutingDraft>,
    routing_restrictions: Option<RoutingRestrictionsDraft>,
    delivery: Option<DeliveryDraft>,
    security: Option<SecurityDraft>,
    pop3: Option<Pop3Draft>,
    imap4: Option<Imap4Draft>,
    filtering: Option<FilteringDraft>,
    diagnostics: Option<DiagnosticsDraft>,
    backup: Option<BackupDraft>,
}

fuzz_target!(|input: Input| {
    let draft = ConfigDraft {
        general: input.general.unwrap_or_default(),
        connections: input.connections.unwrap_or_default(),
        routing: input.routing.unwrap_or_default(),
        routing_restrictions: input.routing_restrictions.unwrap_or_default(),
        delivery: input.delivery.unwrap_or_default(),
        security: input.security.unwrap_or_default(),
        pop3: input.pop3.unwrap_or_default(),
        imap4: input.imap4.unwrap_or_default(),
        filtering: input.filtering.unwrap_or_default(),
        diagnostics: input.diagnostics.unwrap_or_default(),
        backup: input.backup.unwrap_or_default(),
    };
    match Config::from_draft(&draft) {
        Ok(config) => {
            let again = Config::from_draft(&config.to_draft()).expect("a valid configuration's draft is valid");
            assert_eq!(again, config);
            let json = serde_json::to_string(&config).expect("serializes");
            let back: Config = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(back, config);
        }
        Err(errors) => {
            assert!(!errors.0.is_empty());
            assert!(errors.0.iter().all(|e| !e.field.is_empty() && !e.to_string().is_empty()));
        }
    }
});
