//! `ldstore dynamodb create-table` and `ldstore dynamodb check-table`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use super::{Ctx, human_bytes, print_json, table};
use crate::config::DynamoDbConfig;
use crate::config::commands::DynamodbSettings;
use crate::exit::{self, ExitCode};
use crate::store::dynamodb::{DynamoStore, NewTable, REQUIRED_SCHEMA, TableFacts};
use crate::store::{Admin, StoreError};

/// How long to wait for a new table to become ACTIVE.
const WAIT_LIMIT: Duration = Duration::from_secs(600);
const POLL_EVERY: Duration = Duration::from_secs(1);

pub async fn run(args: DynamodbSettings, ctx: &Ctx) -> Result<ExitCode> {
    match args {
        DynamodbSettings::CreateTable { cfg, table, if_not_exists, no_wait } => {
            create_table(&cfg, &table, if_not_exists, no_wait, ctx).await
        }
        DynamodbSettings::CheckTable { cfg } => check_table(&cfg, ctx).await,
    }
}

fn billing_text(f: &TableFacts) -> String {
    match (f.billing_mode.as_str(), f.read_capacity, f.write_capacity) {
        ("PAY_PER_REQUEST", _, _) => "on-demand (PAY_PER_REQUEST)".into(),
        (m, Some(r), Some(w)) => format!("{m} ({r} read, {w} write capacity units)"),
        (m, _, _) => m.to_string(),
    }
}

/// A spinner on a terminal while waiting; nothing otherwise.
fn spinner(ctx: &Ctx, msg: &str) -> Option<indicatif::ProgressBar> {
    if ctx.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"));
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

/// Poll until the table is ACTIVE.
async fn wait_active(store: &DynamoStore, ctx: &Ctx) -> Result<TableFacts> {
    let bar = spinner(ctx, &format!("waiting for table \"{}\" to become ACTIVE", store.table()));
    let started = Instant::now();
    let result = loop {
        let facts = match store.describe_if_exists().await {
            Ok(Some(t)) => TableFacts::of(&t),
            // Just after CreateTable a table may not be visible yet.
            Ok(None) => {
                tokio::time::sleep(POLL_EVERY).await;
                continue;
            }
            Err(e) => break Err(e.into()),
        };
        if let Some(b) = &bar {
            b.set_message(format!("table \"{}\" is {}", store.table(), facts.status));
        }
        if facts.status == "ACTIVE" {
            break Ok(facts);
        }
        if started.elapsed() > WAIT_LIMIT {
            break Err(StoreError::Other(format!(
                "table \"{}\" is still {} after {}; it may become ACTIVE later (check with ldstore dynamodb check-table)",
                store.table(),
                facts.status,
                humantime::format_duration(WAIT_LIMIT)
            ))
            .into());
        }
        tokio::time::sleep(POLL_EVERY).await;
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    result
}

async fn create_table(
    cfg: &DynamoDbConfig,
    spec: &NewTable,
    if_not_exists: bool,
    no_wait: bool,
    ctx: &Ctx,
) -> Result<ExitCode> {
    let store = DynamoStore::connect(cfg).await?;
    let name = store.table().to_string();

    let mut created = false;
    let existing = match store.describe_if_exists().await? {
        Some(t) => Some(t),
        None => {
            created = store.create_table(spec).await?;
            if created { None } else { store.describe_if_exists().await? }
        }
    };
    if let Some(t) = existing {
        let facts = TableFacts::of(&t);
        if !if_not_exists {
            let mut err = StoreError::Other(format!(
                "DynamoDB {} already exists (give --if-not-exists to accept an existing table with the right key schema)",
                store.address()
            ));
            if let Some(p) = &facts.schema_problem {
                err = StoreError::Other(format!(
                    "DynamoDB {} already exists and its key schema is wrong: {p}",
                    store.address()
                ));
            }
            return Err(anyhow::Error::new(err).context("cannot create the table"));
        }
        if let Some(p) = facts.schema_problem {
            return Err(StoreError::Schema { store: "DynamoDB", reason: p }.into());
        }
    }

    let facts = if no_wait { TableFacts::of(&store.describe().await?) } else { wait_active(&store, ctx).await? };
    if ctx.json() {
        print_json(&json!({
            "table": name,
            "location": store.location(),
            "created": created,
            "already_existed": !created,
            "status": facts.status,
            "billing_mode": facts.billing_mode,
            "read_capacity": facts.read_capacity,
            "write_capacity": facts.write_capacity,
            "tags": spec.tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
        }))?;
    } else if created {
        println!(
            "created DynamoDB table \"{name}\" ({}): {REQUIRED_SCHEMA}, {}, status {}",
            store.location(),
            billing_text(&facts),
            facts.status
        );
    } else {
        println!(
            "DynamoDB table \"{name}\" already exists with the right key schema ({}), status {}",
            billing_text(&facts),
            facts.status
        );
    }
    Ok(exit::SUCCESS)
}

async fn check_table(cfg: &DynamoDbConfig, ctx: &Ctx) -> Result<ExitCode> {
    let store = DynamoStore::connect(cfg).await?;
    let facts = TableFacts::of(&store.describe().await?);
    // Prefixes are only meaningful in a table with the right schema.
    let prefixes = if facts.schema_ok { Some(store.list_prefixes().await?) } else { None };
    if ctx.json() {
        print_json(&json!({
            "table": facts.table,
            "location": store.location(),
            "schema_ok": facts.schema_ok,
            "schema_problem": facts.schema_problem,
            "required_schema": REQUIRED_SCHEMA,
            "status": facts.status,
            "billing_mode": facts.billing_mode,
            "read_capacity": facts.read_capacity,
            "write_capacity": facts.write_capacity,
            "item_count": facts.item_count,
            "size_bytes": facts.size_bytes,
            "prefixes": prefixes,
        }))?;
    } else {
        let mut t = table(&["", ""]);
        t.add_row(vec!["table".to_string(), format!("{} ({})", facts.table, store.location())]);
        t.add_row(vec![
            "key schema".to_string(),
            match &facts.schema_problem {
                None => format!("ok: {REQUIRED_SCHEMA}"),
                Some(p) => format!("WRONG: {p}"),
            },
        ]);
        t.add_row(vec!["status".to_string(), facts.status.clone()]);
        t.add_row(vec!["billing mode".to_string(), billing_text(&facts)]);
        t.add_row(vec!["item count".to_string(), facts.item_count.map_or("-".into(), |n| n.to_string())]);
        t.add_row(vec!["size".to_string(), facts.size_bytes.map_or("-".into(), |n| human_bytes(n.max(0) as usize))]);
        t.add_row(vec![
            "prefixes".to_string(),
            match &prefixes {
                None => "-".into(),
                Some(p) if p.is_empty() => "none (no LaunchDarkly data)".into(),
                Some(p) => p.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", "),
            },
        ]);
        println!("{t}");
    }
    match facts.schema_problem {
        Some(p) => Err(StoreError::Schema { store: "DynamoDB", reason: p }.into()),
        None => Ok(exit::SUCCESS),
    }
}
