//! Mailroom Administrator: the desktop program that configures and controls
//! `mailroomd`, modelled on Exchange Administrator.
//!
//! Architecture (see `../shared/STYLE.md`): the UI never blocks or awaits. A background
//! thread ([`backend`]) owns the IPC client and its tokio runtime; the UI sends it
//! [`backend::Command`]s and drains [`backend::Update`]s at the start of every frame.
//! Views are `*_ui` functions over plain state; dialogs are `Option<…State>` fields.
#![deny(missing_docs)]

pub mod app;
pub mod backend;
mod properties;
mod routing;
mod views;

pub use app::AdminApp;
