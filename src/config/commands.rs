//! Each command's settings: resolved from its clap arguments (and the environment, and a Relay
//! config) before it runs, so commands never see the clap types. Resolution happens in the order
//! the commands used to resolve them, so the first error a user meets is unchanged.

use std::path::PathBuf;

use anyhow::Result;
use launchdarkly_server_sdk_evaluation as ld;
use serde_json::Value;

use super::envs::{Resolved, resolve};
use super::source_spec::{ResolvedSource, ld_source, parse_spec, resolve_source};
use super::table::table_config;
use super::vars::Env;
use super::{DynamoDbConfig, StoreSelection, resolve_store};
use crate::cli::{
    Billing, CreateTableArgs, DiffArgs, DumpArgs, DynamodbArgs, DynamodbCommand, EvalArgs, InspectArgs, MembershipArgs,
    PruneArgs, SyncArgs, ValidateArgs,
};
use crate::data::Kind;
use crate::exit::UsageError;
use crate::store::dynamodb::NewTable;

/// `dump`.
pub struct DumpSettings {
    pub sel: StoreSelection,
    pub kind: Option<Kind>,
    pub key: Option<String>,
    pub include_deleted: bool,
    pub pretty: bool,
    pub out: Option<PathBuf>,
}

pub fn dump(a: DumpArgs, env: &dyn Env) -> Result<DumpSettings> {
    Ok(DumpSettings {
        sel: resolve_store(&a.store, env)?,
        kind: a.kind.map(kind),
        key: a.key,
        include_deleted: a.include_deleted,
        pretty: a.pretty,
        out: a.out,
    })
}

/// `inspect`.
pub struct InspectSettings {
    pub sel: StoreSelection,
    /// Big Segments older than this are stale.
    pub stale_after: std::time::Duration,
    /// Count every membership record (else at most [`crate::store::big_segments::SAMPLE_LIMIT`]).
    pub exact: bool,
}

pub fn inspect(a: InspectArgs, env: &dyn Env) -> Result<InspectSettings> {
    Ok(InspectSettings { sel: resolve_store(&a.store, env)?, stale_after: a.stale_after, exact: a.exact })
}

/// `validate`.
pub struct ValidateSettings {
    pub sel: StoreSelection,
    pub all_prefixes: bool,
    pub strict: bool,
    /// Big Segments older than this are stale.
    pub stale_after: std::time::Duration,
}

pub fn validate(a: ValidateArgs, env: &dyn Env) -> Result<ValidateSettings> {
    Ok(ValidateSettings {
        sel: resolve_store(&a.store, env)?,
        all_prefixes: a.all_prefixes,
        strict: a.strict,
        stale_after: a.stale_after,
    })
}

/// `diff`: both sides, ready to open.
pub struct DiffSettings {
    pub a: ResolvedSource,
    pub b: ResolvedSource,
    pub show_values: bool,
    pub kind: Option<Kind>,
    pub key: Option<String>,
}

pub fn diff(args: DiffArgs, env: &dyn Env) -> Result<DiffSettings> {
    let defaults = args.store.to_store_args();
    let spec_a = parse_spec(&args.a, &defaults, env)?;
    let spec_b = parse_spec(&args.b, &defaults, env)?;
    Ok(DiffSettings {
        a: resolve_source(spec_a, &args.ld, env, None)?,
        b: resolve_source(spec_b, &args.ld, env, None)?,
        show_values: args.show_values,
        kind: args.kind.map(kind),
        key: args.key,
    })
}

/// Where `eval` reads flags from.
pub enum EvalFrom {
    /// `--from SOURCE`.
    Source(ResolvedSource),
    /// The store (`--redis` …) and prefix.
    Store(Box<StoreSelection>),
}

/// `eval`.
pub struct EvalSettings {
    pub context: ld::Context,
    /// The context as given (JSON), for the output.
    pub raw_context: Value,
    pub from: EvalFrom,
    pub flag: Option<String>,
}

