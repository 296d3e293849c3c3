//! Reports people look at rather than read: charts of a finished sweep.
//!
//! Renders from a [`crate::sweep::SweepResult`] only; it measures nothing and
//! touches no store, so the service and `zarrbench run` draw the same picture.

pub mod svg;
