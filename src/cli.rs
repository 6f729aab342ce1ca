//! Command-line definitions (clap). Nothing here is interpreted: `config` resolves these into
//! what the commands consume.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::EXIT_CODES_HELP;

#[derive(Debug, Parser)]
#[command(
    name = "ldstore",
    version,
    about = "Administer and inspect LaunchDarkly flag data in Redis, DynamoDB and Consul",
    long_about = "Administer and inspect LaunchDarkly feature-flag data kept in persistent stores \
(Redis, DynamoDB, Consul), laid out exactly as the server-side SDKs and the Relay Proxy do.",
    after_help = EXIT_CODES_HELP,
    propagate_version = true,
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Output format: a table for people, JSON for scripts.
    #[arg(long, value_enum, global = true, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// Log more (repeat for more detail); logs go to stderr.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write flags and segments from a source into a store prefix, replacing what is there.
    #[command(after_help = EXIT_CODES_HELP)]
    Sync(SyncArgs),

    /// Show the LaunchDarkly prefixes a store holds, or one prefix in detail.
    #[command(after_help = EXIT_CODES_HELP)]
    Inspect(InspectArgs),

    /// Export a prefix as {"flags":{…},"segments":{…}} (also a valid SDK flag file).
    #[command(after_help = EXIT_CODES_HELP)]
    Dump(DumpArgs),

    /// Create or check the DynamoDB table LaunchDarkly data lives in.
    #[command(after_help = EXIT_CODES_HELP)]
    Dynamodb(DynamodbArgs),

    /// Compare two sources (files, store prefixes, LaunchDarkly) flag by flag and segment by segment.
    #[command(after_help = EXIT_CODES_HELP)]
    Diff(DiffArgs),

    /// Check a prefix for data that would make SDKs misbehave.
    #[command(after_help = EXIT_CODES_HELP)]
    Validate(ValidateArgs),

    /// Evaluate flags for a context from a store's data, as a daemon-mode SDK would.
    #[command(after_help = EXIT_CODES_HELP)]
    Eval(EvalArgs),

    /// Show a context's Big Segments membership: its hash, the refs it is included in and excluded
    /// from, and per Big Segment of the data whether it is included, excluded or left to the rules.
    #[command(after_help = EXIT_CODES_HELP)]
    Membership(MembershipArgs),

    /// Remove Big Segments membership refs no current segment generation uses (old generations,
    /// deleted segments); nothing else is touched.
    #[command(after_help = EXIT_CODES_HELP)]
    Prune(PruneArgs),

    /// Stream from LaunchDarkly and keep store prefixes current (foreground; stops on SIGINT/SIGTERM).
    #[command(after_help = EXIT_CODES_HELP)]
    Relay(RelayArgs),

    /// Print a shell completion script for ldstore.
    Completions(CompletionsArgs),

    /// Write man pages (ldstore.1 and one per subcommand).
    Man(ManArgs),
}

/// Which store and prefix: the same options on every command that touches a store.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Store")]
pub struct StoreArgs {
    /// Redis: host:port, redis://[user:pass@]host:port[/db] or rediss://… for TLS; a cluster as
    /// redis+cluster://[user:pass@]host:port[,host:port…], Sentinel as
    /// redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER.
    #[arg(long, value_name = "ADDR")]
    pub redis: Option<String>,

    /// Use TLS for Redis (turns redis:// into rediss://).
    #[arg(long)]
    pub redis_tls: bool,

    /// Redis Cluster: --redis names seed nodes (one configuration endpoint, or host:port,host:port…);
    /// the topology is discovered. Same as a redis+cluster:// address or REDIS_CLUSTER=true.
    #[arg(long, conflicts_with = "redis_sentinel_master")]
    pub redis_cluster: bool,

    /// Redis Sentinel: --redis lists sentinels (host:port,host:port…) asked for this master. Same
    /// as redis+sentinel://HOSTS/MASTER or REDIS_SENTINEL_MASTER. The sentinels' own password comes
    /// from REDIS_SENTINEL_PASSWORD; the data nodes' from the address or REDIS_PASSWORD.
    #[arg(long, value_name = "NAME")]
    pub redis_sentinel_master: Option<String>,

    /// PEM file of CA certificates to trust for Redis TLS (added to the system roots).
    #[arg(long, value_name = "FILE")]
    pub redis_ca_file: Option<PathBuf>,

    /// DynamoDB table name.
    #[arg(long, value_name = "TABLE")]
    pub dynamodb: Option<String>,

