//! The `zarrbench` binary: a thin front over the library.

use clap::{Parser, Subcommand};

use zarrbench::{api, cli, config, telemetry};

/// Benchmarks Zarr codecs and chunk layouts on microscopy-like volumes.
///
/// Without a subcommand, serves the HTTP API (as `zarrbench serve`).
#[derive(Debug, Parser)]
#[command(
    name = "zarrbench",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: config::ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve(config::ServeArgs),
    /// Run one sweep on this machine and print the results.
    Run(cli::run::RunArgs),
    /// Exit 0 if a running service's /health says healthy, 1 otherwise.
    Healthcheck(cli::healthcheck::HealthcheckArgs),
    /// Submit a job to a running service; with --wait, follow it and print
    /// its results.
    Submit(cli::remote::SubmitArgs),
    /// Print a job's state, and its results once completed.
    Status(cli::remote::JobArgs),
    /// Cancel a pending or running job.
    Cancel(cli::remote::JobArgs),
    /// List a service's jobs, newest first.
    Jobs(cli::remote::JobsArgs),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => exit_with_clap_error(error),
    };
    let outcome = match cli.command {
        Some(Command::Run(args)) => cli::run::execute(&args),
        Some(Command::Healthcheck(args)) => std::process::exit(cli::healthcheck::execute(&args)),
        Some(Command::Submit(args)) => cli::remote::submit(&args),
        Some(Command::Status(args)) => cli::remote::status(&args),
        Some(Command::Cancel(args)) => cli::remote::cancel(&args),
        Some(Command::Jobs(args)) => cli::remote::jobs(&args),
        Some(Command::Serve(args)) => serve(&args),
        None => serve(&cli.serve),
    };
    if let Err(message) = outcome {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}

/// Starts the service and blocks until it has drained after a signal.
fn serve(args: &config::ServeArgs) -> Result<(), String> {
    let settings = args.settings().map_err(|e| e.to_string())?;
    telemetry::logging::init(&args.log_options()).map_err(|e| e.to_string())?;
    telemetry::metrics::install(settings.job_timeout)
        .map_err(|e| format!("cannot start the metrics recorder: {e}"))?;
    actix_rt::System::new()
        .block_on(api::server::serve(settings))
        .map_err(|e| e.to_string())
}

/// Help and version print in full; any other argument error is one line.
fn exit_with_clap_error(error: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    let rendered = error.render().to_string();
    let first_line = rendered.lines().next().unwrap_or("invalid arguments");
    eprintln!("{first_line} (see zarrbench --help)");
    std::process::exit(2);
}
