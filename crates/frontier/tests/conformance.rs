//! The conformance suite (`gannet_frontier::conformance`) on the embedded SQLite backend,
//! each case in its own state directory.

use gannet_frontier::conformance::{Harness, Settings};
use gannet_frontier::{Frontier, SqliteFrontier, StoreConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

struct Sqlite {
    dir: PathBuf,
    config: StoreConfig,
}

impl Sqlite {
    fn new() -> Sqlite {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "gannet-conformance-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        Sqlite {
            dir,
            config: StoreConfig::default(),
        }
    }

    fn open(&self) -> Arc<dyn Frontier> {
        Arc::new(SqliteFrontier::open(&self.dir, self.config).expect("open the frontier"))
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Harness for Sqlite {
    async fn fresh(&mut self, settings: Settings) -> Arc<dyn Frontier> {
        let _ = std::fs::remove_dir_all(&self.dir);
        std::fs::create_dir_all(&self.dir).expect("create the state directory");
        self.config = StoreConfig {
            max_pages_per_host: settings.max_pages_per_host,
            max_attempts: settings.max_attempts,
            ..StoreConfig::default()
        };
        self.open()
    }

    async fn reopen(&mut self) -> Arc<dyn Frontier> {
        self.open()
    }
}

gannet_frontier::conformance_tests!(Sqlite::new(), prepare);
