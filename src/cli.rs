//! The command line: `zarrbench run` (one local sweep), `zarrbench
//! healthcheck` (is a running service healthy?), the client commands
//! (`submit`, `status`, `cancel`, `jobs`) and the output formats shared by
//! every command that prints results.

pub mod client;
pub mod healthcheck;
pub mod output;
pub mod remote;
pub mod run;

/// Splits `64,64,64` into numbers; the error names the bad part.
pub fn parse_list<T: std::str::FromStr>(text: &str) -> Result<Vec<T>, String> {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            part.parse::<T>()
                .map_err(|_| format!("'{part}' in '{text}' is not a valid number"))
        })
        .collect()
}
