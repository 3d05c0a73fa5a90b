//! Does the frontier's cost per URL stay flat as it grows? One crawl step — lease a due
//! host, take 64 of its URLs, commit them done with 10 new links each (640 inserts into
//! the seen-set, half of them already known) — timed on frontiers holding 10^3, 10^5 and
//! 10^6 URLs over 1,000 hosts. Flat means the three figures match.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gannet_frontier::{
    Checkpoint, CommitBatch, Frontier, NewUrl, PageUpdate, SqliteFrontier, StoreConfig, UrlState,
    canonicalize_str,
};
use std::hint::black_box;
use std::time::Duration;

/// The embedded frontier's futures are ready at the first poll: a current-thread runtime
/// adds nothing measurable around them.
fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn url(host: u64, path: u64) -> NewUrl {
    NewUrl {
        url: canonicalize_str(&format!("http://h{host}.example/p/{path}")).expect("bench URL"),
        depth: 1,
        referrer: None,
    }
}

fn filled(total: u64) -> SqliteFrontier {
    let f = SqliteFrontier::open_in_memory(StoreConfig::default()).expect("open frontier");
    let hosts = 1_000;
    let per_batch = 10_000;
    let mut next = 0;
    while next < total {
        let batch: Vec<NewUrl> = (next..(next + per_batch).min(total))
            .map(|i| url(i % hosts, i / hosts))
            .collect();
        block_on(f.enqueue(&batch)).expect("fill");
        next += per_batch;
    }
    f
}

fn step(f: &SqliteFrontier, round: &mut u64) {
    block_on(step_async(f, round));
}

async fn step_async(f: &SqliteFrontier, round: &mut u64) {
    let Some(host) = f.claim_hosts(1).await.expect("due").into_iter().next() else {
        return;
    };
    let taken = f.take(&host, 64).await.expect("take");
    let pages = taken
        .iter()
        .map(|c| PageUpdate {
            key: c.key,
            lease: c.lease,
            state: UrlState::Done,
            status: 200,
            reason: None,
            etag: None,
            last_modified: None,
        })
        .collect();
    // Half the links are new (fresh paths), half are known (already queued).
    let links = (0..640)
        .map(|i| {
            if i % 2 == 0 {
                url(*round % 1_000, 10_000_000 + *round * 640 + i)
            } else {
                url(i % 1_000, i / 1_000)
            }
        })
        .collect();
    f.commit(&CommitBatch {
        pages,
        links,
        checkpoint: Some(Checkpoint::new(round.to_string())),
    })
    .await
    .expect("commit");
    f.release(host, Duration::ZERO).await.expect("release");
    *round += 1;
}

fn frontier_growth(c: &mut Criterion) {
    let mut group = c.benchmark_group("crawl_step");
    group.sample_size(20);
    for size in [1_000u64, 100_000, 1_000_000] {
        let frontier = filled(size);
        let mut round = 0;
        group.bench_function(format!("{size}_urls"), |b| {
            b.iter_batched(
                || (),
                |()| step(black_box(&frontier), &mut round),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, frontier_growth);
criterion_main!(benches);
