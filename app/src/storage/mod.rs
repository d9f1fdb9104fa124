//! The only place SQL lives. One `Store` serves the whole app, backed by SQLite (the
//! embedded default, a file under `./data/`) or PostgreSQL (to scale out), chosen by the
//! database URL. Both dialects accept `$1` placeholders, so a statement is written once
//! where they agree; where they differ (connection setup, locking a queue day, DDL in
//! `migrations/sqlite` and `migrations/postgres`) each backend has its own code, side by side.

mod accounts;
mod analytics;
mod batch;
mod console;
mod conversations;
mod hours;
mod kiosk;
mod lookup;
mod notices;
mod outbox;
mod queue_days;
mod reach;
mod retention;
mod rows;
mod staff;
mod tenants;
mod transfers;

pub use accounts::StoredAccount;
pub use analytics::PastVisit;
pub use console::{ConsoleAudit, DayUsage};
pub use hours::OpenDay;
pub use outbox::{ClaimedMessage, MessageCounts, NewMessage, OutboxDepth, OutboxRow, Settle};
pub use queue_days::{
    Applied, AuditEntry, CountsFor, CreateCounts, DayKey, DaySnapshot, LockedDay, NewToken, Plan,
    Staged, Want,
};
pub use reach::{PushRow, StoredSms};
pub use retention::{HeldToken, PurgeLocks};
pub use tenants::{AuditRow, NewClinic, NewQueue, NewStaff, Patient, TokenRef};
pub use transfers::MoveAudit;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OwnedMutexGuard;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The database, whichever it is. Cheap to clone: it holds a connection pool.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// SQLite allows one writer at a time. This process's write transactions all go through
/// one connection of their own, taken in arrival order: a fair wait instead of SQLite's
/// sleep-and-retry busy loop, which keeps latency tails short when many desks press at
/// once, and no trip to the pool. The pool serves reads.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub pool: SqlitePool,
    writer: Arc<tokio::sync::Mutex<Writer>>,
    /// The writing connection's options: the pool's, with the log copied back into the
    /// database by `copy_log_back` rather than by each commit.
    options: SqliteConnectOptions,
}

/// How often the write-ahead log is copied back into the database, while there is
/// something to copy (`copy_log_back`), and how often it is looked at while idle.
const LOG_COPY_BUSY: Duration = Duration::from_millis(20);
const LOG_COPY_IDLE: Duration = Duration::from_millis(250);
/// How long a copy that failed (a full disk, say) waits before it is tried again.
const LOG_COPY_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// Pages the log may hold (copied back beside the writer) before `copy_log_back` takes
/// the writer's turn to start it again from its beginning: each turn holds every writer
/// for a moment, so it is taken a few times a second under load, not at every round.
const LOG_PAGES_BEFORE_TURN: i64 = 4000;

/// Pages the log may hold before a commit copies it back itself (SQLite's default is
/// 1,000): only if `copy_log_back` has stopped keeping up.
const LOG_PAGES_BEFORE_COMMIT_COPIES: &str = "8000";

/// The writing connection, opened on first use and again after it was given up.
#[derive(Debug, Default)]
struct Writer {
    conn: Option<SqliteConnection>,
    /// A transaction was begun on `conn` and not seen to end: the next writer rolls it
    /// back before it begins (a dropped transaction's own rollback runs in the background).
    open: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(
        "unsupported database URL {0:?}: use sqlite://path/to/file.db or postgres://user@host/db"
    )]
    UnsupportedUrl(String),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot create the database file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{0} already exists (or is not a usable file name): a backup goes to a new file, so choose another name"
    )]
    BackupExists(String),
    #[error(
        "qline backup copies a SQLite database; back PostgreSQL up with pg_dump (docs/OPERATIONS.md, Backups)"
    )]
    BackupNotSqlite,
    #[error("the database server did not answer within {0} s; is it running and reachable?")]
    Unreachable(u64),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row holds what this version cannot read: never defaulted, always this error,
    /// logged once where it stops a request or a worker.
    #[error("unexpected value in the database: {table} row {id}, {detail}")]
    Corrupt {
        table: &'static str,
        id: i64,
        detail: String,
    },
    #[error("cannot encode a value for the database: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("{0} row {1} is missing")]
    Missing(&'static str, i64),
}

