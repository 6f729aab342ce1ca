//! `ldstore dump`: a prefix's data as `{"flags":{…},"segments":{…}}`, items byte-identical, and
//! the prefix's Big Segments data as `"bigSegments"` when it has any (see [`super::big_segments_file`]).

use std::io::Write;

use anyhow::{Context, Result};

use super::{Ctx, big_segments_file};
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
    write_members(out, data, kinds, include_deleted, key)?;
    out.write_all(b"}\n")
}

/// [`write_data_set`] without the closing brace, for more members to follow.
fn write_members(
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
    Ok(())
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
    // The Big Segments data goes with a whole dump (not one kind or one key), when there is any.
    let big = match store.big_segments() {
        Some(b) if args.kind.is_none() && args.key.is_none() => big_segments_file::has_data(b, &prefix).await?,
        _ => false,
    };
    let (pretty, include_deleted, key) = (args.pretty, args.include_deleted, args.key);
    let write = move |out: &mut dyn Write| -> Result<()> {
        if pretty {
            let mut buf: Vec<u8> = Vec::with_capacity(data.total_bytes() + 64);
            write_data_set(&mut buf, &data, &kinds, include_deleted, key.as_deref())?;
            let v: serde_json::Value = serde_json::from_slice(&buf).context("re-reading dump for --pretty")?;
            drop(buf);
            if big && let Some(b) = store.big_segments() {
                // The flags and segments indented, then the memberships streamed one per line.
                let mut text = serde_json::to_vec_pretty(&v)?;
                text.truncate(text.trim_ascii_end().len() - 1);
                out.write_all(text.trim_ascii_end())?;
                big_segments_file::write_member(out, b, &prefix, true)?;
                out.write_all(b"\n}\n")?;
            } else {
                serde_json::to_writer_pretty(&mut *out, &v)?;
                out.write_all(b"\n")?;
            }
        } else if big && let Some(b) = store.big_segments() {
            write_members(out, &data, &kinds, include_deleted, key.as_deref())?;
            big_segments_file::write_member(out, b, &prefix, false)?;
            out.write_all(b"}\n")?;
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
