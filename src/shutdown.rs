//! SIGINT and SIGTERM as a value a command watches (as in tokio's mini-redis): `lib.rs` starts
//! listening before the command runs and hands it a [`Shutdown`]; a command that writes checks it
//! between steps it must not cut in half (a DynamoDB batch, a Consul transaction, a Redis `EXEC`)
//! and stops there, saying what it left behind. Other commands are simply dropped (they write
//! nothing).
//!
//! A second signal while the first is being honoured exits at once, with the same code.

use tokio::sync::watch;

use crate::exit;

/// The signal that asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C): exit code 130.
    Int,
    /// SIGTERM: exit code 143.
    Term,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }

    /// 128 + the signal number, as shells report a process killed by it.
    pub fn exit_code(self) -> exit::ExitCode {
        match self {
            Signal::Int => exit::INTERRUPTED,
            Signal::Term => exit::TERMINATED,
        }
    }
}

/// A handle on the process's shutdown request; cheap to clone.
#[derive(Clone, Debug)]
pub struct Shutdown {
    rx: watch::Receiver<Option<Signal>>,
}

impl Shutdown {
    /// Start listening for SIGINT and SIGTERM (must be called inside the runtime). From now on
    /// these signals no longer end the process by themselves: the first is recorded for the command
    /// to honour; a second one exits at once.
    pub fn listen() -> std::io::Result<Shutdown> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let (tx, rx) = watch::channel(None);
        tokio::spawn(async move {
            let mut first = true;
            loop {
                let sig = tokio::select! {
                    Some(()) = int.recv() => Signal::Int,
                    Some(()) = term.recv() => Signal::Term,
                    else => return,
                };
                if first {
                    first = false;
                    let _ = tx.send(Some(sig));
                    continue;
                }
                crate::stderr_line!(
                    "ldstore: error: interrupted again ({}): exiting at once, without waiting for the writes in flight",
                    sig.name()
                );
                std::process::exit(sig.exit_code().code());
            }
        });
        Ok(Shutdown { rx })
    }

    /// A handle no signal ever reaches (for callers that handle signals themselves, and tests).
    pub fn never() -> Shutdown {
        Shutdown { rx: watch::channel(None).1 }
    }

    /// A handle and the means to trigger it by hand (tests).
    pub fn manual() -> (watch::Sender<Option<Signal>>, Shutdown) {
        let (tx, rx) = watch::channel(None);
        (tx, Shutdown { rx })
    }

    /// The signal received so far, if any (does not wait; usable from any thread).
    pub fn signal(&self) -> Option<Signal> {
        *self.rx.borrow()
    }

    /// Wait for a signal (forever when none can come).
    pub async fn recv(&self) -> Signal {
        let mut rx = self.rx.clone();
        loop {
            if let Some(s) = *rx.borrow_and_update() {
                return s;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Run `work`, which writes nothing, unless a signal comes first: then it is dropped and the
    /// result is an [`exit::Interrupted`] error saying `what_then`.
    pub async fn unless_signalled<T>(
        &self,
        what_then: &str,
        work: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        tokio::select! {
            r = work => r,
            sig = self.recv() => Err(exit::Interrupted::new(sig, Some(what_then.to_string())).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_signal_is_seen_and_awaited() {
        let (tx, s) = Shutdown::manual();
        assert_eq!(s.signal(), None);
        let waiting = tokio::spawn({
            let s = s.clone();
            async move { s.recv().await }
        });
        tx.send(Some(Signal::Term)).unwrap();
        assert_eq!(waiting.await.unwrap(), Signal::Term);
        assert_eq!(s.signal(), Some(Signal::Term));
        assert_eq!(Signal::Term.exit_code().code(), 143);
        assert_eq!(Signal::Int.exit_code().code(), 130);
    }

    #[tokio::test]
    async fn never_never_fires() {
        let s = Shutdown::never();
        assert_eq!(s.signal(), None);
        let r = tokio::time::timeout(std::time::Duration::from_millis(20), s.recv()).await;
        assert!(r.is_err());
        let v = s.unless_signalled("x", async { Ok(5) }).await.unwrap();
        assert_eq!(v, 5);
    }
}
