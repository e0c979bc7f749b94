//! Outbound delivery. (In progress; see `route`, `ndr`.)

pub mod ndr;
pub mod route;
