//! The store's contract, written once and run against every backend.
//!
//! Each test here is an `async fn` taking a [`Fixture`] — a fresh, empty store of some
//! backend — and speaking only the store's own methods: nothing in it knows which
//! database is behind the door. [`contract!`] runs every test against a backend; today
//! that is SQLite, and a second backend (PostgreSQL) adds one line at the bottom of this
//! file and must pass the same suite. What only one backend can show (SQLite's writer
//! thread and its migrations) is tested beside that backend, in `sqlite/tests.rs`.

mod config;
mod dav;
mod filtering;
mod imap;
mod mailboxes;
mod messages;
mod queue;
mod recipients;
mod sharing;

use mailroom_shared::address::EmailAddress;

use crate::store::{Failure, NewMailbox, NewMessage, Outbound, OutboundRecipient, Store, TrackEvent, TrackingRecord};

/// A fresh, empty store of one backend, and what it takes to open it again.
pub(crate) struct Fixture {
    store: Store,
    place: Place,
}

/// Where a fixture's data lives.
enum Place {
    /// A SQLite database file in a temporary directory (removed with it).
    Sqlite(tempfile::TempDir),
}

impl Fixture {
    /// A store on a new SQLite database.
    pub(crate) fn sqlite() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("mailroom.db")).expect("open");
        Fixture { store, place: Place::Sqlite(dir) }
    }

    /// The store.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Closes the store and opens the same data again, as a restart does.
    pub(crate) fn reopen(self) -> Fixture {
        let Fixture { store, place } = self;
        drop(store);
        let store = match &place {
            Place::Sqlite(dir) => Store::open(&dir.path().join("mailroom.db")).expect("reopen"),
        };
        Fixture { store, place }
    }
}

/// Runs every contract test against one backend, as `mod $backend`: `$open` makes a
/// fresh [`Fixture`] for each test.
macro_rules! contract {
    ($backend:ident => $open:expr; $($area:ident: [$($test:ident),* $(,)?]),* $(,)?) => {
        mod $backend {
            $(mod $area {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $test() {
                        crate::store::tests::$area::$test($open).await;
                    }
                )*
            })*
        }
    };
}

contract!(sqlite => crate::store::tests::Fixture::sqlite();
    config: [revisions_refuse_a_stale_save],
    dav: [
        a_person_has_a_calendar_and_an_address_book_from_the_start,
        objects_are_written_on_their_conditions_and_their_changes_counted,
        a_meeting_is_found_by_its_uid_in_any_calendar_but_the_scheduling_inbox,
    ],
    mailboxes: [
        addresses_are_canonical_unique_and_passwords_only_hashed,
        data_survives_reopening,
        a_mailboxs_size_follows_its_copies,
    ],
    messages: [
        a_message_to_many_mailboxes_and_the_queue_is_stored_once,
        a_message_with_nowhere_to_go_keeps_no_content,
        a_failed_acceptance_keeps_nothing,
        concurrent_acceptances_are_all_committed,
        a_copy_is_filed_in_the_folder_the_plan_names,
        a_header_too_big_for_its_own_row_is_still_read_whole,
        searchable_fields_are_kept_with_each_content_and_filtered_in_the_store,
        a_copys_id_is_never_given_to_another,
    ],
    queue: [
        recipients_are_claimed_once_and_their_outcomes_recorded,
        expired_recipients_fail_with_their_last_error,
        a_deleted_entry_fails_its_waiting_recipients,
        a_recipients_id_is_never_given_to_another,
        a_recipient_deleted_during_its_attempt_stays_deleted,
    ],
    filtering: [
        greylisting_passes_the_retry_after_the_delay_and_then_the_network,
        sending_counts_come_from_accepted_messages_and_holds_last_until_unlocked,
        a_quarantined_message_shares_nothing_until_released_to_where_it_was_going,
        filter_events_are_counted_per_day,
        an_automatic_reply_goes_once_per_sender_in_its_period,
    ],
    imap: [
        folders_flags_copies_and_expunges_share_content_and_tell_the_watchers,
        inbox_cannot_be_deleted_and_renaming_it_moves_its_messages,
        recent_messages_are_claimed_by_one_session_only,
        messages_appended_together_are_kept_together,
        a_deleted_folders_subscription_stays_until_removed,
        copies_share_their_content_id_and_know_when_they_were_saved,
        a_folders_head_matches_its_full_state,
    ],
    recipients: [
        a_list_expands_through_nested_lists_and_contacts_each_member_once,
        a_member_that_would_make_a_loop_is_refused,
        an_address_belongs_to_one_recipient,
        a_custom_recipient_is_changed_in_place_and_its_lists_follow,
    ],
    sharing: [
        rights_come_from_the_folders_grant_or_the_mailboxs_through_lists,
        a_shared_mailbox_has_no_password_and_receives_mail,
        seen_is_each_persons_own_on_anothers_folder,
        public_folders_are_read_by_anyone_until_their_own_grants_say_otherwise,
        a_calendars_grant_stands_instead_of_the_mailboxs,
    ],
);

/// A canonical address.
pub(crate) fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("valid")
}

/// Creates a mailbox with one address; its id.
pub(crate) async fn mailbox(store: &Store, address: &str) -> i64 {
    store
        .add_mailbox(NewMailbox { display_name: String::new(), addresses: vec![addr(address)], password: "pw".into() })
        .await
        .expect("add mailbox")
        .id
}

/// Seconds since the epoch.
pub(crate) fn now() -> i64 {
    crate::store::now_secs()
}

/// A message to `mailboxes` and two outside recipients, one of which failed at once.
pub(crate) fn message(mailboxes: Vec<i64>, content: &[u8]) -> NewMessage {
    NewMessage {
        queue_id: "Q1".into(),
        received_at: now(),
        content: content.to_vec(),
        mailboxes,
        local_prefix: b"Return-Path: <ann@corp.test>\r\n".to_vec(),
        outbound: Some(Outbound {
            sender: "ann@corp.test".into(),
            recipients: vec![
                OutboundRecipient { address: "far@outside.test".into(), ..Default::default() },
                OutboundRecipient {
                    address: "nowhere@outside.test".into(),
                    failed: Some(Failure { status: "5.4.4".into(), reason: "no route".into() }),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }),
        tracking: vec![TrackingRecord::now(TrackEvent::Accepted)],
        ..NewMessage::default()
    }
}

/// The same, for local mailboxes only.
pub(crate) fn local(mailboxes: Vec<i64>, content: &[u8]) -> NewMessage {
    NewMessage { outbound: None, ..message(mailboxes, content) }
}

/// Messages stored in every mailbox together.
pub(crate) async fn stored_messages(store: &Store) -> u64 {
    store.list_mailboxes().await.expect("list").iter().map(|m| m.message_count).sum()
}

/// The ids of a folder's messages, by UID.
pub(crate) async fn ids_in(store: &Store, mailbox: i64, folder: i64) -> Vec<i64> {
    store.imap_folder_state(mailbox, folder).await.expect("state").messages.iter().map(|m| m.id).collect()
}

/// A mailbox's folder by name.
pub(crate) async fn folder(store: &Store, mailbox: i64, name: &str) -> i64 {
    store.imap_folders(mailbox).await.expect("folders").into_iter().find(|f| f.name == name).expect("folder").id
}