/// A row being decoded, named so that a value it cannot read is reported with the table
/// and id it came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowAt {
    pub table: &'static str,
    pub id: i64,
}

impl RowAt {
    pub fn new(table: &'static str, id: i64) -> Self {
        Self { table, id }
    }

    pub fn corrupt(self, column: &str, detail: impl std::fmt::Debug) -> StorageError {
        StorageError::Corrupt {
            table: self.table,
            id: self.id,
            detail: format!("{column} {detail:?}"),
        }
    }

    /// A stored word read back with `parse`.
    pub fn decode<T>(
        self,
        column: &str,
        value: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, StorageError> {
        parse(value).ok_or_else(|| self.corrupt(column, value))
    }

    pub fn decode_opt<T>(
        self,
        column: &str,
        value: Option<&str>,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, StorageError> {
        value.map(|v| self.decode(column, v, parse)).transpose()
    }
}

impl StorageError {
    /// The database cannot be reached or cannot take work just now (down, restarting,
    /// the connection cut, every connection busy for the pool's timeout, SQLite's write
    /// lock held too long): the same request may well succeed in a moment. Everything
    /// else is a fault to look into.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StorageError::Unreachable(_) => true,
            StorageError::Sqlx(e) => match e {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    // PostgreSQL's five-character SQLSTATE: connection exceptions (08…) and
                    // an operator's shutdown or a server still starting (57P01–57P03).
                    // SQLite's (extended) result code: busy (5) or locked (6).
                    match code.len() {
                        5 => {
                            code.starts_with("08")
                                || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
                        }
                        _ => code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)),
                    }
                }),
                _ => false,
            },
            _ => false,
        }
    }

    /// The name of the unique constraint or index a write collided with, if that is what failed.
    pub fn unique_violation(&self) -> Option<String> {
        match self {
            StorageError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation() => Some(
                e.constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| e.message().to_owned()),
            ),
            _ => None,
        }
    }
}

/// Runs `$body` with `$pool` bound to whichever pool the store holds. The body is
/// compiled once per backend, so each arm is checked against its own driver.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::storage::Store::Sqlite(db) => {
                let $pool = &db.pool;
                $body
            }
            $crate::storage::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// An open write transaction on either backend.
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// A write transaction on SQLite's writing connection, held with this process's writer
/// turn. `BEGIN IMMEDIATE` (SQLite's write lock) goes with the first statement, in the
/// same trip to the connection's thread.
pub struct SqliteTx {
    writer: Option<OwnedMutexGuard<Writer>>,
}

/// Runs `$body` with `$conn` bound to the transaction's connection.
macro_rules! with_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::storage::Tx::Sqlite(tx) => {
                tx.ensure_begun().await?;
                let $conn: &mut sqlx::SqliteConnection = tx.conn();
                $body
            }
            $crate::storage::Tx::Postgres(t) => {
                let $conn: &mut sqlx::PgConnection = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use with_tx;

/// `$from, $from+1, …`: `n` numbered placeholders, for an `IN (…)` list or a `VALUES` row.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, …, $columns), ($columns+1, …), …`: the rows of a multi-row `VALUES`.
pub(crate) fn value_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(1 + r * columns, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

const BEGIN_SQLITE: &str = "BEGIN IMMEDIATE;\n";

impl SqliteTx {
    fn writer(&mut self) -> &mut Writer {
        self.writer
            .as_mut()
            .expect("a SQLite transaction holds its writer until it ends")
    }

    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        self.writer().conn()
    }

    /// Begins the transaction, if no statement has yet.
    pub(crate) async fn ensure_begun(&mut self) -> Result<(), StorageError> {
        let writer = self.writer();
        if !writer.open {
            sqlx::query(BEGIN_SQLITE).execute(writer.conn()).await?;
            writer.open = true;
        }
        Ok(())
    }

    /// `BEGIN IMMEDIATE;` to put before the statement about to run, if the transaction
    /// has not begun yet; counted as begun from here (should that statement fail, the
    /// rollback finds out).
    fn begin_with_next(&mut self) -> &'static str {
        let writer = self.writer();
        if writer.open {
            ""
        } else {
            writer.open = true;
            BEGIN_SQLITE
        }
    }

    /// The statement just run ended the transaction with `COMMIT`.
    fn committed(mut self) {
        if let Some(mut writer) = self.writer.take() {
            writer.open = false;
        }
    }

    /// Ends the transaction with `sql` (`COMMIT` or `ROLLBACK`), if it began.
    async fn end(mut self, sql: &str) -> Result<(), StorageError> {
        let mut writer = self.writer.take().expect("ended once");
        if writer.open {
            sqlx::query(sql).execute(writer.conn()).await?;
            writer.open = false;
        }
        Ok(())
    }
}

