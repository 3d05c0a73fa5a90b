//! The conformance suite of `gannet_frontier` (the same cases the embedded SQLite frontier
//! passes) on the Redis backend: one real `redis-server` per case, a fresh crawl id per
//! `fresh`, and `reopen` as the same worker restarted after a `kill -9`.

mod common;

use common::RedisServer;
use gannet_frontier::Frontier;
use gannet_frontier::conformance::{Harness, Settings};
use gannet_frontier_redis::{CrawlSettings, RedisBackend, RedisFrontier, WorkerId};
use std::sync::Arc;
use std::time::Duration;

struct Redis {
    server: RedisServer,
    crawl: u32,
}

impl Redis {
    fn new() -> Redis {
        Redis {
            server: RedisServer::start(),
            crawl: 0,
        }
    }

    async fn open(&self) -> Arc<dyn Frontier> {
        let url = self.server.url();
        let frontier = RedisFrontier::join(&url, &format!("c{}", self.crawl))
            .await
            .expect("join");
        let worker = WorkerId::new("w1").expect("worker id");
        Arc::new(
            RedisBackend::new(frontier, worker, &url)
                .await
                .expect("backend"),
        )
    }
}

impl Harness for Redis {
    async fn fresh(&mut self, settings: Settings) -> Arc<dyn Frontier> {
        self.crawl += 1;
        let s = CrawlSettings {
            max_per_host: settings.max_pages_per_host,
            max_attempts: settings.max_attempts,
            lease: Duration::from_secs(30),
            expected_urls: 10_000,
            ..CrawlSettings::default()
        };
        RedisFrontier::create(&self.server.url(), &format!("c{}", self.crawl), s)
            .await
            .expect("create");
        self.open().await
    }

    async fn reopen(&mut self) -> Arc<dyn Frontier> {
        self.open().await
    }
}

gannet_frontier::conformance_tests!(Redis::new());