pub fn eval(args: EvalArgs, env: &dyn Env) -> Result<EvalSettings> {
    let (context, raw_context) = parse_context(&args.context)?;
    let from = match &args.from {
        Some(spec) => EvalFrom::Source(resolve_source(parse_spec(spec, &args.store, env)?, &args.ld, env, None)?),
        None => EvalFrom::Store(Box::new(resolve_store(&args.store, env)?)),
    };
    Ok(EvalSettings { context, raw_context, from, flag: args.flag })
}

/// `prune`.
pub struct PruneSettings {
    pub sel: StoreSelection,
    pub dry_run: bool,
}

pub fn prune(a: PruneArgs, env: &dyn Env) -> Result<PruneSettings> {
    Ok(PruneSettings { sel: resolve_store(&a.store, env)?, dry_run: a.dry_run })
}

/// `membership`: whose membership to look up.
pub enum MembershipLookup {
    /// One key, for every Big Segment whatever its kind.
    Key(String),
    /// A context: each Big Segment looks up the key of its kind's context.
    Context(Box<ld::Context>, Value),
}

/// `membership`.
pub struct MembershipSettings {
    pub sel: StoreSelection,
    pub lookup: MembershipLookup,
    pub stale_after: std::time::Duration,
}

pub fn membership(a: MembershipArgs, env: &dyn Env) -> Result<MembershipSettings> {
    let lookup = match (a.context_key, a.context) {
        (Some(k), _) => MembershipLookup::Key(k),
        (None, Some(c)) => {
            let (ctx, raw) = parse_context(&c)?;
            MembershipLookup::Context(Box::new(ctx), raw)
        }
        (None, None) => return Err(UsageError::new("give --context-key KEY or --context JSON").into()),
    };
    Ok(MembershipSettings { sel: resolve_store(&a.store, env)?, lookup, stale_after: a.stale_after })
}

/// Parse the `--context` argument (JSON, or @FILE).
pub fn parse_context(arg: &str) -> Result<(ld::Context, Value)> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| UsageError::new(format!("cannot read context file {path}: {e}")))?,
        None => arg.to_string(),
    };
    let raw: Value =
        serde_json::from_str(&text).map_err(|e| UsageError::new(format!("--context is not valid JSON: {e}")))?;
    let ctx: ld::Context = serde_json::from_value(raw.clone()).map_err(|e| {
        UsageError::new(format!("--context is not a valid LaunchDarkly context: {e}"))
            .hint(r#"e.g. '{"kind":"user","key":"u1","email":"a@b.c"}'"#)
    })?;
    Ok((ctx, raw))
}

/// What one `sync` writes where.
pub enum SyncTarget {
    /// Every configured environment, each into its own prefix (no `--from`, `--from-file` or
    /// `--sdk-key`, and environments configured).
    Many(Resolved),
    /// One source into one store prefix.
    One { sel: StoreSelection, source: ResolvedSource },
}

/// `sync`.
pub struct SyncSettings {
    pub target: SyncTarget,
    pub dry_run: bool,
    pub allow_empty: bool,
    pub force: bool,
    /// `--stream` (environments read the first `put` of the stream instead of polling).
    pub stream: bool,
    /// Synchronize Big Segments from LaunchDarkly (off with `--no-big-segments`).
    pub big_segments: bool,
}

pub fn sync(args: SyncArgs, env: &dyn Env) -> Result<SyncSettings> {
    let target = match sync_many(&args, env)? {
        Some(r) => SyncTarget::Many(r),
        None => {
            let sel = resolve_store(&args.store, env)?;
            let source = sync_source(&args, env, &sel)?;
            SyncTarget::One { sel, source }
        }
    };
    Ok(SyncSettings {
        target,
        dry_run: args.dry_run,
        allow_empty: args.allow_empty,
        force: args.force,
        stream: args.ld.stream,
        big_segments: !args.no_big_segments,
    })
}

