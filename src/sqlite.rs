//! SQLite files through sqlx, shared by the LLM cache and the context catalog: one pool
//! per file per process, WAL mode and a busy timeout so concurrent queries and processes
//! can share a file, `~/` expanded, `none` meaning "off".

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

static POOLS: Mutex<Vec<(String, SqlitePool)>> = Mutex::new(Vec::new());

/// The file a path setting names, `~/` expanded; `None` when empty or `none`.
pub fn setting_path(p: &str) -> Option<PathBuf> {
    let p = p.trim();
    if p.is_empty() || p.eq_ignore_ascii_case("none") {
        return None;
    }
    if let Some(rest) = p.strip_prefix("~/") {
        let home = std::env::var_os("HOME")?;
        return Some(Path::new(&home).join(rest));
    }
    Some(PathBuf::from(p))
}

/// The pool of the SQLite file at `path`, opened (and created, with `schema` run) on first
/// use. `what` names the file in errors ("cache", "catalog").
pub async fn open(path: &Path, what: &str, schema: &[&str]) -> Result<SqlitePool, String> {
    let name = path.to_string_lossy().into_owned();
    if let Some(p) = POOLS.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|(n, _)| *n == name) {
        return Ok(p.1.clone());
    }
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{what} directory {}: {e}", dir.display()))?;
        }
    }
    let options = SqliteConnectOptions::from_str("sqlite://")
        .map_err(|e| e.to_string())?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .map_err(|e| format!("{what} {}: {e}", path.display()))?;
    for stmt in schema {
        sqlx::query(stmt).execute(&pool).await.map_err(|e| format!("{what} {}: {e}", path.display()))?;
    }
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = pools.iter().find(|(n, _)| *n == name) {
        return Ok(p.1.clone());
    }
    pools.push((name, pool.clone()));
    Ok(pool)
}
