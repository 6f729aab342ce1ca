//! relay's one logger: every line on stderr goes through `tracing`, in one format, text or JSON
//! (`--log-format`), secrets masked:
//!
//! - text: `2026-01-02T03:04:05.678Z INFO  [Prod] stream connected`
//! - json: `{"time":"2026-01-02T03:04:05.678Z","level":"INFO","env":"Prod","msg":"stream connected"}`
//!   (plus `"hint"` on the error that ends the relay)
//!
//! `env` is the event's own `env` field, else the `env` of the span it runs in (each
//! environment's reader and writer run in one, so store and lease messages name it too), else `-`.
//! relay's own lines are shown at INFO (ERROR with --quiet) whatever the verbosity; other
//! modules' lines follow -v / LDSTORE_LOG as for every command.

use std::fmt::Write as _;
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{EnvFilter, FilterExt, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::secrets;

/// Install the relay's subscriber: `filter` (from -v / --quiet / LDSTORE_LOG) for everything,
/// and relay's own events at INFO at least (ERROR with `quiet`).
pub fn init(filter: EnvFilter, json: bool, quiet: bool) {
    let own = Targets::new()
        .with_target(module_path!().trim_end_matches("::log"), if quiet { Level::ERROR } else { Level::INFO });
    let lines = tracing_subscriber::fmt::layer()
        .event_format(LineFormat { json })
        .with_writer(std::io::stderr)
        .with_filter(filter.or(own));
    let _ = tracing_subscriber::registry().with(EnvSpans).with(lines).try_init();
}

/// The `env` a span was opened with, kept in the span's extensions for [`LineFormat`].
struct EnvName(String);

/// Remembers each span's `env` field.
struct EnvSpans;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for EnvSpans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(env), Some(span)) = (fields.env, ctx.span(id)) {
            span.extensions_mut().insert(EnvName(env));
        }
    }
}

/// An event's fields: the message, `env`, `hint`, and any others (appended as ` key=value`).
#[derive(Default)]
struct Fields {
    message: String,
    env: Option<String>,
    hint: Option<String>,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "env" => self.env = Some(value.to_string()),
            "hint" => self.hint = Some(value.to_string()),
            name => {
                let _ = write!(self.rest, " {name}={value}");
            }
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"))
    }
}

struct LineFormat {
    json: bool,
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> std::fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let env = fields
            .env
            .clone()
            .or_else(|| ctx.event_scope()?.find_map(|span| span.extensions().get::<EnvName>().map(|e| e.0.clone())));
        let env = env.as_deref().unwrap_or("-");
        let time = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        let level = event.metadata().level().as_str();
        let msg = secrets::mask(&format!("{}{}", fields.message, fields.rest));
        if self.json {
            let mut line = serde_json::json!({"time": time, "level": level, "env": env, "msg": msg});
            if let Some(hint) = &fields.hint {
                line["hint"] = secrets::mask(hint).into();
            }
            writeln!(writer, "{line}")
        } else {
            let hint = fields.hint.map(|h| format!(" (hint: {})", secrets::mask(&h))).unwrap_or_default();
            writeln!(writer, "{time} {level:<5} [{env}] {msg}{hint}")
        }
    }
}