    /// DynamoDB endpoint URL (DynamoDB Local and similar).
    #[arg(long, value_name = "URL")]
    pub dynamodb_endpoint: Option<String>,

    /// AWS region for DynamoDB (default: the standard AWS chain).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Consul: host:port or http(s)://host:port.
    #[arg(long, value_name = "ADDR")]
    pub consul: Option<String>,

    /// Consul ACL token.
    #[arg(long, value_name = "TOKEN")]
    pub consul_token: Option<String>,

    /// File holding the Consul ACL token.
    #[arg(long, value_name = "FILE")]
    pub consul_token_file: Option<PathBuf>,

    /// PEM file of CA certificates to trust for Consul over HTTPS.
    #[arg(long, value_name = "FILE")]
    pub consul_ca_file: Option<PathBuf>,

    /// Key prefix (default: "launchdarkly" for Redis and Consul, none for DynamoDB).
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,

    /// Read store settings (and environments) from a Relay Proxy configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Connection and command timeout for the store (more than 0; on DynamoDB, each whole request
    /// with the AWS SDK's retries).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    pub store_timeout: std::time::Duration,
}

/// A command-line error met after parsing is a usage error (exit 2).
impl crate::exit::Classified for clap::Error {
    fn exit_code(&self) -> crate::exit::ExitCode {
        crate::exit::ExitCode::Usage
    }
}

pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    crate::config::relay_conf::parse_duration(s)
}

/// A timeout: a duration of more than zero (zero would fail every request at once).
pub fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err("must be more than 0 (a timeout of 0 would fail every request at once)".into()),
        d => Ok(d),
    }
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Read flags and segments from a file (SDK flag-file format, JSON or YAML, or `dump` output).
    #[arg(long, value_name = "PATH", conflicts_with = "from")]
    pub from_file: Option<PathBuf>,

    /// Where to read from: ld (LaunchDarkly; the default when an SDK key is given), a file path or
    /// file:PATH, or a store URL (redis://host:port?prefix=P, rediss://…, redis+cluster://h:p,h:p?prefix=P,
    /// redis+sentinel://h:p,h:p/MASTER?prefix=P, dynamodb://TABLE?prefix=P, consul://host:port?prefix=P). Without a source and with --config (or LD_ENV_<name>
    /// variables), every configured environment is synced into its own prefix.
    #[arg(long, value_name = "SOURCE")]
    pub from: Option<String>,

    /// Show what would change (added, updated, removed, unchanged), what would become of the Big
    /// Segments of a dump or a store source, and whether the sync would be refused (see
    /// --allow-empty); write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Let a source with no flags and no segments empty a prefix that holds items. Without it, such
    /// a sync (an empty file, an environment emptied by mistake) is refused with exit 4 and the
    /// prefix is left as it was.
    #[arg(long)]
    pub allow_empty: bool,

    /// Write items the SDKs cannot parse (duplicate members, a `version` written as `3.0`, `1e2`
    /// or `-0`, a number out of range such as `1e400`, a lone surrogate escape such as `\ud800`,
    /// a live item without a string `key`) as they are, with a warning for each, instead of
    /// refusing the whole source (exit 4, each named, nothing written).
    #[arg(long)]
    pub force: bool,

    /// From LaunchDarkly, do not synchronize Big Segments. By default, when the flag data has a
    /// Big Segment (a segment with "unbounded": true), its memberships are synchronized as the Relay
    /// Proxy does (patches polled after the stored cursor and applied in order, then the cursor and
    /// the sync time written).
    #[arg(long)]
    pub no_big_segments: bool,

    #[command(flatten)]
    pub ld: LdArgs,

    #[command(flatten)]
    pub store: StoreArgs,
}

/// How to reach LaunchDarkly: shared by every command that can read from it.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "LaunchDarkly")]
pub struct LdArgs {
    /// Server-side SDK key (default: LD_SDK_KEY). Never printed whole.
    #[arg(long, value_name = "KEY")]
    pub sdk_key: Option<String>,

    /// Polling base URI (default: https://sdk.launchdarkly.com; env BASE_URI).
    #[arg(long, value_name = "URI")]
    pub base_uri: Option<String>,

    /// Streaming base URI (default: https://stream.launchdarkly.com; env STREAM_URI).
    #[arg(long, value_name = "URI")]
    pub stream_uri: Option<String>,

    /// Take the first `put` of the streaming endpoint instead of polling.
    #[arg(long)]
    pub stream: bool,

    /// Payload filter key.
    #[arg(long, value_name = "KEY")]
    pub filter: Option<String>,

