//! The REST surface. Every request goes through `server::handle`: `/__admin/...` goes to
//! `admin`; a Connect request is routed (`routes`), delayed and faulted as configured, then
//! answered by its endpoint (`endpoints`, `configs`), in Connect's shapes (`respond`).
//!
//! `respond` and `routes` import no other module here, so `admin` and the Connect
//! endpoints share them without importing each other.

pub mod admin;
mod configs;
mod endpoints;
pub mod respond;
pub mod routes;
pub mod server;

pub use respond::{empty, error, json};
pub use routes::{Route, percent_decode, query_pairs, route, segments};
pub use server::handle;