/// The configured environments, when the command names no single source.
fn sync_many(args: &SyncArgs, env: &dyn Env) -> Result<Option<Resolved>> {
    if args.from.is_some() || args.from_file.is_some() || args.ld.sdk_key.is_some() {
        return Ok(None);
    }
    resolve(&args.store, &args.ld, env)
}

/// The source a one-prefix sync reads from.
fn sync_source(args: &SyncArgs, env: &dyn Env, sel: &StoreSelection) -> Result<ResolvedSource> {
    if let Some(p) = &args.from_file {
        return Ok(ResolvedSource::File(p.clone()));
    }
    // With an SDK key and no other source, the source is LaunchDarkly.
    let has_key = args.ld.sdk_key.is_some() || env.var("LD_SDK_KEY").is_some();
    if args.from.as_deref().is_none_or(|f| f == "ld" || f == "launchdarkly") && has_key {
        return ld_source(&args.ld, env, sel.relay.as_ref());
    }
    let Some(spec) = &args.from else {
        return Err(UsageError::new("no source given")
            .hint("use --sdk-key (or LD_SDK_KEY) for LaunchDarkly, --from-file PATH, or --from SOURCE (a file, redis://…?prefix=P, dynamodb://…, consul://…)")
            .into());
    };
    let spec = parse_spec(spec, &args.store, env)?;
    resolve_source(spec, &args.ld, env, None)
}

/// `dynamodb create-table` / `check-table`.
pub enum DynamodbSettings {
    CreateTable {
        cfg: DynamoDbConfig,
        table: NewTable,
        /// Succeed when the table already exists with the right key schema.
        if_not_exists: bool,
        /// Do not wait for the table to be ACTIVE.
        no_wait: bool,
    },
    CheckTable {
        cfg: DynamoDbConfig,
    },
}

pub fn dynamodb(args: DynamodbArgs, env: &dyn Env) -> Result<DynamodbSettings> {
    Ok(match args.command {
        DynamodbCommand::CreateTable(a) => DynamodbSettings::CreateTable {
            cfg: table_config(&a.table, env)?,
            table: new_table(&a)?,
            if_not_exists: a.if_not_exists,
            no_wait: a.no_wait,
        },
        DynamodbCommand::CheckTable(a) => DynamodbSettings::CheckTable { cfg: table_config(&a.table, env)? },
    })
}

fn parse_tag(s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(UsageError::new(format!("invalid --tag \"{s}\": expected KEY=VALUE")).into()),
    }
}

/// The new table's billing and tags.
fn new_table(a: &CreateTableArgs) -> Result<NewTable> {
    let tags = a.tags.iter().map(|t| parse_tag(t)).collect::<Result<Vec<_>>>()?;
    let provisioned = match (a.billing, a.read_capacity, a.write_capacity) {
        (Billing::OnDemand, None, None) => None,
        (Billing::OnDemand, _, _) => {
            return Err(UsageError::new("--read-capacity and --write-capacity need --billing provisioned")
                .hint("on-demand tables (the default) have no capacity to set")
                .into());
        }
        (Billing::Provisioned, Some(r), Some(w)) => {
            if r < 1 || w < 1 {
                return Err(UsageError::new("--read-capacity and --write-capacity must be at least 1").into());
            }
            Some((r, w))
        }
        (Billing::Provisioned, _, _) => {
            return Err(
                UsageError::new("--billing provisioned needs both --read-capacity N and --write-capacity N").into()
            );
        }
    };
    Ok(NewTable { provisioned, tags })
}

/// `--kind` as the data layer's [`Kind`].
fn kind(k: crate::cli::KindArg) -> crate::data::Kind {
    match k {
        crate::cli::KindArg::Flags => crate::data::Kind::Flags,
        crate::cli::KindArg::Segments => crate::data::Kind::Segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_key_value() {
        assert_eq!(parse_tag("team=flags").unwrap(), ("team".to_string(), "flags".to_string()));
        assert!(parse_tag("=x").is_err());
    }
}