    /// How long to keep retrying LaunchDarkly (network errors, 5xx, 429, 408, 400).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// Big Segments: a last synchronization older than this is STALE (the SDKs' staleAfter).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    pub stale_after: std::time::Duration,

    /// Big Segments: count every context's membership (by default at most the first 100,000
    /// membership records are read, and the counts say so).
    #[arg(long)]
    pub exact: bool,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Only this kind of item.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,

    /// Only the item with this key.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,

    /// Include tombstones (deleted items); left out by default.
    #[arg(long)]
    pub include_deleted: bool,

    /// Pretty-print (items are re-indented; without this they are byte-identical to the store).
    #[arg(long)]
    pub pretty: bool,

    /// Write to this file instead of standard output. A regular file is replaced atomically (a new
    /// file renamed over it, keeping its permissions); a symbolic link's target is written by the
    /// same rule (the link stays); a device or FIFO is written through.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate a completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write the pages into (default: print ldstore.1 to standard output).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DynamodbArgs {
    #[command(subcommand)]
    pub command: DynamodbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DynamodbCommand {
    /// Create a table with the key schema the SDKs need (partition key `namespace`, sort key `key`).
    #[command(after_help = EXIT_CODES_HELP)]
    CreateTable(CreateTableArgs),

    /// Check an existing table: key schema, status, billing mode, item count, size, prefixes.
    #[command(after_help = EXIT_CODES_HELP)]
    CheckTable(CheckTableArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Billing {
    /// Pay per request (no capacity to plan).
    #[value(name = "on-demand", alias = "pay-per-request")]
    OnDemand,
    /// Provisioned read and write capacity (give --read-capacity and --write-capacity).
    Provisioned,
}

/// Which table and how to reach DynamoDB.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "DynamoDB")]
pub struct TableArgs {
    /// Table name.
    #[arg(long, value_name = "TABLE")]
    pub table: String,

    /// DynamoDB endpoint URL (DynamoDB Local and similar; env DYNAMODB_URL).
    #[arg(long, value_name = "URL")]
    pub dynamodb_endpoint: Option<String>,

    /// AWS region (default: the standard AWS chain).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Timeout for each request to DynamoDB.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    pub store_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct CreateTableArgs {
    #[command(flatten)]
    pub table: TableArgs,

    /// Billing mode.
    #[arg(long, value_enum, default_value_t = Billing::OnDemand)]
    pub billing: Billing,

    /// Read capacity units (with --billing provisioned).
    #[arg(long, value_name = "N")]
    pub read_capacity: Option<i64>,

    /// Write capacity units (with --billing provisioned).
    #[arg(long, value_name = "N")]
    pub write_capacity: Option<i64>,

    /// A tag for the table as KEY=VALUE (repeatable).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,

    /// Succeed when the table already exists with the right key schema.
    #[arg(long)]
    pub if_not_exists: bool,

    /// Return as soon as DynamoDB accepted the request, without waiting for the table to be ACTIVE.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Args)]
pub struct CheckTableArgs {
    #[command(flatten)]
    pub table: TableArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The first ("from") side: a file path or file:PATH, ld, or a store URL
    /// (redis://host:port?prefix=P, rediss://…, redis+cluster://h:p,h:p?prefix=P,
    /// redis+sentinel://h:p,h:p/MASTER?prefix=P, dynamodb://TABLE?prefix=P, consul://host:port?prefix=P).
    #[arg(value_name = "A")]
    pub a: String,

    /// The second ("to") side, in the same syntax.
    #[arg(value_name = "B")]
    pub b: String,

    /// Print the old and new value of every changed field.
    #[arg(long)]
    pub show_values: bool,

    /// Only this kind of item.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,

    /// Only the item(s) with this key.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,

    #[command(flatten)]
    pub ld: LdArgs,

    #[command(flatten)]
    pub store: SourceStoreArgs,
}

/// Store options that apply to store URLs given as sources (`diff` operands).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Store")]
pub struct SourceStoreArgs {
    /// PEM file of CA certificates to trust for Redis TLS (added to the system roots).
    #[arg(long, value_name = "FILE")]
    pub redis_ca_file: Option<PathBuf>,

    /// DynamoDB endpoint URL for dynamodb:// sources without endpoint= (DynamoDB Local and similar).
    #[arg(long, value_name = "URL")]
    pub dynamodb_endpoint: Option<String>,

    /// AWS region for dynamodb:// sources without region= (default: the standard AWS chain).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// PEM file of CA certificates to trust for Consul over HTTPS.
    #[arg(long, value_name = "FILE")]
    pub consul_ca_file: Option<PathBuf>,

    /// Connection and command timeout for the stores.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    pub store_timeout: std::time::Duration,
}

impl SourceStoreArgs {
    /// As the defaults `config::parse_spec` takes.
    pub fn to_store_args(&self) -> StoreArgs {
        StoreArgs {
            redis_ca_file: self.redis_ca_file.clone(),
            dynamodb_endpoint: self.dynamodb_endpoint.clone(),
            region: self.region.clone(),
            consul_ca_file: self.consul_ca_file.clone(),
            store_timeout: self.store_timeout,
            ..Default::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Check every LaunchDarkly prefix in the store, not just --prefix.
    #[arg(long, conflicts_with = "prefix")]
    pub all_prefixes: bool,

    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub strict: bool,

    /// Big Segments: a last synchronization older than this is reported stale (the SDKs'
    /// staleAfter; set it to what your SDKs are configured with).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    pub stale_after: std::time::Duration,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["flag", "all"])))]
pub struct EvalArgs {
    /// The flag to evaluate.
    #[arg(long, value_name = "KEY")]
    pub flag: Option<String>,

    /// Evaluate every flag (tombstones excluded).
    #[arg(long)]
    pub all: bool,

    /// The evaluation context as JSON, e.g. '{"kind":"user","key":"u1"}' (a multi-context:
    /// '{"kind":"multi","user":{"key":"u1"},"org":{"key":"o1"}}'), or @FILE to read it from a file.
    #[arg(long, value_name = "JSON")]
    pub context: String,

    /// Read flags and segments from this source instead of the store (a file, file:PATH, ld, or a
    /// store URL such as redis://host:port?prefix=P).
    #[arg(long, value_name = "SOURCE")]
    pub from: Option<String>,

    #[command(flatten)]
    pub ld: LdArgs,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Show what would be removed, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct MembershipArgs {
    /// The context key to look up (for every Big Segment, whatever its context kind).
    #[arg(long, value_name = "KEY", required_unless_present = "context", conflicts_with = "context")]
    pub context_key: Option<String>,

    /// The context as JSON (or @FILE): each Big Segment looks up the key of the context of its
    /// `unboundedContextKind` (default `user`).
    #[arg(long, value_name = "JSON")]
    pub context: Option<String>,

    /// A last synchronization older than this is STALE (the SDKs' staleAfter).
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    pub stale_after: std::time::Duration,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct RelayArgs {
    /// How often to check that each prefix's `$inited` marker is still there (a wiped store is
    /// repopulated from memory at once).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub check_interval: std::time::Duration,

    /// Exit (code 4) when LaunchDarkly rejects an SDK key instead of retrying slowly.
    #[arg(long)]
    pub exit_on_error: bool,

    /// Serve GET /status and GET /metrics on this address (e.g. 127.0.0.1:8030; a bare port binds
    /// to loopback).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Let a `put` with no flags and no segments empty a prefix that holds items. Without it such
    /// a put is logged as an error and not written (memory still follows LaunchDarkly).
    #[arg(long)]
    pub allow_empty: bool,

    /// Reconnect when the stream sends nothing (not even a heartbeat) for this long.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_timeout)]
    pub read_timeout: std::time::Duration,

    /// At most this many --listen connections at a time (more wait until one closes).
    #[arg(long, value_name = "N", default_value_t = 64, hide = true)]
    pub max_connections: usize,

    /// Do not synchronize Big Segments (by default each environment whose flag data has a Big
    /// Segment gets the Relay Proxy's Big Segments synchronizer beside its flag stream).
    #[arg(long)]
    pub no_big_segments: bool,

    /// Rewrite the Big Segments sync time this long after the last event (the Relay Proxy: 30 s).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout, hide = true)]
    pub big_segments_interval: std::time::Duration,

    /// Retry a failed Big Segments synchronization after this long (the Relay Proxy: 10 s), or as
    /// long as LaunchDarkly's `Retry-After` asked when that is longer.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout, hide = true)]
    pub big_segments_retry: std::time::Duration,

    #[command(flatten)]
    pub ld: LdArgs,

    #[command(flatten)]
    pub store: StoreArgs,
}

/// `--kind`: the two kinds of item (`config` turns it into [`crate::data::Kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Feature flags (`features` in store layouts, `flags` in payloads).
    #[value(name = "flags", alias = "features")]
    Flags,
    /// Segments.
    #[value(name = "segments")]
    Segments,
}
