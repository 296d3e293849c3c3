//! Reports people look at rather than read: the chart of a finished sweep and
//! a job's page.
//!
//! Renders from a [`crate::sweep::SweepResult`] (and, for the page, what the
//! status object says of the job) only; it measures nothing and touches no
//! store, so the service and `zarrbench run` draw the same picture.

pub mod html;
pub mod svg;
