//! The conformance suite (`gannet_frontier::conformance`, with the prepare case) on the
//! Redis backend through the adapter the CLI uses ([`EngineFrontier`]): each case on its own `redis-server`, started on a
//! free loopback port; "reopen after a crash" is the same worker joining again (its
//! earlier run is recovered).

mod common;

use common::RedisServer;
use gannet_frontier::Frontier;
use gannet_frontier::conformance::{Harness, Settings};
use gannet_frontier_redis::{CrawlSettings, EngineFrontier, RedisFrontier, WorkerId};
use std::sync::Arc;

struct Redis {
    server: Option<RedisServer>,
    crawl: u32,
}

impl Redis {
    fn new() -> Redis {
        Redis {
            server: None,
            crawl: 0,
        }
    }

    fn url(&mut self) -> String {
        self.server.get_or_insert_with(RedisServer::start).url()
    }

    async fn open(&mut self) -> Arc<dyn Frontier> {
        let url = self.url();
        let id = format!("c{}", self.crawl);
        let redis = RedisFrontier::join(&url, &id).await.expect("join");
        let worker = WorkerId::new("w1").expect("worker id");
        Arc::new(
            EngineFrontier::open(redis, worker, format!("{url} crawl {id}"))
                .await
                .expect("open"),
        )
    }
}

impl Harness for Redis {
    async fn fresh(&mut self, settings: Settings) -> Arc<dyn Frontier> {
        self.crawl += 1;
        let url = self.url();
        let id = format!("c{}", self.crawl);
        let settings = CrawlSettings {
            max_per_host: settings.max_pages_per_host,
            max_attempts: settings.max_attempts,
            expected_urls: 10_000,
            ..CrawlSettings::default()
        };
        RedisFrontier::create(&url, &id, settings)
            .await
            .expect("create");
        self.open().await
    }

    async fn reopen(&mut self) -> Arc<dyn Frontier> {
        self.open().await
    }
}

gannet_frontier::conformance_tests!(Redis::new(), prepare, shared);
