//! The saved configuration and its revisions.

use mailroom_shared::config::Config;

use super::Fixture;
use crate::store::StoreError;

/// Saves are numbered; a save based on an old revision is refused, so that two
/// administrators cannot overwrite each other unawares.
pub(super) async fn revisions_refuse_a_stale_save(f: Fixture) {
    let store = f.store();
    let (c, rev) = store.load_config().await.expect("load");
    assert_eq!((c.clone(), rev), (Config::default(), 0));
    let mut d = c.to_draft();
    d.routing.reroute = true;
    let c2 = Config::from_draft(&d).expect("valid");
    assert_eq!(store.save_config(&c2, Some(0)).await.expect("save"), 1);
    assert_eq!(store.load_config().await.expect("load"), (c2.clone(), 1));
    let stale = store.save_config(&c, Some(0)).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(store.load_config().await.expect("load"), (c2, 1), "a refused save changes nothing");
    assert_eq!(store.save_config(&c, None).await.expect("unconditional save"), 2);
}
