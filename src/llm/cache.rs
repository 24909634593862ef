//! The response cache: one SQLite file through sqlx, in WAL mode with a busy timeout so
//! concurrent queries and processes can share it. It maps a column's cache key (hash of
//! provider, model, prompt version and descriptor) to the annotation fields — never a
//! key, a header or a request.

use std::collections::HashMap;
use std::path::Path;

use sqlx::sqlite::SqlitePool;
use sqlx::Row;

/// The pool of the cache file at `path`, opened (and created) on first use.
pub async fn open(path: &Path) -> Result<SqlitePool, String> {
    crate::sqlite::open(
        path,
        "cache",
        &["CREATE TABLE IF NOT EXISTS annotations (key TEXT PRIMARY KEY, value TEXT NOT NULL, model TEXT, created_at INTEGER)"],
    )
    .await
}

/// The cached values of `keys` that exist.
pub async fn get_many(pool: &SqlitePool, keys: &[String]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for chunk in keys.chunks(200) {
        let marks = vec!["?"; chunk.len()].join(",");
        let sql = format!("SELECT key, value FROM annotations WHERE key IN ({marks})");
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q.bind(k);
        }
        let rows = q.fetch_all(pool).await.map_err(|e| format!("cache read: {e}"))?;
        for r in rows {
            let k: String = r.try_get(0).map_err(|e| e.to_string())?;
            let v: String = r.try_get(1).map_err(|e| e.to_string())?;
            out.insert(k, v);
        }
    }
    Ok(out)
}

/// Stores `(key, value)` pairs in one transaction.
pub async fn put_many(pool: &SqlitePool, model: &str, rows: &[(String, String)]) -> Result<(), String> {
    if rows.is_empty() {
        return Ok(());
    }
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let mut tx = pool.begin().await.map_err(|e| format!("cache write: {e}"))?;
    for (k, v) in rows {
        sqlx::query("INSERT OR REPLACE INTO annotations (key, value, model, created_at) VALUES (?, ?, ?, ?)")
            .bind(k)
            .bind(v)
            .bind(model)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| format!("cache write: {e}"))?;
    }
    tx.commit().await.map_err(|e| format!("cache write: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn roundtrip_in_a_fresh_file() {
        let dir = std::env::temp_dir().join(format!("dataraum-cache-test-{}", std::process::id()));
        let path = dir.join("c.sqlite");
        let rt = crate::llm::runtime::runtime().unwrap();
        let got = rt
            .block_on(async {
                let pool = super::open(&path).await?;
                super::put_many(&pool, "m", &[("k1".into(), "{\"a\":1}".into())]).await?;
                super::get_many(&pool, &["k1".into(), "k2".into()]).await
            })
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got["k1"], "{\"a\":1}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
