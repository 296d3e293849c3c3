//! A job's report page: one self-contained HTML document a person opens in a
//! browser or prints.
//!
//! The page shows what any job has (the dataset asked for, status, phase,
//! progress, timestamps) and, once the job completed, what its result object
//! holds: the trade-off chart of [`super::svg`] inlined, the recommendation
//! table, every configuration with the columns of the command-line table, and
//! the environment the figures were measured in. A pending or running job's
//! page reloads itself every [`REFRESH_SECONDS`] through a `<meta>` refresh;
//! a final page does not.
//!
//! The document loads nothing: the style sheet is inline, there is no
//! script, no font and no image by URL, and the only links are paths on the
//! same server to the job's own CSV, SVG and JSON. Every piece of text that
//! comes from a request or a job (errors, the callback URL, the input file's
//! path, the dataset source) is escaped. Serve it with
//! [`CONTENT_SECURITY_POLICY`].
//!
//! The renderer reads a [`JobView`] only; it fetches nothing and touches no
//! store.

use std::fmt::Write as _;

use super::svg::{self, escape};
use crate::benchmark::{BenchmarkSpec, StoreChoice};
use crate::data::{Dtype, Modality};
use crate::registry::job::{JobStatus, Progress};
use crate::sweep::SweepResult;
use crate::sweep::plan::{self, Profile, shape_label};
use crate::sweep::result::{ConfigResult, Environment};

/// Seconds between reloads of a pending or running job's page.
pub const REFRESH_SECONDS: u32 = 5;

/// The policy the page is written for: nothing may load, inline styles may
/// apply, and the page may not be framed or submit anywhere. Inline SVG needs
/// nothing more (its colours are attributes, not style sheets).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What the page shows of a job, in any state.
#[derive(Debug, Clone, PartialEq)]
pub struct JobView {
    pub job_id: String,
    pub status: JobStatus,
    pub progress: Progress,
    /// UTC ISO-8601 timestamps, as the status object gives them.
    pub submitted_at: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    /// Why the job failed or stopped.
    pub error: Option<String>,
    pub request: RequestSummary,
    /// The result object; present once the job completed.
    pub result: Option<SweepResult>,
}

/// What the job asked for, known from submission on.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSummary {
    pub modality: Modality,
    pub shape: Vec<u64>,
    pub dtype: Dtype,
    pub profile: Profile,
    pub repeats: u32,
    pub threads: usize,
    pub store: &'static str,
    /// The file benchmarked, e.g. `scans/cell.tif (tiff)`, with its region;
    /// `None` for a generated volume.
    pub input: Option<String>,
    pub callback_url: Option<String>,
}

impl RequestSummary {
    /// The summary of a job's specification and callback URL.
    pub fn of(spec: &BenchmarkSpec, callback_url: Option<String>) -> RequestSummary {
        RequestSummary {
            modality: spec.volume.modality,
            shape: spec.volume.shape.clone(),
            dtype: spec.volume.dtype(),
            profile: spec.plan.profile.unwrap_or(plan::DEFAULT_PROFILE),
            repeats: spec.repeats,
            threads: spec.threads,
            store: match spec.store {
                StoreChoice::Memory => "memory",
                StoreChoice::Filesystem => "filesystem",
            },
            input: spec.input.as_ref().map(|input| {
                let mut label = format!("{} ({})", input.path, input.kind);
                if let Some(region) = &input.region {
                    let _ = write!(
                        label,
                        ", region {}",
                        region_label(&region.start, &region.size)
                    );
                }
                label
            }),
            callback_url,
        }
    }
}

