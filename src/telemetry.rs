//! Logs and metrics of the service: the `tracing` subscriber ([`logging`]),
//! the Prometheus recorder and every series the service exports
//! ([`metrics`]), and the per-request middleware that ties a request id, a
//! span, request counters and latency to each HTTP request ([`request`]).
//!
//! Start-up order matters: [`logging::init`] first so that start-up errors are
//! logged, then [`metrics::install`] before anything records a metric (the
//! `metrics` facade silently drops what is recorded before a recorder is
//! installed). Both are called once, by `zarrbench serve`.
//!
//! This module only observes: it never changes a job or a response body.

pub mod logging;
pub mod metrics;
pub mod request;
