//! `ldstore dump`: a prefix's data as `{"flags":{…},"segments":{…}}`, items byte-identical.

use std::io::Write;

use anyhow::{Context, Result};

use super::Ctx;
use crate::cli::DumpArgs;
use crate::config;
use crate::data::{DataSet, Kind};
use crate::exit::{self, UsageError};
use crate::store;

/// Write a data set in the `/sdk/latest-all` shape: keys sorted, items as stored.
pub fn write_data_set(
    out: &mut dyn Write,
    data: &DataSet,
    kinds: &[Kind],
    include_deleted: bool,
    key: Option<&str>,
) -> std::io::Result<()> {
    out.write_all(b"{")?;
    for (ki, kind) in kinds.iter().enumerate() {
        if ki > 0 {
            out.write_all(b",")?;
        }
        write!(out, "\"{}\":{{", kind.payload_name())?;
        let mut first = true;
        for (k, item) in data.items(*kind) {
            if (item.deleted && !include_deleted) || key.is_some_and(|want| want != k) {
                continue;
            }
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            serde_json::to_writer(&mut *out, k)?;
            out.write_all(b":")?;
            out.write_all(item.json.as_bytes())?;
        }
        out.write_all(b"}")?;
    }
    out.write_all(b"}\n")
}

pub async fn run(args: DumpArgs, ctx: &Ctx) -> Result<i32> {
    let sel = config::resolve_store(&args.store, ctx.env.as_ref())?;
    let store = store::open(&sel.store).await?;
    let prefix = store.effective_prefix(sel.prefix.as_deref());
    let kinds: Vec<Kind> = match args.kind {
        Some(k) => vec![k],
        None => Kind::ALL.to_vec(),
    };
    if !store.is_initialized(&prefix).await? {
        ctx.note(&format!(
            "ldstore: warning: {} prefix \"{prefix}\" is not initialized (no $inited marker)",
            store.backend()
        ));
    }
    let data = store.read_data_set(&prefix).await?;
    let mut buf: Vec<u8> = Vec::with_capacity(data.total_bytes() + 64);
    write_data_set(&mut buf, &data, &kinds, args.include_deleted, args.key.as_deref())?;
    drop(data);
    if args.pretty {
        let v: serde_json::Value = serde_json::from_slice(&buf).context("re-reading dump for --pretty")?;
        buf = serde_json::to_vec_pretty(&v)?;
        buf.push(b'\n');
    }
    match &args.out {
        Some(path) => write_atomically(path, &buf)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout.write_all(&buf).and_then(|_| stdout.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e.into());
            }
        }
    }
    Ok(exit::SUCCESS)
}

/// Write a file via a temporary sibling and a rename, so a failed dump never leaves half a file.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().ok_or_else(|| UsageError::new(format!("not a file name: {}", path.display())))?;
    let tmp = dir.join(format!(".{}.ldstore-tmp", name.to_string_lossy()));
    std::fs::write(&tmp, bytes).map_err(|e| UsageError::new(format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        UsageError::new(format!("cannot write {}: {e}", path.display()))
    })?;
    Ok(())
}
