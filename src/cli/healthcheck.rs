//! `zarrbench healthcheck`: asks a running service's `/health` whether it is
//! healthy, for container `HEALTHCHECK`s and scripts. Exit status 0 means
//! healthy; 1 means anything else (unreachable, draining, not JSON, slow).

use std::time::Duration;

use serde::Deserialize;

/// The URL checked when none is given.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080/health";

/// Flags of `zarrbench healthcheck`.
#[derive(Debug, Clone, clap::Args)]
pub struct HealthcheckArgs {
    /// The service's health URL.
    #[arg(long, env = "ZARRBENCH_HEALTHCHECK_URL", default_value = DEFAULT_URL)]
    pub url: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 3)]
    pub timeout: u64,
}

/// The part of the `/health` answer that decides.
#[derive(Deserialize)]
struct Health {
    status: String,
}

/// Checks the service and prints one line; returns the exit status.
pub fn execute(args: &HealthcheckArgs) -> i32 {
    match check(&args.url, Duration::from_secs(args.timeout.max(1))) {
        Ok(()) => {
            println!("healthy: {}", args.url);
            0
        }
        Err(reason) => {
            eprintln!("unhealthy: {}: {reason}", args.url);
            1
        }
    }
}

fn check(url: &str, timeout: Duration) -> Result<(), String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let response = client.get(url).send().map_err(|e| e.to_string())?;
    let status = response.status();
    let health: Health = response
        .json()
        .map_err(|e| format!("HTTP {status}, body is not the health JSON: {e}"))?;
    if status.is_success() && health.status == "healthy" {
        Ok(())
    } else {
        Err(format!("HTTP {status}, status '{}'", health.status))
    }
}
