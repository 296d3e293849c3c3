//! The client commands: `zarrbench submit` (optionally `--wait` with a
//! progress bar and the same table as `run`), `status`, `cancel` and `jobs`,
//! all against a running service through [`super::client`].

use std::fmt::Write as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::SweepArgs;
use super::client::{ClientError, ServerArgs, ServiceClient};
use super::output::{self, Format};
use crate::registry::job::JobStatus;
use crate::spec::BenchmarkRequest;
use crate::sweep::SweepResult;

/// How often `--wait` asks for the job's status.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Arguments of `zarrbench submit`.
#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub sweep: SweepArgs,
    /// Timed repeats per configuration (the service's default when absent).
    #[arg(long)]
    pub repeats: Option<u32>,
    /// Threads for the sweep.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Seed of the generated volume.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where the service writes configurations while measuring them.
    #[arg(long, value_enum)]
    pub store: Option<super::run::StoreArg>,
    /// Follow the job to its end with a progress bar and print its results.
    #[arg(long)]
    pub wait: bool,
    /// Output format of the results (with --wait) or of the submission.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

impl SubmitArgs {
    /// The guide's body these arguments describe; `--input` becomes
    /// `data_path`, a path inside the service's data directory.
    pub fn request(&self) -> Result<BenchmarkRequest, String> {
        let sweep = &self.sweep;
        Ok(BenchmarkRequest {
            dataset_type: sweep.modality()?.name().to_string(),
            shape: Some(sweep.shape()?).filter(|shape| !shape.is_empty()),
            data_path: sweep.input.clone(),
            region: sweep.region()?,
            voxel_size: sweep.voxel_size.clone(),
            compression_profile: sweep.profile.map(|p| p.name().to_string()),
            custom_codecs: sweep.codecs.clone(),
            chunk_sizes: sweep.chunk_shapes(),
            dtype: sweep.dtype.map(|d| d.name().to_string()),
            seed: self.seed,
            repeats: self.repeats,
            threads: self.threads,
            store: self.store.map(|store| match store {
                super::run::StoreArg::Memory => "memory".to_string(),
                super::run::StoreArg::Filesystem => "filesystem".to_string(),
            }),
            ..BenchmarkRequest::default()
        })
    }
}

/// Arguments of `zarrbench status` and `zarrbench cancel`.
#[derive(Debug, clap::Args)]
pub struct JobArgs {
    /// The job id printed by `zarrbench submit`.
    pub job_id: String,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// Arguments of `zarrbench jobs`.
#[derive(Debug, clap::Args)]
pub struct JobsArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Only jobs in this state: pending, running, completed, failed, cancelled.
    #[arg(long, value_parser = JobStatus::parse)]
    pub status: Option<JobStatus>,
    /// Jobs to list, newest first (1 to 1000).
    #[arg(long, default_value_t = 20)]
    pub limit: u64,
    /// Jobs to skip before the first one listed, for the pages after the first.
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

impl JobsArgs {
    /// The command that lists the page after one that ended at `next_offset`.
    fn next_page_command(&self, next_offset: u64) -> String {
        let mut command = format!(
            "zarrbench jobs --offset {next_offset} --limit {}",
            self.limit
        );
        if let Some(status) = self.status {
            let _ = write!(command, " --status {}", status.name());
        }
        command
    }
}

/// Submits a job; with `--wait`, follows it and prints its results. The job
/// id goes to stdout alone without `--wait`, so scripts can capture it.
pub fn submit(args: &SubmitArgs) -> Result<(), String> {
    let client = ServiceClient::new(&args.server).map_err(|e| e.to_string())?;
    let reply = client
        .post("/benchmark", &args.request()?)
        .map_err(|e| e.to_string())?;
    let job_id = text(&reply, "job_id")?;

    if !args.wait {
        match args.format {
            Format::Json => println!("{}", pretty(&reply)),
            Format::Table | Format::Csv => println!("{job_id}"),
        }
        return Ok(());
    }
    eprintln!("submitted job {job_id}");
    let status = follow(&client, &job_id)?;
    print!("{}", output::render(&results_of(&status)?, args.format));
    Ok(())
}

/// Polls the job until it ends, showing configurations done / total; the
/// final status object of a completed job, else the job's error.
fn follow(client: &ServiceClient, job_id: &str) -> Result<Value, String> {
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} configurations  {msg}") {
        bar.set_style(style);
    }
    let outcome = loop {
        let status = match client.get(&format!("/status/{job_id}")) {
            Ok(status) => status,
            Err(ClientError::Refused {
                status: 429 | 503,
                retry_after,
                ..
            }) => {
                std::thread::sleep(Duration::from_secs(retry_after.unwrap_or(1).min(30)));
                continue;
            }
            Err(error) => break Err(error.to_string()),
        };
        bar.set_length(status["progress"]["total"].as_u64().unwrap_or(0));
        bar.set_position(status["progress"]["done"].as_u64().unwrap_or(0));
        let state = status["status"].as_str().unwrap_or_default().to_string();
        bar.set_message(state.clone());
        match state.as_str() {
            "completed" => break Ok(status),
            "failed" => {
                let reason = status["error"].as_str().unwrap_or("no reason given");
                break Err(format!("job {job_id} failed: {reason}"));
            }
            "cancelled" => break Err(format!("job {job_id} was cancelled")),
            _ => std::thread::sleep(POLL_INTERVAL),
        }
    };
    bar.finish_and_clear();
    outcome
}