impl Drop for SqliteTx {
    /// A transaction dropped before it ended (an error, a cancelled request) rolls back
    /// in the background, still holding the writer's turn; if that cannot run, the next
    /// writer rolls it back first (`Writer::open`).
    fn drop(&mut self) {
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        if !writer.open {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { writer.roll_back().await });
        }
    }
}

impl Writer {
    fn conn(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .expect("the writing connection is opened before a transaction begins")
    }

    /// Rolls back a transaction left open; a connection that cannot is closed, and the
    /// next writer opens a new one.
    async fn roll_back(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            match sqlx::query("ROLLBACK").execute(&mut *conn).await {
                Ok(_) => {}
                // Nothing was begun after all (the statement that carried BEGIN failed).
                Err(sqlx::Error::Database(e)) if e.message().contains("no transaction") => {}
                Err(_) => self.conn = None,
            }
        }
        self.open = false;
    }
}

/// What a clinic-wide lock serialises: the first key of its PostgreSQL advisory lock (the
/// second is the clinic's id), one per kind so that they never wait on each other.
#[derive(Debug, Clone, Copy)]
#[repr(i32)]
pub(crate) enum ClinicLock {
    /// Token creation, whose limits count the clinic's whole day (taken with the day's lock,
    /// `Tx::lock_day`).
    Creates = 0x5174_0001,
    /// "Find my token" link sends, limited per number and day.
    Links = 0x5174_0002,
}

