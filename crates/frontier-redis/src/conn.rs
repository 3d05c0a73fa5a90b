//! One connection type over a single Redis (a `ConnectionManager`, which reconnects in
//! the background) and a Redis Cluster (`ClusterConnection`, which follows MOVED/ASK and
//! re-sends after a reconnect). Both are multiplexed: clones share one socket per node.

use crate::error::FrontierError;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use std::time::Duration;

/// How long one command (one Lua script) may take before the call fails as retryable.
/// redis-rs' default (500 ms) is too short for a claim over many hosts on a busy server.
pub(crate) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the frontier lives, parsed from the `--redis` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One server: `redis://host:port[/db]` (or `rediss://`, `unix://`).
    Single(String),
    /// A Redis Cluster, from seed nodes: `redis+cluster://host:port[,host:port...]`.
    Cluster(Vec<String>),
}

impl RedisTarget {
    /// Parses `redis://...` (one server) or `redis+cluster://h1:p1,h2:p2` (a cluster; any
    /// subset of its nodes as seeds). `rediss+cluster://` seeds use TLS.
    pub fn parse(url: &str) -> Result<RedisTarget, FrontierError> {
        let url = url.trim();
        for (prefix, scheme) in [
            ("redis+cluster://", "redis"),
            ("rediss+cluster://", "rediss"),
        ] {
            if let Some(rest) = url.strip_prefix(prefix) {
                let (auth, hosts) = match rest.rsplit_once('@') {
                    Some((auth, hosts)) => (format!("{auth}@"), hosts),
                    None => (String::new(), rest),
                };
                let hosts = hosts.trim_end_matches('/');
                let seeds: Vec<String> = hosts
                    .split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(|h| format!("{scheme}://{auth}{h}"))
                    .collect();
                if seeds.is_empty() {
                    return Err(FrontierError::invalid(
                        "Redis URL",
                        "a cluster URL needs at least one host:port",
                    ));
                }
                return Ok(RedisTarget::Cluster(seeds));
            }
        }
        if ["redis://", "rediss://", "unix://", "redis+unix://"]
            .iter()
            .any(|p| url.starts_with(p))
        {
            Ok(RedisTarget::Single(url.to_string()))
        } else {
            Err(FrontierError::invalid(
                "Redis URL",
                format!(
                    "`{url}`: expected redis://host:port or redis+cluster://host:port,host:port"
                ),
            ))
        }
    }
}

/// A connection to a single server or a cluster.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    pub(crate) async fn open(target: &RedisTarget) -> Result<Conn, FrontierError> {
        match target {
            RedisTarget::Single(url) => {
                let client = redis::Client::open(url.as_str())
                    .map_err(|e| FrontierError::invalid("Redis URL", e.to_string()))?;
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_number_of_retries(3)
                    .set_max_delay(Duration::from_secs(2));
                let manager = ConnectionManager::new_with_config(client, config).await?;
                Ok(Conn::Single(manager))
            }
            RedisTarget::Cluster(seeds) => {
                let client = ClusterClientBuilder::new(seeds.iter().map(String::as_str))
                    .response_timeout(RESPONSE_TIMEOUT)
                    .connection_timeout(CONNECT_TIMEOUT)
                    .retries(6)
                    .build()
                    .map_err(|e| FrontierError::invalid("Redis URL", e.to_string()))?;
                let conn = client.get_async_connection().await?;
                Ok(Conn::Cluster(conn))
            }
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// Refuses a server that may evict keys. Asks every seed (cluster) or the server, through
/// `INFO memory` (allowed where `CONFIG` is not, e.g. managed services).
pub(crate) async fn check_eviction_policy(target: &RedisTarget) -> Result<(), FrontierError> {
    let urls: Vec<&str> = match target {
        RedisTarget::Single(url) => vec![url.as_str()],
        RedisTarget::Cluster(seeds) => seeds.iter().map(String::as_str).collect(),
    };
    for url in urls {
        let client = redis::Client::open(url)
            .map_err(|e| FrontierError::invalid("Redis URL", e.to_string()))?;
        let mut conn = client
            .get_multiplexed_async_connection_with_config(
                &redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT)),
            )
            .await?;
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query_async(&mut conn)
            .await?;
        let policy = info
            .lines()
            .find_map(|l| l.strip_prefix("maxmemory_policy:"))
            .map(str::trim)
            .ok_or_else(|| FrontierError::reply("INFO memory has no maxmemory_policy"))?;
        if policy != "noeviction" {
            return Err(FrontierError::EvictionPolicy {
                policy: policy.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        assert_eq!(
            RedisTarget::parse("redis://127.0.0.1:6379/2").ok(),
            Some(RedisTarget::Single("redis://127.0.0.1:6379/2".into()))
        );
        assert_eq!(
            RedisTarget::parse("redis+cluster://a:1, b:2,").ok(),
            Some(RedisTarget::Cluster(vec![
                "redis://a:1".into(),
                "redis://b:2".into()
            ]))
        );
        assert_eq!(
            RedisTarget::parse("redis+cluster://user:pw@a:1,b:2").ok(),
            Some(RedisTarget::Cluster(vec![
                "redis://user:pw@a:1".into(),
                "redis://user:pw@b:2".into()
            ]))
        );
        assert!(RedisTarget::parse("http://a:1").is_err());
        assert!(RedisTarget::parse("redis+cluster://").is_err());
    }
}