/// Prints a job's state, and its results once completed (`--format csv`
/// prints only the results' CSV once there are results).
pub fn status(args: &JobArgs) -> Result<(), String> {
    let client = ServiceClient::new(&args.server).map_err(|e| e.to_string())?;
    let status = client
        .get(&format!("/status/{}", args.job_id))
        .map_err(|e| e.to_string())?;
    if args.format == Format::Json {
        println!("{}", pretty(&status));
        return Ok(());
    }
    let completed = status["status"] == "completed";
    if args.format == Format::Csv && completed {
        print!("{}", output::csv(&results_of(&status)?));
        return Ok(());
    }
    println!("{}", status_line(&status));
    if completed {
        println!();
        print!("{}", output::table(&results_of(&status)?));
    }
    Ok(())
}

/// Cancels a job and prints what the service did.
pub fn cancel(args: &JobArgs) -> Result<(), String> {
    let client = ServiceClient::new(&args.server).map_err(|e| e.to_string())?;
    let reply = client
        .delete(&format!("/jobs/{}", args.job_id))
        .map_err(|e| e.to_string())?;
    match args.format {
        Format::Json => println!("{}", pretty(&reply)),
        Format::Table | Format::Csv => println!(
            "job {}: {} ({})",
            text(&reply, "job_id")?,
            text(&reply, "status")?,
            reply["message"].as_str().unwrap_or_default()
        ),
    }
    Ok(())
}

/// Lists one page of jobs, newest first; the table ends with the command for
/// the next page when there are more jobs than it shows.
pub fn jobs(args: &JobsArgs) -> Result<(), String> {
    let client = ServiceClient::new(&args.server).map_err(|e| e.to_string())?;
    let mut path = format!("/jobs?limit={}&offset={}", args.limit, args.offset);
    if let Some(status) = args.status {
        let _ = write!(path, "&status={}", status.name());
    }
    let page = client.get(&path).map_err(|e| e.to_string())?;
    match args.format {
        Format::Json => println!("{}", pretty(&page)),
        Format::Table | Format::Csv => {
            if page["jobs"].as_array().is_some_and(|jobs| !jobs.is_empty()) {
                print!("{}", jobs_table(&page));
            }
            println!("{}", page_footer(&page, args));
        }
    }
    Ok(())
}

/// Which jobs of how many the page shows (`jobs 21 to 40 of 95`), then the
/// command for the next page on a line of its own when the page does not
/// reach the last job.
fn page_footer(page: &Value, args: &JobsArgs) -> String {
    let shown = page["jobs"].as_array().map_or(0, Vec::len) as u64;
    let total = page["total"].as_u64().unwrap_or(0);
    let offset = page["offset"].as_u64().unwrap_or(args.offset);
    if shown == 0 {
        return match offset {
            0 => "no jobs".to_string(),
            _ => format!("no jobs at offset {offset}; there are {total}"),
        };
    }

    let mut footer = format!("jobs {} to {} of {total}", offset + 1, offset + shown);
    let next_offset = offset + shown;
    if next_offset < total {
        let _ = write!(
            footer,
            "\nnext page: {}",
            args.next_page_command(next_offset)
        );
    }
    footer
}

/// `job <id>: running, 3/12 configurations, submitted <time>`.
fn status_line(status: &Value) -> String {
    let mut line = format!(
        "job {}: {}, {}/{} configurations, submitted {}",
        status["job_id"].as_str().unwrap_or("?"),
        status["status"].as_str().unwrap_or("?"),
        status["progress"]["done"],
        status["progress"]["total"],
        status["submitted_at"].as_str().unwrap_or("?"),
    );
    if let Some(completed) = status["completed_at"].as_str() {
        let _ = write!(line, ", ended {completed}");
    }
    if let Some(error) = status["error"].as_str() {
        let _ = write!(line, "; error: {error}");
    }
    line
}

/// One row per job of the page, columns aligned.
fn jobs_table(page: &Value) -> String {
    let headers = [
        "job_id",
        "status",
        "dataset",
        "shape",
        "profile",
        "progress",
        "submitted",
    ];
    let mut rows: Vec<[String; 7]> = Vec::new();
    for job in page["jobs"].as_array().into_iter().flatten() {
        let shape = job["shape"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join("x");
        rows.push([
            job["job_id"].as_str().unwrap_or("?").to_string(),
            job["status"].as_str().unwrap_or("?").to_string(),
            job["dataset_type"].as_str().unwrap_or("?").to_string(),
            shape,
            job["compression_profile"]
                .as_str()
                .unwrap_or("-")
                .to_string(),
            format!("{}/{}", job["progress"]["done"], job["progress"]["total"]),
            job["submitted_at"].as_str().unwrap_or("?").to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..headers.len())
        .map(|col| {
            rows.iter()
                .map(|row| row[col].len())
                .chain([headers[col].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (cell, width) in cells.iter().zip(&widths) {
            let _ = write!(text, "{cell:<width$}  ");
        }
        text.trim_end().to_string() + "\n"
    };
    let mut out = line(&headers.map(String::from));
    for row in &rows {
        out += &line(row);
    }
    out
}

/// The result object of a completed status.
fn results_of(status: &Value) -> Result<SweepResult, String> {
    serde_json::from_value(status["results"].clone())
        .map_err(|e| format!("the job's results could not be read: {e}"))
}

fn text(reply: &Value, field: &str) -> Result<String, String> {
    reply[field]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("the service's answer has no '{field}'"))
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
