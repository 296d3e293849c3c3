//! Volumes read from files: where a request may point, and what it finds there.
//!
//! A request names a file (or Zarr array) by a path. The service confines that
//! path to its data directory: it must be relative, without `..`, and once
//! every symbolic link is resolved it must still lie inside the directory and
//! must not be one of the service's own files (its database, its signing
//! secret, its temporary stores). The command line reads any path the user
//! can.
//!
//! [`attach`] runs at submission: it resolves the path, reads the file's
//! headers, checks the region and fills the volume's shape, dtype and voxel
//! size from the file, so that a missing, truncated or unsupported file fails
//! the request, not the job. [`load`] runs in the worker: it resolves the path
//! again (the directory may have changed since), reads the pixels and checks
//! they are still what was checked.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{BenchmarkError, BenchmarkSpec};
use crate::data::Volume;
use crate::input::{self, InputInfo, InputKind, Region};

/// Names in the data directory that belong to the service itself.
const RESERVED: [&str; 3] = [
    crate::registry::store::DATABASE_FILE,
    crate::webhook::secret::SECRET_FILE,
    "stores",
];

/// The file a benchmark reads instead of generating a volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// As the request gave it: relative to the data directory for the
    /// service, any path for the command line.
    pub path: String,
    /// The part of the file benchmarked; `None` for all of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    pub kind: InputKind,
    /// Shape of the whole file (before any region).
    pub file_shape: Vec<u64>,
    /// Size and modification time when the request was checked. Part of the
    /// specification, so a cached result is never reused for a file that has
    /// been replaced since.
    pub fingerprint: String,
}

/// Where request paths may point.
#[derive(Debug, Clone, Copy)]
pub enum Root<'a> {
    /// Inside this directory only (the service's data directory).
    Confined(&'a Path),
    /// Anywhere (the command line, on the user's own machine).
    Anywhere,
}

/// Resolves `given` to the file it names, enforcing `root`.
pub fn resolve(given: &str, root: Root<'_>) -> Result<PathBuf, BenchmarkError> {
    if given.is_empty() || given.contains('\0') {
        return Err(invalid_path(
            "data_path must be a non-empty path without NUL characters",
        ));
    }
    let Root::Confined(dir) = root else {
        return Ok(PathBuf::from(given));
    };
    let relative = Path::new(given);
    for component in relative.components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => {
                return Err(invalid_path(format!(
                    "data_path '{given}' contains '..'; give a path inside the data directory without '..'"
                )));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(invalid_path(format!(
                    "data_path '{given}' is absolute; give it relative to the service's data directory"
                )));
            }
        }
    }
    let dir = dir.canonicalize().map_err(|e| BenchmarkError::Input {
        code: "input-not-found",
        message: format!("the data directory cannot be read: {e}"),
    })?;
    let joined = dir.join(relative);
    let resolved = joined.canonicalize().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => BenchmarkError::Input {
            code: "input-not-found",
            message: format!(
                "data_path '{given}' does not exist in the data directory; copy the file there or check the path"
            ),
        },
        _ => BenchmarkError::Input {
            code: "input-not-found",
            message: format!("data_path '{given}' cannot be opened: {e}"),
        },
    })?;
    let Ok(inside) = resolved.strip_prefix(&dir) else {
        return Err(invalid_path(format!(
            "data_path '{given}' leads outside the data directory (through a symbolic link); only files inside it can be benchmarked"
        )));
    };
    let first = inside.components().next().and_then(|c| match c {
        Component::Normal(name) => name.to_str(),
        _ => None,
    });
    let reserved = match first {
        None => true,
        Some(name) => RESERVED
            .iter()
            .any(|r| name == *r || name.starts_with(&format!("{r}-"))),
    };
    if reserved {
        return Err(invalid_path(format!(
            "data_path '{given}' is the data directory itself or one of the service's own files; name a data file inside it"
        )));
    }
    Ok(resolved)
}

fn invalid_path(message: impl Into<String>) -> BenchmarkError {
    BenchmarkError::Input {
        code: "invalid-data-path",
        message: message.into(),
    }
}

/// The reader names the file by the path it opened; the user knows it by the
/// path they gave (and need not learn where the data directory is).
fn input_error(given: &str, resolved: &Path, error: input::InputError) -> BenchmarkError {
    let opened = resolved.display().to_string();
    BenchmarkError::Input {
        code: error.code(),
        message: error.to_string().replace(&opened, given),
    }
}

/// Size and modification time of `path` (for a Zarr folder, of its metadata
/// document), as a short string.
fn fingerprint(path: &Path) -> String {
    let metadata_of = |p: &Path| std::fs::metadata(p).ok();
    let target = if path.is_dir() {
        [path.join("zarr.json"), path.join(".zarray")]
            .into_iter()
            .find(|p| p.is_file())
            .unwrap_or_else(|| path.to_path_buf())
    } else {
        path.to_path_buf()
    };
    match metadata_of(&target) {
        Some(metadata) => {
            let modified = metadata
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}-{modified}", metadata.len())
        }
        None => "unknown".to_string(),
    }
}