const STYLE: &str = "
body { font: 15px/1.45 system-ui, sans-serif; color: #222; max-width: 1140px; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; padding-bottom: .2rem; border-bottom: 1px solid #ddd; }
.subtitle { color: #555; margin: .2rem 0 1rem; }
code { font-family: ui-monospace, monospace; font-size: .9em; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: .25rem; font-weight: 600; }
.pending, .running { background: #fff1c7; }
.completed { background: #d9f2de; }
.failed { background: #f8d7d7; }
.cancelled { background: #e6e6e6; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .5rem 0; }
dt { color: #555; }
dd { margin: 0; overflow-wrap: anywhere; }
progress { width: 16rem; vertical-align: middle; }
.error { border-left: 4px solid #c62828; background: #fdf0f0; padding: .5rem .75rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.note { color: #555; font-size: .9rem; }
figure { margin: 1rem 0; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid #e5e5e5; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { padding: .2rem .5rem; border-bottom: 1px solid #e5e5e5; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid #bbb; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.pareto td { background: #f1f6fd; }
tr.failed-row td { color: #a01818; }
.environment dl { font-size: .85rem; }
footer { margin: 2rem 0 1rem; font-size: .85rem; color: #555; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  tr, figure { break-inside: avoid; }
  footer { display: none; }
}
";

/// Renders the page of a job.
pub fn render(job: &JobView) -> String {
    let mut page = String::with_capacity(32 * 1024);
    head(&mut page, job);
    page += "<body>\n";
    header(&mut page, job);
    job_section(&mut page, job);
    match (&job.result, job.status) {
        (Some(result), JobStatus::Completed) => {
            chart(&mut page, result);
            recommendations(&mut page, result);
            configurations(&mut page, result);
            environment(&mut page, result);
        }
        (None, JobStatus::Completed) => {
            page += "<p class=\"note\">The job completed but its result object is missing.</p>\n";
        }
        _ => {}
    }
    footer(&mut page, job);
    page += "</body>\n</html>\n";
    page
}

/// The heading's words: modality, shape and dtype of the volume.
fn dataset_label(job: &JobView) -> String {
    match &job.result {
        Some(result) => format!(
            "{} {} {}",
            result.dataset.modality,
            shape_label(&result.dataset.shape),
            result.dataset.dtype
        ),
        None => format!(
            "{} {} {}",
            job.request.modality,
            shape_label(&job.request.shape),
            job.request.dtype
        ),
    }
}

fn head(page: &mut String, job: &JobView) {
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    if !job.status.is_final() {
        let _ = writeln!(
            page,
            "<meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">"
        );
    }
    let _ = writeln!(
        page,
        "<title>{} ({}) - zarrbench</title>\n<style>{STYLE}</style>\n</head>",
        escape(&dataset_label(job)),
        job.status.name()
    );
}

fn header(page: &mut String, job: &JobView) {
    let _ = writeln!(
        page,
        "<header>\n<h1>{}</h1>\n<p class=\"subtitle\">zarrbench job <code>{}</code>, profile {}</p>\n</header>",
        escape(&dataset_label(job)),
        escape(&job.job_id),
        job.request.profile
    );
}

/// What the job is doing, in words a person reads at a glance.
fn phase(job: &JobView) -> &'static str {
    let Progress { done, total } = job.progress;
    match job.status {
        JobStatus::Pending => "queued: waiting for a free worker",
        JobStatus::Running if done == 0 => {
            "preparing the volume, then measuring the first configuration"
        }
        JobStatus::Running if done < total => "measuring configurations",
        JobStatus::Running => "every configuration measured; choosing recommendations",
        JobStatus::Completed => "finished",
        JobStatus::Failed => "stopped by an error",
        JobStatus::Cancelled => "stopped on request",
    }
}

fn job_section(page: &mut String, job: &JobView) {
    let Progress { done, total } = job.progress;
    let percent = (done * 100).checked_div(total).unwrap_or(0);
    let _ = writeln!(
        page,
        "<section class=\"job\">\n<h2>Job</h2>\n<dl>\n<dt>status</dt><dd><span class=\"badge {0}\">{0}</span> {1}</dd>",
        job.status.name(),
        phase(job)
    );
    let _ = writeln!(
        page,
        "<dt>progress</dt><dd><progress max=\"{}\" value=\"{done}\">{percent}%</progress> <span class=\"progress-figure\">{done} / {total}</span> configurations ({percent}%)</dd>",
        total.max(1)
    );
    let times = [
        ("submitted", Some(&job.submitted_at)),
        ("started", job.started_at.as_ref()),
        ("ended", job.completed_at.as_ref()),
    ];
    for (label, time) in times {
        if let Some(time) = time {
            let _ = writeln!(page, "<dt>{label}</dt><dd>{}</dd>", escape(time));
        }
    }
    let request = &job.request;
    let _ = writeln!(
        page,
        "<dt>request</dt><dd>{} repeat(s), {} thread(s), {} store</dd>",
        request.repeats, request.threads, request.store
    );
    if let Some(input) = &request.input {
        let _ = writeln!(
            page,
            "<dt>input file</dt><dd><code>{}</code></dd>",
            escape(input)
        );
    }
    if let Some(url) = &request.callback_url {
        let _ = writeln!(
            page,
            "<dt>callback URL</dt><dd><code>{}</code></dd>",
            escape(url)
        );
    }
    page.push_str("</dl>\n");

    if let Some(error) = &job.error {
        let _ = writeln!(page, "<p class=\"error\">{}</p>", escape(error));
    }
    if !job.status.is_final() {
        let _ = writeln!(
            page,
            "<p class=\"note\">This page reloads every {REFRESH_SECONDS} seconds until the job ends.</p>"
        );
    }
    page.push_str("</section>\n");
}

fn chart(page: &mut String, result: &SweepResult) {
    page.push_str("<section class=\"chart\">\n<h2>Trade-off</h2>\n<figure>\n");
    page.push_str(&svg::render(result));
    page.push_str("</figure>\n</section>\n");
}

fn recommendations(page: &mut String, result: &SweepResult) {
    page.push_str("<section class=\"recommendations\">\n<h2>Recommendations</h2>\n");
    if result.recommendation_details.is_empty() {
        page.push_str("<p>None: no configuration succeeded.</p>\n</section>\n");
        return;
    }
    page.push_str(
        "<table>\n<thead><tr><th>profile</th><th>configuration</th><th class=\"num\">ratio</th>\
         <th class=\"num\">write MB/s</th><th class=\"num\">read MB/s</th><th>reason</th></tr></thead>\n<tbody>\n",
    );
    for (profile, pick) in &result.recommendation_details {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"num\">{:.3}</td><td class=\"num\">{:.0}</td><td class=\"num\">{:.0}</td><td>{}</td></tr>",
            escape(profile),
            escape(&pick.config_id),
            pick.ratio,
            pick.write_mbps,
            pick.read_mbps,
            escape(&pick.reason)
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

fn configurations(page: &mut String, result: &SweepResult) {
    let _ = writeln!(
        page,
        "<section class=\"configurations\">\n<h2>Configurations ({})</h2>",
        result.configs.len()
    );
    page.push_str(
        "<table>\n<thead><tr><th title=\"on the Pareto front\"></th><th>configuration</th><th class=\"num\">ratio</th>\
         <th class=\"num\">write MB/s</th><th class=\"num\">read MB/s</th><th class=\"num\">plane ms</th>\
         <th class=\"num\">region ms</th></tr></thead>\n<tbody>\n",
    );
    for row in &result.configs {
        configuration_row(page, row);
    }
    page.push_str(
        "</tbody>\n</table>\n<p class=\"note\">* on the Pareto front of ratio, write speed and read speed \
         (no other configuration is at least as good in all three and better in one); \
         ! failed. Speeds are MB/s of uncompressed data (median of the timed repeats); \
         plane and region are reads of part of the array.</p>\n</section>\n",
    );
}

fn configuration_row(page: &mut String, row: &ConfigResult) {
    let id = escape(&row.config_id);
    match &row.measured {
        Some(m) => {
            let (class, mark) = if row.pareto {
                (" class=\"pareto\"", "*")
            } else {
                ("", "")
            };
            let _ = writeln!(
                page,
                "<tr{class}><td>{mark}</td><td><code>{id}</code></td><td class=\"num\">{:.3}</td><td class=\"num\">{:.0}</td><td class=\"num\">{:.0}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td></tr>",
                m.ratio,
                m.write_mbps,
                m.read_mbps,
                m.partial_reads.plane_time * 1e3,
                m.partial_reads.region_time * 1e3
            );
        }
        None => {
            let error = row.error.as_deref().unwrap_or("no measurement");
            let _ = writeln!(
                page,
                "<tr class=\"failed-row\"><td>!</td><td><code>{id}</code></td><td colspan=\"5\">failed: {}</td></tr>",
                escape(error)
            );
        }
    }
}

fn environment(page: &mut String, result: &SweepResult) {
    page.push_str("<section class=\"environment\">\n<h2>Environment</h2>\n<dl>\n");
    for (label, value) in machine_facts(result)
        .into_iter()
        .chain(volume_facts(result))
    {
        let _ = writeln!(page, "<dt>{label}</dt><dd>{}</dd>", escape(&value));
    }
    page.push_str("</dl>\n");
    if result.environment.build_profile != "release" {
        page.push_str("<p class=\"note\">A debug build measured these figures; they are not comparable with a release build's.</p>\n");
    }
    page.push_str("</section>\n");
}

/// The machine, build and libraries behind the figures.
fn machine_facts(result: &SweepResult) -> Vec<(&'static str, String)> {
    let Environment {
        zarrbench_version,
        cpu_model,
        logical_cpus,
        threads,
        zarrs_version,
        codec_libraries,
        gzip_backend,
        simd_target,
        build_profile,
        os,
        concurrent_jobs,
    } = &result.environment;
    vec![
        ("zarrbench", zarrbench_version.clone()),
        ("zarrs", zarrs_version.clone()),
        ("codec libraries", codec_libraries.clone()),
        ("gzip backend", gzip_backend.clone()),
        ("CPU", format!("{cpu_model} ({logical_cpus} logical)")),
        ("threads", threads.to_string()),
        ("SIMD target", simd_target.clone()),
        ("build", build_profile.clone()),
        ("OS", os.clone()),
        (
            "other jobs running",
            concurrent_jobs.map_or_else(|| "unknown".to_string(), |n| n.to_string()),
        ),
        ("memcpy", format!("{:.0} MB/s", result.memcpy_mbps)),
        ("store", result.store.clone()),
        ("repeats", result.repeats.to_string()),
    ]
}

/// Where the volume came from and how long each phase took.
fn volume_facts(result: &SweepResult) -> Vec<(&'static str, String)> {
    let dataset = &result.dataset;
    let mut volume = format!(
        "{:.1} MB ({} bytes)",
        dataset.bytes as f64 / 1e6,
        dataset.bytes
    );
    if let Some(seed) = dataset.seed {
        let _ = write!(volume, ", seed {seed}");
    }
    let mut source = dataset.source.clone();
    if let Some(format) = dataset.format {
        let _ = write!(source, " ({format})");
    }
    let mut facts = vec![("volume", volume), ("source", source)];
    if let Some(region) = &dataset.region {
        facts.push(("region", region_label(&region.start, &region.size)));
    }
    if let Some(voxel_size) = &dataset.voxel_size {
        let sizes: Vec<String> = voxel_size.iter().map(f64::to_string).collect();
        facts.push(("voxel size", sizes.join(" x ")));
    }
    facts.push((
        "timing",
        format!(
            "volume {:.2} s (built or read), sweep {:.2} s, total {:.2} s",
            result.timing.generation, result.timing.sweep, result.timing.total
        ),
    ));
    facts
}

/// `64x64x64 from 0,128,128`.
fn region_label(start: &[u64], size: &[u64]) -> String {
    let start: Vec<String> = start.iter().map(u64::to_string).collect();
    format!("{} from {}", shape_label(size), start.join(","))
}

fn footer(page: &mut String, job: &JobView) {
    let id = escape(&job.job_id);
    page.push_str("<footer>\n");
    if job.status == JobStatus::Completed {
        let _ = writeln!(
            page,
            "Also as <a href=\"/jobs/{id}/results.csv\">CSV</a>, <a href=\"/jobs/{id}/report.svg\">SVG chart</a> and"
        );
    } else {
        page.push_str("Also as\n");
    }
    let _ = writeln!(page, "<a href=\"/status/{id}\">JSON</a>.\n</footer>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::{self, RunContext};
    use crate::sweep::Unobserved;

    fn request() -> RequestSummary {
        let mut spec = BenchmarkSpec::new(Modality::Synthetic, vec![16, 16, 16]);
        spec.plan.profile = Some(Profile::Fast);
        spec.repeats = 1;
        RequestSummary::of(
            &spec,
            Some("https://example.org/hook?a=<b>&c='d'".to_string()),
        )
    }

    fn view(status: JobStatus, result: Option<SweepResult>) -> JobView {
        JobView {
            job_id: "8a1c6a57-3c0e-4a36-9d1e-6d1d0c1f2b3a".to_string(),
            status,
            progress: Progress { done: 3, total: 12 },
            submitted_at: "2025-11-18T21:30:00.123Z".to_string(),
            started_at: Some("2025-11-18T21:30:01.000Z".to_string()),
            completed_at: None,
            error: None,
            request: request(),
            result,
        }
    }

    fn small_result() -> SweepResult {
        let dir = tempfile::tempdir().expect("tempdir");
        let context = RunContext {
            data_dir: dir.path().to_path_buf(),
            max_volume_bytes: 1 << 24,
            input_confined: false,
        };
        let mut spec = BenchmarkSpec::new(Modality::Synthetic, vec![16, 16, 16]);
        spec.plan.profile = Some(Profile::Fast);
        spec.repeats = 1;
        benchmark::run(&spec, &context, &Unobserved).expect("sweep")
    }

    #[test]
    fn an_active_job_page_reloads_and_shows_progress() {
        let page = render(&view(JobStatus::Running, None));
        assert!(page.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
        assert!(page.contains("3 / 12"));
        assert!(page.contains("synthetic 16x16x16 uint16"));
        assert!(page.contains("measuring configurations"));
    }

    #[test]
    fn a_final_page_does_not_reload_and_shows_the_error() {
        let mut failed = view(JobStatus::Failed, None);
        failed.error = Some("the sweep crashed: <boom>".to_string());
        let page = render(&failed);
        assert!(!page.contains("http-equiv"));
        assert!(page.contains("the sweep crashed: &lt;boom&gt;"));
    }

    #[test]
    fn a_completed_page_lists_every_configuration_and_recommendation() {
        let mut result = small_result();
        result.configs[0].measured = None;
        result.configs[0].error = Some("<script>x</script>".to_string());
        result.dataset.source = "/data/\"stack\".tif".to_string();
        let page = render(&view(JobStatus::Completed, Some(result.clone())));

        for row in &result.configs {
            assert!(page.contains(&format!("<code>{}</code>", row.config_id)));
        }
        for profile in result.recommendation_details.keys() {
            assert!(
                page.contains(&format!("<tr><td>{profile}</td>")),
                "{profile}"
            );
        }
        assert!(page.contains("<svg"));
        assert!(page.contains("failed: &lt;script&gt;x&lt;/script&gt;"));
        assert!(page.contains("/data/&quot;stack&quot;.tif"));
        assert!(page.contains("https://example.org/hook?a=&lt;b&gt;&amp;c=&#39;d&#39;"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("http-equiv"));
    }
}
