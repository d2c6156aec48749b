//! Junction: a self-hosted integration server. See ARCHITECTURE.md for the map.

pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod net;
pub mod secret;
pub mod server;
pub mod services;
pub mod store;
pub mod web;