/// Points `spec` at the file `given`: reads its headers, checks `region`,
/// and takes the volume's shape, dtype and (unless the request set one) voxel
/// size from the file. A `shape` or `dtype` already in the spec must agree
/// with the file.
pub fn attach(
    spec: &mut BenchmarkSpec,
    given: &str,
    region: Option<Region>,
    root: Root<'_>,
) -> Result<(), BenchmarkError> {
    let path = resolve(given, root)?;
    let info: InputInfo = input::probe(&path).map_err(|e| input_error(given, &path, e))?;
    let shape = match &region {
        Some(region) => {
            region
                .validate(&info.shape)
                .map_err(|message| BenchmarkError::Input {
                    code: "invalid-region",
                    message: format!("region: {message}"),
                })?;
            region.size.clone()
        }
        None => info.shape.clone(),
    };
    if !spec.volume.shape.is_empty() && spec.volume.shape != shape {
        return Err(BenchmarkError::Invalid(format!(
            "shape {:?} does not match '{given}', which holds {:?}{}; leave the shape out, it comes from the file",
            spec.volume.shape,
            shape,
            if region.is_some() {
                " in the region"
            } else {
                ""
            },
        )));
    }
    if let Some(dtype) = spec.volume.dtype
        && dtype != info.dtype
    {
        return Err(BenchmarkError::Input {
            code: "invalid-dtype",
            message: format!(
                "dtype {} does not match '{given}', which holds {}; leave the dtype out, it comes from the file",
                dtype.name(),
                info.dtype.name()
            ),
        });
    }
    spec.volume.shape = shape;
    spec.volume.dtype = Some(info.dtype);
    if spec.volume.voxel_size.is_none() {
        spec.volume.voxel_size = info.voxel_size.clone();
    }
    spec.input = Some(InputSpec {
        path: given.to_string(),
        region,
        kind: info.kind,
        file_shape: info.shape,
        fingerprint: fingerprint(&path),
    });
    Ok(())
}

/// Reads the pixels of an attached file, checking they are still what
/// [`attach`] saw.
pub fn load(
    spec: &BenchmarkSpec,
    input: &InputSpec,
    root: Root<'_>,
) -> Result<Volume, BenchmarkError> {
    let path = resolve(&input.path, root)?;
    let volume = input::read(&path, input.region.as_ref())
        .map_err(|e| input_error(&input.path, &path, e))?;
    if volume.shape != spec.volume.shape || Some(volume.dtype) != spec.volume.dtype {
        return Err(BenchmarkError::Input {
            code: "input-changed",
            message: format!(
                "'{}' changed since the job was submitted: it now holds {:?} {}, not {:?} {}; submit the job again",
                input.path,
                volume.shape,
                volume.dtype.name(),
                spec.volume.shape,
                spec.volume.dtype().name()
            ),
        });
    }
    Ok(volume)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_code(given: &str, dir: &Path) -> &'static str {
        match resolve(given, Root::Confined(dir)) {
            Err(BenchmarkError::Input { code, .. }) => code,
            other => panic!("{given}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn paths_that_leave_the_data_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.tif"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/ok.tif"), b"x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            outside.path().join("secret.tif"),
            dir.path().join("link.tif"),
        )
        .unwrap();

        assert_eq!(refused_code("/etc/passwd", dir.path()), "invalid-data-path");
        assert_eq!(refused_code("../x.tif", dir.path()), "invalid-data-path");
        assert_eq!(
            refused_code("sub/../sub/ok.tif", dir.path()),
            "invalid-data-path"
        );
        assert_eq!(refused_code("", dir.path()), "invalid-data-path");
        assert_eq!(refused_code("a\0b", dir.path()), "invalid-data-path");
        #[cfg(unix)]
        assert_eq!(refused_code("link.tif", dir.path()), "invalid-data-path");
        assert_eq!(refused_code("missing.tif", dir.path()), "input-not-found");
        assert_eq!(refused_code(".", dir.path()), "invalid-data-path");

        let resolved = resolve("sub/ok.tif", Root::Confined(dir.path())).unwrap();
        assert!(resolved.ends_with("sub/ok.tif"));
        let resolved = resolve("./sub/ok.tif", Root::Confined(dir.path())).unwrap();
        assert!(resolved.ends_with("sub/ok.tif"));
    }

    #[test]
    fn the_services_own_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in RESERVED {
            std::fs::write(dir.path().join(name), b"x").unwrap_or_else(|_| {
                std::fs::create_dir_all(dir.path().join(name)).unwrap();
            });
            assert_eq!(
                refused_code(name, dir.path()),
                "invalid-data-path",
                "{name}"
            );
        }
        let wal = format!("{}-wal", crate::registry::store::DATABASE_FILE);
        std::fs::write(dir.path().join(&wal), b"x").unwrap();
        assert_eq!(refused_code(&wal, dir.path()), "invalid-data-path");
    }

    #[test]
    fn anywhere_takes_the_path_as_given() {
        assert_eq!(
            resolve("/tmp/x.tif", Root::Anywhere).unwrap(),
            PathBuf::from("/tmp/x.tif")
        );
    }
}
