//! `ldstore dump`: a prefix's data as `{"flags":{…},"segments":{…}}`, items byte-identical.

use std::io::Write;

use anyhow::{Context, Result};

use super::Ctx;
use crate::config::commands::DumpSettings;
use crate::data::{DataSet, Kind};
use crate::exit::{self, ExitCode};
use crate::output;
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

pub async fn run(args: DumpSettings, ctx: &Ctx) -> Result<ExitCode> {
    let sel = args.sel;
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
        // The same prefix as LaunchDarkly's Go store on go-redis writes it on a cluster / Sentinel.
        let tagged = format!("{{ld}}.{prefix}");
        if let Some(note) = store::prefix_form_note(&tagged)
            && store.is_initialized(&tagged).await.unwrap_or(false)
        {
            ctx.note(&format!("ldstore: note: prefix \"{tagged}\" holds data: {note}"));
        }
    }
    let data = store.read_data_set(&prefix).await?;
    let (pretty, include_deleted, key) = (args.pretty, args.include_deleted, args.key);
    let write = move |out: &mut dyn Write| -> Result<()> {
        if pretty {
            let mut buf: Vec<u8> = Vec::with_capacity(data.total_bytes() + 64);
            write_data_set(&mut buf, &data, &kinds, include_deleted, key.as_deref())?;
            let v: serde_json::Value = serde_json::from_slice(&buf).context("re-reading dump for --pretty")?;
            drop(buf);
            serde_json::to_writer_pretty(&mut *out, &v)?;
            out.write_all(b"\n")?;
        } else {
            // Streamed straight to the output: the data set is held once, never copied.
            write_data_set(out, &data, &kinds, include_deleted, key.as_deref())?;
        }
        Ok(())
    };
    match &args.out {
        Some(path) => output::write_file(path, write).await?,
        None => output::write_stdout(write)?,
    }
    Ok(exit::SUCCESS)
}
