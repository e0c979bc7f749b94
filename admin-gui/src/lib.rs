//! Mailroom Administrator: the desktop program that configures and controls
//! `mailroomd`, modelled on Exchange Administrator.
//!
//! Architecture (see `../shared/STYLE.md`): the UI never blocks or awaits.
//!
//! - [`backend`]: a background thread owns the IPC client and its tokio runtime; the UI
//!   sends it [`backend::Command`]s and drains [`backend::Update`]s at the start of every
//!   frame. Requests run concurrently; events are forwarded as they arrive.
//! - [`model`]: what the GUI knows of the service, changed from those updates in one place.
//! - [`views`] (one per tree node), [`windows`] (Tools and Help), [`properties`] (one file
//!   per tab) and [`main_window`] (menu, toolbar, tree, banner, status bar) each own
//!   their state, draw from the model and return [`actions::Action`]s.
//! - [`app`]: draws all of them, then applies their actions.
//! - [`widgets`]: the controls they share; [`nav`]: the tree's nodes and the tabs;
//!   [`help`]: the help pages, built in.
//!
//! Imports only go one way: `app` imports everything; views, windows and properties
//! import `actions`, `model`, `nav`, `widgets` (and `backend` for its command type),
//! which import none of them.
#![deny(missing_docs)]

pub mod actions;
pub mod app;
pub mod backend;
pub mod help;
pub mod main_window;
pub mod model;
pub mod nav;
pub mod properties;
pub mod selection;
pub mod views;
pub mod widgets;
pub mod windows;

pub use app::AdminApp;
