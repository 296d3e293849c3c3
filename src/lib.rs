//! zarrbench: measures Zarr codecs, levels, shuffles and chunk layouts on volumes
//! that look like a microscope's output, and recommends one per profile.

pub mod api;
pub mod benchmark;
pub mod cli;
pub mod config;
pub mod data;
pub mod input;
pub mod registry;
pub mod report;
pub mod spec;
pub mod sweep;
pub mod telemetry;
pub mod webhook;
pub mod worker;