impl Tx {
    /// On PostgreSQL, waits until no other transaction holds the clinic's `lock` and
    /// holds it to the end of this one; SQLite's writer already runs alone.
    pub(crate) async fn serialise_clinic(
        &mut self,
        lock: ClinicLock,
        clinic: crate::domain::ClinicId,
    ) -> Result<(), StorageError> {
        if let Tx::Postgres(t) = self {
            // Both keys are 32-bit; an id past 2^31 shares its lock with a smaller one
            // (more waiting, never less safety).
            sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind(lock as i32)
                .bind(clinic.get() as i32)
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StorageError> {
        match self {
            Tx::Sqlite(tx) => tx.end("COMMIT").await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Ends the transaction writing nothing, before this process's next writer begins
    /// (a dropped transaction rolls back only later, in the background).
    pub async fn rollback(self) -> Result<(), StorageError> {
        match self {
            Tx::Sqlite(tx) => tx.end("ROLLBACK").await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    /// What to put before the next statement so that it also begins the transaction, in
    /// the same trip (SQLite); empty once begun, and always on PostgreSQL, whose
    /// transaction began with `Store::begin`.
    pub(crate) fn begin_with_next(&mut self) -> &'static str {
        match self {
            Tx::Sqlite(tx) => tx.begin_with_next(),
            Tx::Postgres(_) => "",
        }
    }
}

/// Whether a SQLite URL names a database kept in memory (`sqlite::memory:`,
/// `?mode=memory`), which has no file.
fn sqlite_in_memory(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|p| p == "mode=memory")
}

/// Whether a file `create_private_file` finds already there is used or refused.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Existing {
    Use,
    Refuse,
}

/// Creates a missing SQLite file and any missing folders above it, readable by this user
/// only (file 0600, each folder Qline creates 0700): the file holds patients' names and
/// phones. SQLite gives its `-wal` and `-shm` files the database file's mode. An existing
/// file or folder keeps the mode its owner chose.
fn create_private_file(path: &Path, existing: Existing) -> Result<(), StorageError> {
    let mut folders = std::fs::DirBuilder::new();
    folders.recursive(true);
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        folders.mode(0o700);
        file.mode(0o600);
    }
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        folders
            .create(folder)
            .map_err(|source| StorageError::Folder {
                path: folder.display().to_string(),
                source,
            })?;
    }
    match file.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match existing {
            Existing::Use => Ok(()),
            Existing::Refuse => Err(StorageError::BackupExists(path.display().to_string())),
        },
        Err(source) => Err(StorageError::File {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Copies SQLite's write-ahead log back into the database file (a checkpoint) beside the
/// writer, for as long as the database is open. By default each commit that finds the log
/// past 1,000 pages copies it back itself, and every writer queued behind it waits the
/// while (the slowest few in a hundred actions). Here a pool connection copies what the
/// log holds without stopping the writer; then, once the log has grown past
/// `LOG_PAGES_BEFORE_TURN`, holding the writer's turn for a moment, it copies what was
/// written meanwhile, so the whole log is in the database and the next write starts it
/// again from its beginning. A log that stops growing is started again by the next
/// write without that turn, everything in it having been copied. A copy from another
/// connection never blocks, it does what it can (a reader still on old pages holds them
/// back until the next round). Should this fall behind (a server writing flat out), a
/// commit copies the log once it passes `LOG_PAGES_BEFORE_COMMIT_COPIES`: the log stays
/// bounded.
async fn copy_log_back(db: SqliteDb) {
    let mut last = (0, 0);
    while !db.pool.is_closed() {
        // Two rounds beside the writer: the second copies only what was written during
        // the first, so that what is left for the writer's turn is small.
        let mut copied = checkpoint(&db.pool).await;
        if copied.is_some() {
            copied = checkpoint(&db.pool).await;
        }
        // (pages in the log, pages copied), as the last round left them: the same again
        // means nothing was written since. A round that could not copy everything (a
        // reader still on old pages) leaves the rest for the next.
        let written = copied.is_some_and(|(log, done)| log > 0 && (log, done) != last);
        let complete = copied.is_some_and(|(log, done)| done == log);
        let long = copied.is_some_and(|(log, _)| log >= LOG_PAGES_BEFORE_TURN);
        if written && complete && long {
            let _turn = db.writer.lock().await;
            if let Some(now) = checkpoint(&db.pool).await {
                last = now;
            }
        } else if let Some(now) = copied {
            last = now;
        }
        tokio::time::sleep(match copied {
            None => LOG_COPY_AFTER_FAILURE,
            Some(_) if written => LOG_COPY_BUSY,
            Some(_) => LOG_COPY_IDLE,
        })
        .await;
    }
}

/// One passive checkpoint: (pages in the log, pages copied back), or `None` on failure.
async fn checkpoint(pool: &SqlitePool) -> Option<(i64, i64)> {
    match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await
    {
        Ok((_, log, done)) => Some((log, done)),
        Err(e) => {
            if !pool.is_closed() {
                tracing::warn!(error = %e, "copying the write-ahead log back failed");
            }
            None
        }
    }
}

impl Store {
    /// Opens the database at `url`, creating a SQLite file (and its folder) if missing.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(15))
                .foreign_keys(true);
            if !sqlite_in_memory(url) {
                create_private_file(options.get_filename(), Existing::Use)?;
            }
            // An embedded database has no network to fail: a connection is not pinged
            // (one more trip to its thread) each time it is taken from the pool.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(options.clone())
                .await?;
            let db = SqliteDb {
                pool,
                writer: Default::default(),
                options: options.pragma("wal_autocheckpoint", LOG_PAGES_BEFORE_COMMIT_COPIES),
            };
            tokio::spawn(copy_log_back(db.clone()));
            Ok(Store::Sqlite(db))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // A request waits at most this long for a connection: while the database is
            // away, callers get a prompt 503 instead of a hang.
            const TIMEOUT_SECS: u64 = 3;
            // A connection is checked when it goes back to the pool (sqlx pings it then,
            // in the background), not again each time it is taken: that would be one
            // more round trip to the server on every transaction.
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(TIMEOUT_SECS))
                .connect(url)
                .await
                .map_err(|e| match e {
                    sqlx::Error::PoolTimedOut => StorageError::Unreachable(TIMEOUT_SECS),
                    other => StorageError::Sqlx(other),
                })?;
            Ok(Store::Postgres(pool))
        } else {
            Err(StorageError::UnsupportedUrl(url.to_owned()))
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self {
            Store::Sqlite(_) => &SQLITE_MIGRATIONS,
            Store::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies any migrations not yet applied. Safe to run on every start.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        with_pool!(self, pool => self.migrator().run(pool).await?);
        Ok(())
    }

    /// Whether the database answers and every migration this binary knows is applied.
    pub async fn readiness(&self) -> Result<(), String> {
        let applied: Vec<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(pool)
                .await
        })
        .map_err(|e| format!("database unreachable or not migrated: {e}"))?;
        let missing: Vec<i64> = self
            .migrator()
            .iter()
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "migrations not applied: {missing:?}; run `qline migrate`"
            ))
        }
    }

    /// Begins a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a transaction that reads then writes never meets a
    /// stale snapshot; on PostgreSQL, rows are locked as they are read (`FOR UPDATE`).
    pub async fn begin(&self) -> Result<Tx, StorageError> {
        let asked = std::time::Instant::now();
        let tx = match self {
            Store::Sqlite(db) => {
                let mut writer = db.writer.clone().lock_owned().await;
                if writer.open {
                    writer.roll_back().await;
                }
                if writer.conn.is_none() {
                    writer.conn = Some(db.options.connect().await?);
                }
                Tx::Sqlite(SqliteTx {
                    writer: Some(writer),
                })
            }
            Store::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        };
        // The wait for a connection (and on SQLite for the writer's turn).
        metrics::histogram!("qline_db_begin_wait_seconds").record(asked.elapsed().as_secs_f64());
        Ok(tx)
    }

    /// The database connections: open, and of those busy (on SQLite, the pool's and
    /// the writing connection).
    pub fn connections(&self) -> (u32, u32) {
        let (size, idle) = with_pool!(self, pool => (pool.size(), pool.num_idle()));
        let busy = size.saturating_sub(u32::try_from(idle).unwrap_or(u32::MAX));
        match self {
            Store::Sqlite(db) => match db.writer.try_lock() {
                Ok(writer) => (size + u32::from(writer.conn.is_some()), busy),
                Err(_) => (size + 1, busy + 1),
            },
            Store::Postgres(_) => (size, busy),
        }
    }

    pub async fn close(&self) {
        if let Store::Sqlite(db) = self {
            let mut writer = db.writer.lock().await;
            if writer.open {
                writer.roll_back().await;
            }
            if let Some(conn) = writer.conn.take() {
                let _ = conn.close().await;
            }
        }
        with_pool!(self, pool => pool.close().await)
    }

    /// Copies a SQLite database, consistent as of one instant, into the new file `to`
    /// (0600, like the database) while Qline keeps serving: SQLite's `VACUUM INTO` reads
    /// one snapshot and the writers go on. Returns the copy's size in bytes. An existing
    /// file is never overwritten; a copy that fails is removed.
    pub async fn backup_to(&self, to: &Path) -> Result<u64, StorageError> {
        let Store::Sqlite(db) = self else {
            return Err(StorageError::BackupNotSqlite);
        };
        let target = to
            .to_str()
            .ok_or_else(|| StorageError::BackupExists(to.display().to_string()))?;
        create_private_file(to, Existing::Refuse)?;
        let copied = sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&db.pool)
            .await;
        if let Err(e) = copied {
            let _ = std::fs::remove_file(to);
            return Err(e.into());
        }
        std::fs::metadata(to)
            .map(|m| m.len())
            .map_err(|source| StorageError::File {
                path: target.to_owned(),
                source,
            })
    }
}
