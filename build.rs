//! Records the versions of the libraries that move benchmark figures, read from
//! Cargo.lock, so results can state them.

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock");
    let lock = std::fs::read_to_string(lock_path).unwrap_or_default();
    let version = locked_version(&lock, "zarrs").unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=ZARRBENCH_ZARRS_VERSION={version}");
}

fn locked_version(lock: &str, package: &str) -> Option<String> {
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == name_line {
            let version = lines.next()?.trim();
            return Some(
                version
                    .strip_prefix("version = \"")?
                    .trim_end_matches('"')
                    .to_string(),
            );
        }
    }
    None
}
