//! Enqueue: the seen-test, the push and the wake of each shard in one script, and the
//! exact page limit across shards (reserve, push with the budget, settle).

use crate::error::FrontierError;
use crate::frontier::{
    Args, MAX_URL_LEN, RESERVE_ROUNDS, RedisFrontier, SCRIPTS, invoke, random_id,
};
use crate::keys::{crawl_prefix, fingerprint, record, seen_slot, shard_of};
use crate::reply::{self, array, at, int};
use crate::types::{Enqueued, NewUrl};
use std::collections::BTreeMap;
use std::time::Duration;

impl RedisFrontier {
    /// Adds URLs: in each shard one script tests the seen-set, pushes the new URLs to their
    /// host queues and wakes the hosts. With a page limit, budget is reserved first in the
    /// crawl's slot (exact across shards and workers; see the crate docs).
    pub async fn enqueue(&self, urls: &[NewUrl]) -> Result<Enqueued, FrontierError> {
        let mut by_shard: BTreeMap<u16, Vec<Item>> = BTreeMap::new();
        let mut invalid = 0;
        for u in urls {
            let bad = |s: &str| s.len() > MAX_URL_LEN || s.bytes().any(|b| b.is_ascii_control());
            if bad(&u.url)
                || bad(&u.host.0)
                || u.referrer.as_deref().is_some_and(bad)
                || u.url.is_empty()
            {
                invalid += 1;
                continue;
            }
            let (bucket, field) = seen_slot(fingerprint(&u.url), self.buckets);
            by_shard.entry(shard_of(&u.host.0)).or_default().push(Item {
                host: u.host.0.clone(),
                bucket,
                field,
                record: record(&u.url, u.depth, u.referrer.as_deref()),
            });
        }
        let mut total = Enqueued {
            invalid,
            ..Enqueued::default()
        };
        let Some(limit) = self.settings.page_limit else {
            let jobs: Vec<(u16, Vec<Item>, i64)> = by_shard
                .into_iter()
                .map(|(s, items)| (s, items, -1))
                .collect();
            let (mut sum, _) = self.push(jobs, "").await?;
            sum.invalid = invalid;
            return Ok(sum);
        };
        // Probe first, so that reservations cover only URLs that look new.
        let probed = self
            .fan_out(
                by_shard.into_iter().collect(),
                |(shard, items)| async move {
                    let mut args = Args::default();
                    for it in &items {
                        args.n(it.bucket).b(&it.field);
                    }
                    let v = self.call(&SCRIPTS.probe, shard, &args).await?;
                    let seen = array(&v)?;
                    let mut fresh = Vec::new();
                    let mut dups = 0;
                    for (i, it) in items.into_iter().enumerate() {
                        if int(at(seen, i)?)? == 1 {
                            dups += 1;
                        } else {
                            fresh.push(it);
                        }
                    }
                    Ok((shard, fresh, dups))
                },
            )
            .await?;
        let mut pending: BTreeMap<u16, Vec<Item>> = BTreeMap::new();
        for (shard, fresh, dups) in probed {
            total.duplicates += dups;
            if !fresh.is_empty() {
                pending.insert(shard, fresh);
            }
        }
        let prefix = crawl_prefix(&self.crawl);
        for round in 0..RESERVE_ROUNDS {
            let want: usize = pending.values().map(Vec::len).sum();
            if want == 0 {
                break;
            }
            let id = random_id();
            let mut args = Args::default();
            args.s(&id).n(want).n(limit);
            let v = invoke(&mut self.conn.clone(), &SCRIPTS.reserve, &prefix, &args).await?;
            let a = array(&v)?;
            let (granted, others) = (int(at(a, 0)?)?.max(0) as usize, int(at(a, 1)?)?);
            let mut budget = granted;
            let mut jobs = Vec::new();
            let mut left: BTreeMap<u16, Vec<Item>> = BTreeMap::new();
            for (shard, items) in std::mem::take(&mut pending) {
                let give = budget.min(items.len());
                budget -= give;
                if give == 0 {
                    left.insert(shard, items);
                } else {
                    jobs.push((shard, items, give as i64));
                }
            }
            // A failed push leaves its reservation outstanding (the limit may then be
            // undershot, never overshot).
            let (sum, over) = self.push(jobs, &id).await?;
            let mut args = Args::default();
            args.s(&id).n(sum.added);
            invoke(&mut self.conn.clone(), &SCRIPTS.settle, &prefix, &args).await?;
            total.added += sum.added;
            total.duplicates += sum.duplicates;
            total.host_capped += sum.host_capped;
            for (shard, items) in over {
                left.entry(shard).or_default().extend(items);
            }
            pending = left;
            if pending.is_empty() {
                break;
            }
            if others == 0 && granted == 0 {
                // The limit is reached and nobody holds budget that could come back.
                break;
            }
            if others > 0 {
                tokio::time::sleep(Duration::from_millis(1 + u64::from(round.min(20)))).await;
            }
        }
        total.over_limit += pending.values().map(|v| v.len() as u64).sum::<u64>();
        Ok(total)
    }

    /// Runs ENQUEUE on shards; returns the sums and, per shard, the items refused for
    /// lack of budget.
    async fn push(
        &self,
        jobs: Vec<(u16, Vec<Item>, i64)>,
        request: &str,
    ) -> Result<(Enqueued, Vec<(u16, Vec<Item>)>), FrontierError> {
        let maxh = self
            .settings
            .max_per_host
            .map_or(-1, |v| v.min(i64::MAX as u64) as i64);
        let results = self
            .fan_out(jobs, |(shard, items, budget)| async move {
                let mut args = Args::default();
                args.n(budget).n(maxh).s(request);
                for it in &items {
                    args.s(&it.host).n(it.bucket).b(&it.field).s(&it.record);
                }
                let v = self.call(&SCRIPTS.enqueue, shard, &args).await?;
                let a = array(&v)?;
                let sum = Enqueued {
                    added: int(at(a, 0)?)? as u64,
                    duplicates: int(at(a, 1)?)? as u64,
                    host_capped: int(at(a, 2)?)? as u64,
                    over_limit: 0,
                    invalid: 0,
                };
                let hint = reply::hint(shard, at(a, 3)?)?;
                let mut over = Vec::new();
                let refused: Vec<usize> = array(at(a, 4)?)?
                    .iter()
                    .map(|v| int(v).map(|i| i as usize))
                    .collect::<Result<_, _>>()?;
                let mut items: Vec<Option<Item>> = items.into_iter().map(Some).collect();
                for i in refused {
                    if let Some(it) = items.get_mut(i).and_then(Option::take) {
                        over.push(it);
                    }
                }
                Ok((shard, sum, hint, over))
            })
            .await?;
        let mut total = Enqueued::default();
        let mut hints = Vec::new();
        let mut over = Vec::new();
        for (shard, sum, hint, refused) in results {
            total.added += sum.added;
            total.duplicates += sum.duplicates;
            total.host_capped += sum.host_capped;
            hints.push(hint);
            if !refused.is_empty() {
                over.push((shard, refused));
            }
        }
        self.apply_hints(&hints).await?;
        Ok((total, over))
    }
}

/// A URL on its way into a shard.
struct Item {
    host: String,
    bucket: u16,
    field: [u8; 7],
    record: String,
}
