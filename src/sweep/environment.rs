//! The facts about machine and build that move benchmark figures, recorded
//! with every result so figures are never compared blind.

pub use super::result::Environment;

/// The zarrs version this binary was built with (read from Cargo.lock by the
/// build script).
pub const ZARRS_VERSION: &str = env!("ZARRBENCH_ZARRS_VERSION");

/// zarrs' gzip codec goes through flate2, which this build points at zlib-rs.
pub const GZIP_BACKEND: &str = "zlib-rs (flate2)";

impl Environment {
    /// The environment of this process, for a sweep on `threads` threads.
    pub fn current(threads: usize) -> Environment {
        Environment {
            zarrbench_version: env!("CARGO_PKG_VERSION").to_string(),
            cpu_model: cpu_model(),
            logical_cpus: std::thread::available_parallelism().map_or(1, usize::from),
            threads,
            zarrs_version: ZARRS_VERSION.to_string(),
            codec_libraries: codec_libraries(),
            gzip_backend: GZIP_BACKEND.to_string(),
            simd_target: simd_target(),
            build_profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_string(),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            concurrent_jobs: None,
        }
    }
}

fn codec_libraries() -> String {
    // SAFETY: blosc returns a pointer to a static NUL-terminated string.
    let blosc = unsafe { std::ffi::CStr::from_ptr(blosc_src::blosc_get_version_string()) };
    format!(
        "c-blosc {}, zstd {}",
        blosc.to_string_lossy(),
        zstd::zstd_safe::version_string()
    )
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The architecture and the SIMD features the binary was compiled to use
/// (not what the CPU could do): blosc's shuffle only uses AVX2 when built for it.
fn simd_target() -> String {
    let mut parts = vec![std::env::consts::ARCH];
    macro_rules! feature {
        ($($name:tt),*) => {
            $( if cfg!(target_feature = $name) { parts.push($name); } )*
        };
    }
    feature!(
        "sse2", "ssse3", "sse4.1", "sse4.2", "avx", "avx2", "avx512f", "bmi2", "neon"
    );
    parts.join(" ")
}
